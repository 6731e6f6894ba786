"""Personal Microsoft accounts: the users of the tenant `9188040d-6c67-4c5b-b112-36a304b66dad`
sign in through `/consumers` to apps whose sign_in_audience allows them, and get tokens in
that tenant's shape (Learn, "ID token claims reference": `iss`, `tid`); work accounts are
refused there, personal accounts everywhere else. MSAL Python and PyJWT are the judges."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import jwt
import msal
import pytest
import requests

from mock_entra.core.clock import FixedClock
from mock_entra.core.config import DEFAULT_CONFIG, PERSONAL_TENANT_ID, AppRegistration
from mock_entra.intercept import MockEntraInterceptor
from mock_entra.pytest_plugin import copy_keys

from .conftest import ADELE

HOST = "https://login.microsoftonline.com"
CONSUMERS = f"{HOST}/consumers"
BOTH = "3c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
SECRET = "personal-test-secret"
REDIRECT = "http://localhost:5000/getAToken"
ALEX = ("alex.personal@outlook.com", "Passw0rd!1")


def _config():
    work, personal = DEFAULT_CONFIG.tenants
    both = AppRegistration(
        client_id=BOTH,
        display_name="Work and personal",
        client_secrets=(SECRET,),
        redirect_uris=(REDIRECT,),
        sign_in_audience="AzureADandPersonalMicrosoftAccount",
        require_consent=False,
    )
    work = dataclasses.replace(work, apps=(*work.apps, both))
    return dataclasses.replace(DEFAULT_CONFIG, tenants=(work, personal))


@pytest.fixture(scope="module")
def mock(tmp_path_factory, key_template) -> Iterator[MockEntraInterceptor]:
    state = copy_keys(key_template, tmp_path_factory.mktemp("personal") / "state")
    with MockEntraInterceptor(_config(), state_dir=state, clock=FixedClock()) as interceptor:
        yield interceptor


def msal_app(authority: str) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(BOTH, authority=authority, client_credential=SECRET)


def sign_in(mock, authority: str, user) -> dict:
    app = msal_app(authority)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode="query")
    return app.acquire_token_by_auth_code_flow(flow, mock.sign_in(flow["auth_uri"], *user))


def test_default_config_has_a_personal_account():
    personal = DEFAULT_CONFIG.personal_tenant
    assert personal is not None and personal.tenant_id == PERSONAL_TENANT_ID
    alex = personal.user_by_username(ALEX[0])
    assert alex is not None and alex.object_id.startswith("00000000-0000-0000-")


def test_a_personal_account_signs_in_at_consumers_in_the_personal_tenants_shape(mock):
    result = sign_in(mock, CONSUMERS, ALEX)
    assert "id_token" in result, result
    discovery = requests.get(f"{CONSUMERS}/v2.0/.well-known/openid-configuration", timeout=5)
    issuer = discovery.json()["issuer"]
    assert issuer == f"{HOST}/{PERSONAL_TENANT_ID}/v2.0"
    jwks = jwt.PyJWKSet.from_dict(requests.get(discovery.json()["jwks_uri"], timeout=5).json())
    kid = jwt.get_unverified_header(result["id_token"])["kid"]
    claims = jwt.decode(
        result["id_token"],
        jwks[kid].key,
        algorithms=["RS256"],
        audience=BOTH,
        issuer=issuer,
        leeway=120,
    )
    alex = DEFAULT_CONFIG.personal_tenant.user_by_username(ALEX[0])
    assert claims["tid"] == PERSONAL_TENANT_ID and claims["oid"] == alex.object_id
    assert claims["preferred_username"] == ALEX[0]
    raw = result["client_info"]
    info = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    assert info == {"uid": alex.object_id, "utid": PERSONAL_TENANT_ID}
    # MSAL files the account under the personal tenant, as with a real consumer sign-in.
    assert result["id_token_claims"]["tid"] == PERSONAL_TENANT_ID


def _username_error(mock, segment: str, username: str) -> str:
    """The username page's error for `username` at `/{segment}` (the page Entra shows)."""
    app = msal_app(f"{HOST}/{segment}")
    uri = urlsplit(app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)["auth_uri"])
    client = mock.app.test_client()
    page = client.get(uri.path, base_url=HOST, query_string=uri.query).get_data(as_text=True)
    ctx = re.search(r'name="ctx" value="([^"]+)"', page).group(1)
    answer = client.post(
        f"/{segment}/login",
        base_url=HOST,
        data={"ctx": ctx, "step": "username", "loginfmt": username},
    ).get_data(as_text=True)
    assert 'id="usernameError"' in answer and 'name="step" value="password"' not in answer
    return answer


