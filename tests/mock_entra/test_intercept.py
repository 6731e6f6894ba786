"""The in-process interceptor: an unmodified MSAL app using the production authority works
offline (discovery, token endpoint, Graph)."""

from __future__ import annotations

import msal
import requests

from mock_entra.core.config import DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI

from .conftest import ADELE, CLIENT_ID, TENANT

AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"


def test_client_credentials_with_the_production_authority(mock_entra_intercept):
    app = msal.ConfidentialClientApplication(
        CLIENT_ID, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET
    )
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    user = requests.get(
        "https://graph.microsoft.com/v1.0/users/adele@contoso.onmicrosoft.com",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        timeout=5,
    )
    assert user.json()["displayName"] == "Adele Vance"
    paths = [r["path"] for r in mock_entra_intercept.requests()]
    assert f"/{TENANT}/v2.0/.well-known/openid-configuration" in paths
    assert f"/{TENANT}/oauth2/v2.0/token" in paths


def test_auth_code_flow_silent_refresh_and_graph_offline(mock_entra_intercept):
    app = msal.ConfidentialClientApplication(
        CLIENT_ID, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET
    )
    flow = app.initiate_auth_code_flow(
        ["User.Read"], redirect_uri=DEFAULT_REDIRECT_URI, response_mode="query"
    )
    redirect_params = mock_entra_intercept.sign_in(flow["auth_uri"], *ADELE)
    result = app.acquire_token_by_auth_code_flow(flow, redirect_params)
    assert "access_token" in result, result
    assert result["id_token_claims"]["iss"] == f"https://login.microsoftonline.com/{TENANT}/v2.0"
    (account,) = app.get_accounts()
    assert account["home_account_id"] == f"{result['id_token_claims']['oid']}.{TENANT}"
    assert account["environment"] == "login.microsoftonline.com"
    refreshed = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert refreshed and refreshed["token_source"] == "identity_provider"
    me = requests.get(
        "https://graph.microsoft.com/v1.0/me",
        timeout=5,
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
    )
    assert me.json()["userPrincipalName"] == ADELE[0]
    grants = [
        r["form"].get("grant_type")
        for r in mock_entra_intercept.requests()
        if r["path"].endswith("/oauth2/v2.0/token")
    ]
    assert grants == [["authorization_code"], ["refresh_token"]]


def test_unmatched_hosts_are_not_intercepted(mock_entra_intercept):
    try:
        requests.get("https://example.com/", timeout=5)
    except requests.ConnectionError as exc:
        assert "example.com" in str(exc)
    else:
        raise AssertionError("a request escaped the interceptor")


def test_every_method_reaches_the_mock_graph(mock_entra_intercept):
    app = msal.ConfidentialClientApplication(
        CLIENT_ID, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET
    )
    token = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])["access_token"]
    me = "https://graph.microsoft.com/v1.0/users/adele@contoso.onmicrosoft.com"
    for method in ("PATCH", "PUT", "DELETE"):
        response = requests.request(
            method,
            me,
            json={"jobTitle": "x"} if method != "DELETE" else None,
            headers={"Authorization": f"Bearer {token}", "client-request-id": method},
            timeout=5,
        )
        # The mock's own answer (Graph's error JSON and headers), not a refused connection.
        assert response.status_code == 405, (method, response.text)
        assert response.json()["error"]["code"] == "Request_BadRequest"
        assert response.headers["client-request-id"] == method
    head = requests.head(me, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert "request-id" in head.headers  # answered by the mock's Graph
    methods = [r.method for r in mock_entra_intercept.calls if r.url == me]
    assert methods == ["PATCH", "PUT", "DELETE", "HEAD"]


def test_the_example_configs_groups_manager_and_photo_are_served_by_graph(state_dir):
    from pathlib import Path

    from mock_entra.core.config.load import load_config
    from mock_entra.intercept import MockEntraInterceptor

    config = load_config(Path(__file__).parents[2] / "examples" / "mock-entra.toml")
    fabrikam = config.default_tenant
    web = fabrikam.apps[0]
    with MockEntraInterceptor(config, state_dir=state_dir) as mock:
        app = msal.ConfidentialClientApplication(
            web.client_id, authority=mock.authority, client_credential=web.client_secrets[0]
        )
        token = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        diego = "https://graph.microsoft.com/v1.0/users/diego@fabrikam.onmicrosoft.com"

        def get(path: str) -> requests.Response:
            return requests.get(diego + path, headers=headers, timeout=5)

        assert get("/manager").json()["userPrincipalName"] == "alex@fabrikam.onmicrosoft.com"
        marketing, everyone = (g.object_id for g in fabrikam.groups)
        direct = get("/memberOf").json()["value"]
        assert [g["id"] for g in direct] == [marketing]
        # User.Read.All without a group permission: Graph's "limited information" objects.
        assert direct[0]["@odata.type"] == "#microsoft.graph.group"
        assert direct[0]["displayName"] is None
        transitive = get("/transitiveMemberOf").json()["value"]
        assert [g["id"] for g in transitive] == [marketing, everyone]
        photo = get("/photo/$value")
        assert photo.status_code == 404 and photo.json()["error"]["code"] == "ImageNotFound"
