"""The refresh-token and client-credentials grants."""

from __future__ import annotations

import dataclasses
import re

import pytest

from mock_entra.core.config import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_CONFIG,
    GRAPH_RESOURCE,
    MockConfig,
    OptionalClaims,
)
from mock_entra.intercept import MockEntraInterceptor

from .conftest import (
    ADELE,
    BASE,
    CLIENT_ID,
    SECRET,
    TENANT,
    assert_entra_error,
    claims_of,
    get_code,
    new_flow,
    redeem,
)


def refresh(
    client, token: str, scope: str = "User.Read offline_access openid profile", **extra: str
):
    data = {
        "client_id": CLIENT_ID,
        "grant_type": "refresh_token",
        "client_info": "1",
        "client_secret": SECRET,
        "refresh_token": token,
        "scope": scope,
        **extra,
    }
    return client.post(f"/{TENANT}/oauth2/v2.0/token", data=data, base_url=BASE)


def first_tokens(interceptor, client) -> dict:
    flow = new_flow()
    return redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()


def test_refresh_returns_a_new_refresh_token_and_keeps_the_old_one_valid(interceptor, client):
    tokens = first_tokens(interceptor, client)
    response = refresh(client, tokens["refresh_token"])
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["refresh_token"] != tokens["refresh_token"]
    assert claims_of(body["id_token"])["oid"] == claims_of(tokens["id_token"])["oid"]
    assert "nonce" not in claims_of(body["id_token"])
    assert refresh(client, tokens["refresh_token"]).status_code == 200  # Entra doesn't revoke


def test_refresh_for_unconsented_scopes_is_refused_with_aadsts65001(interceptor, client):
    tokens = first_tokens(interceptor, client)
    body = assert_entra_error(
        refresh(client, tokens["refresh_token"], scope="Mail.Read openid"),
        400,
        "invalid_grant",
        65001,
    )
    assert body["suberror"] == "consent_required"


def test_refresh_after_ninety_days_of_inactivity_is_refused(interceptor, client, clock):
    tokens = first_tokens(interceptor, client)
    clock.advance(91 * 24 * 3600)
    body = assert_entra_error(
        refresh(client, tokens["refresh_token"]), 400, "invalid_grant", 700082
    )
    # As captured from Entra: "The token was issued on 2021-02-20T02:58:17.0350262Z and was
    # inactive for 90.00:00:00."
    assert re.search(
        r"issued on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z and was inactive for 90\.00:00:00\.",
        body["error_description"],
    ), body["error_description"]


def test_garbage_refresh_token_is_bad_token(client):
    body = assert_entra_error(refresh(client, "garbage"), 400, "invalid_grant", 9002313)
    assert body["suberror"] == "bad_token"


def credentials(client, scope: str, secret: str = SECRET):
    return client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        base_url=BASE,
        data={
            "client_id": CLIENT_ID,
            "client_secret": secret,
            "grant_type": "client_credentials",
            "scope": scope,
        },
    )


def test_client_credentials_for_graph_carry_app_roles(client):
    response = credentials(client, f"{GRAPH_RESOURCE}/.default")
    body = response.get_json()
    assert response.status_code == 200
    assert list(body) == ["token_type", "expires_in", "ext_expires_in", "access_token"]
    claims = claims_of(body["access_token"])
    assert claims["aud"] == GRAPH_RESOURCE and claims["idtyp"] == "app"
    assert claims["roles"] == ["User.Read.All"] and "scp" not in claims
    assert claims["iss"] == f"https://sts.windows.net/{TENANT}/"


def test_client_credentials_for_a_configured_api_are_v2_tokens(client):
    claims = claims_of(
        credentials(client, "api://entra-lab-api/.default").get_json()["access_token"]
    )
    assert claims["aud"] == DEFAULT_API_CLIENT_ID and claims["ver"] == "2.0"
    assert claims["iss"] == f"{BASE}/{TENANT}/v2.0" and claims["roles"] == ["Forecast.Read.All"]
    # `idtyp` is an optional claim the API must configure (Learn, optional claims reference).
    assert "idtyp" not in claims


def test_an_api_that_configures_idtyp_gets_it_in_app_only_tokens(state_dir, clock):
    import dataclasses

    from mock_entra.core.config import DEFAULT_CONFIG, OptionalClaims
    from mock_entra.intercept import MockEntraInterceptor

    tenant = DEFAULT_CONFIG.default_tenant
    apps = tuple(
        dataclasses.replace(a, optional_claims=OptionalClaims(access_token=("idtyp",)))
        if a.client_id == DEFAULT_API_CLIENT_ID
        else a
        for a in tenant.apps
    )
    tenants = (dataclasses.replace(tenant, apps=apps), *DEFAULT_CONFIG.tenants[1:])
    config = dataclasses.replace(DEFAULT_CONFIG, tenants=tenants)
    mock = MockEntraInterceptor(config, state_dir=state_dir, clock=clock)
    try:
        answer = credentials(mock.app.test_client(), "api://entra-lab-api/.default")
        assert claims_of(answer.get_json()["access_token"])["idtyp"] == "app"
    finally:
        mock.stop()