def test_a_personal_account_is_refused_at_organizations(mock):
    assert "with a personal account" in _username_error(mock, "organizations", ALEX[0])


def test_a_work_account_is_still_refused_at_consumers(mock):
    assert "work or school account" in _username_error(mock, "consumers", ADELE[0])


def test_a_work_only_app_is_still_refused_at_consumers(mock):
    app = msal.ConfidentialClientApplication(
        DEFAULT_CONFIG.default_tenant.apps[0].client_id,
        authority=CONSUMERS,
        client_credential="entra-lab~local-demo-secret",
    )
    result = app.acquire_token_by_refresh_token("x", ["User.Read"])
    assert result.get("error_codes") == [9002332]


def test_a_work_account_signs_in_at_organizations_as_before(mock):
    result = sign_in(mock, f"{HOST}/organizations", ADELE)
    assert result["id_token_claims"]["tid"] == DEFAULT_CONFIG.default_tenant.tenant_id


def _graph(result: dict, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {result['access_token']}"}
    return requests.request(
        method, f"https://graph.microsoft.com/v1.0{path}", headers=headers, timeout=5, **kwargs
    )


def test_graph_names_a_personal_account_by_its_cid_and_gives_no_mail(mock):
    """Graph's `/me` for a personal account: a 16-hex `id` (the CID) and `"mail": null`
    (OfficeDev/outlook-dev-docs#918, O365/python-o365#508); the ID token's `oid` is that CID
    as `00000000-0000-0000-xxxx-xxxxxxxxxxxx` (MSAL.NET's MsaPlugin.TryConvertCidToGuid)."""
    result = sign_in(mock, CONSUMERS, ALEX)
    me = _graph(result, "GET", "/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert re.fullmatch(r"[0-9a-f]{16}", body["id"]), body
    assert body["mail"] is None and body["userPrincipalName"] == ALEX[0]
    oid = result["id_token_claims"]["oid"]
    assert oid == f"00000000-0000-0000-{body['id'][:4]}-{body['id'][4:]}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/me/getMemberObjects"),
        ("POST", "/me/getMemberGroups"),
        ("GET", "/me/memberOf"),
        ("GET", "/me/manager"),
    ],
)
def test_directory_calls_are_not_supported_for_a_personal_account(mock, method, path):
    """Graph's permission tables: "Delegated (personal Microsoft account): Not supported";
    Graph answers a 404 with an empty code (microsoftgraph/microsoft-graph-explorer-v4#1134)."""
    result = sign_in(mock, CONSUMERS, ALEX)
    answer = _graph(result, method, path, json={"securityEnabledOnly": False})
    assert answer.status_code == 404, answer.text
    error = answer.json()["error"]
    assert error["code"] == "" and "No HTTP resource was found" in error["message"]


def test_a_personal_accounts_graph_token_is_not_a_jwt_and_graph_reads_it(mock):
    """Graph access tokens for personal accounts are opaque compact tickets ("EwB..."), not
    JWTs (microsoftgraph/msgraph-metadata#541): an app cannot decode them; Graph reads them."""
    result = sign_in(mock, CONSUMERS, ALEX)
    token = result["access_token"]
    assert token.startswith("EwB") and "." not in token
    with pytest.raises(jwt.DecodeError):
        jwt.get_unverified_header(token)
    assert _graph(result, "GET", "/me").status_code == 200
    # A work account's Graph token stays a JWT.
    work = sign_in(mock, f"{HOST}/organizations", ADELE)
    assert jwt.get_unverified_header(work["access_token"])["alg"] == "RS256"