@pytest.mark.parametrize("version", [None, 2])  # the API's v1.0 (default) or v2.0 tokens
def test_an_api_gets_tenant_region_scope_only_when_it_configures_it(state_dir, clock, version):
    # `tenant_region_scope` is an optional claim the resource configures (Learn, "Optional
    # claims reference"); Graph's tokens carry it, an API's v1.0 app-only tokens did too.
    def tokens(*optional: str) -> list[dict]:
        """Claims of the API's app-only and delegated tokens, and of Graph's app-only one."""
        config = _with_api(
            access_token_accepted_version=version,
            optional_claims=OptionalClaims(access_token=optional),  # type: ignore[arg-type]
        )
        mock = MockEntraInterceptor(config, state_dir=state_dir, clock=clock)
        try:
            client = mock.app.test_client()
            answers = [
                credentials(client, "api://entra-lab-api/.default"),
                client.post(
                    f"/{TENANT}/oauth2/v2.0/token",
                    base_url=BASE,
                    data={
                        "grant_type": "password",
                        "client_id": CLIENT_ID,
                        "client_secret": SECRET,
                        "username": ADELE[0],
                        "password": ADELE[1],
                        "scope": "api://entra-lab-api/Forecast.Read",
                    },
                ),
                credentials(client, f"{GRAPH_RESOURCE}/.default"),
            ]
            return [claims_of(a.get_json()["access_token"]) for a in answers]
        finally:
            mock.stop()

    api_only, api_user, graph = tokens()
    assert "tenant_region_scope" not in api_only and "tenant_region_scope" not in api_user
    assert graph["tenant_region_scope"] == "WW"
    api_only, api_user, _ = tokens("tenant_region_scope")
    assert api_only["tenant_region_scope"] == api_user["tenant_region_scope"] == "WW"


def _with_api(**changes) -> MockConfig:
    """The default config with the sample API changed, and the web app needing no consent for
    it (a username/password request cannot show the consent page)."""
    tenant = DEFAULT_CONFIG.default_tenant
    apps = []
    for app in tenant.apps:
        if app.client_id == DEFAULT_API_CLIENT_ID:
            app = dataclasses.replace(app, **changes)
        if app.client_id == CLIENT_ID:
            app = dataclasses.replace(app, require_consent=False)
        apps.append(app)
    tenants = (dataclasses.replace(tenant, apps=tuple(apps)), *DEFAULT_CONFIG.tenants[1:])
    return dataclasses.replace(DEFAULT_CONFIG, tenants=tenants)


def test_client_credentials_need_a_default_scope(client):
    assert_entra_error(credentials(client, "User.Read"), 400, "invalid_scope", 1002012)


def test_client_credentials_ignore_oidc_scopes_beside_the_default_one(client):
    # azure-identity sends `.default openid profile offline_access`; Entra answers 200 with an
    # app-only token and no ID or refresh token (Azure/azure-sdk-for-js@364417e29b28e800b6703f
    # d2e1eb9d4954aa5b5a:sdk/identity/identity/recordings/node/environmentcredential/recording_
    # authenticates_with_a_client_secret_on_the_environment_variables.json).
    answer = credentials(client, f"{GRAPH_RESOURCE}/.default openid profile offline_access")
    assert answer.status_code == 200, answer.get_json()
    assert list(answer.get_json()) == ["token_type", "expires_in", "ext_expires_in", "access_token"]


def test_client_credentials_for_an_unknown_resource_are_refused(client):
    assert_entra_error(credentials(client, "api://nope/.default"), 400, "invalid_resource", 500011)


def test_client_credentials_with_a_wrong_secret_are_refused(client):
    assert_entra_error(
        credentials(client, f"{GRAPH_RESOURCE}/.default", "bad"), 401, "invalid_client", 7000215
    )


def test_delegated_token_for_a_configured_api(interceptor, client):
    flow = new_flow(scope="api://entra-lab-api/Forecast.Read offline_access openid profile")
    body = redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()
    claims = claims_of(body["access_token"])
    assert claims["aud"] == DEFAULT_API_CLIENT_ID and claims["scp"] == "Forecast.Read"
    assert claims["azp"] == CLIENT_ID and claims["ver"] == "2.0"
    assert body["scope"] == "api://entra-lab-api/Forecast.Read profile openid email"
