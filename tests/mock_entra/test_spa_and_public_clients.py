"""The single-page-application and public-client platforms at the token endpoint: CORS as
Entra answers it, cross-origin redemption only for a `spa` redirect URI (AADSTS9002326,
9002327, 9002325), SPA refresh tokens that end after 24 hours (AADSTS700084), public-client
redemption with PKCE and no secret; CORS on discovery, JWKS, instance discovery and Graph."""

from __future__ import annotations

import dataclasses
import re

import pytest

from mock_entra.core.config import DEFAULT_CONFIG, AppRegistration, MockConfig

from .client_kinds import in_process_fixtures
from .conftest import ADELE, BASE, CLIENT_ID, SECRET, TENANT, assert_entra_error, new_flow

SPA = "4d1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
SPA_URI = "http://localhost/spa"  # registered without a port: any localhost port matches
ORIGIN = "http://localhost:3000"
PUBLIC = "5d1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def _config() -> MockConfig:
    tenant = DEFAULT_CONFIG.default_tenant
    web = dataclasses.replace(tenant.apps[0], spa_redirect_uris=(SPA_URI,))
    spa = AppRegistration(
        client_id=SPA, display_name="SPA", spa_redirect_uris=(SPA_URI,), require_consent=False
    )
    public = AppRegistration(
        client_id=PUBLIC,
        display_name="CLI",
        public_client_redirect_uris=("http://localhost",),
        require_consent=False,
    )
    tenant = dataclasses.replace(tenant, apps=(web, *tenant.apps[1:], spa, public))
    return dataclasses.replace(DEFAULT_CONFIG, tenants=(tenant,))


mock, client = in_process_fixtures(_config)


def code_for(mock, client_id: str, redirect_uri: str, *, pkce: bool = True):
    flow = new_flow(redirect_uri=redirect_uri)
    uri = flow.auth_uri().replace(f"client_id={CLIENT_ID}", f"client_id={client_id}")
    if not pkce:
        uri = uri.replace(f"&code_challenge={flow.challenge}", "")
    return flow, mock.sign_in(uri, *ADELE)["code"]


def token(client, *, origin: str | None = ORIGIN, **data: str):
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/{TENANT}/oauth2/v2.0/token", base_url=BASE, data=data, headers=headers)


def redeem(client, client_id: str, flow, code: str, *, origin: str | None = ORIGIN, **extra):
    data = {
        "client_id": client_id,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier,
        "scope": flow.scope,
        **extra,
    }
    return token(client, origin=origin, **{k: v for k, v in data.items() if v is not None})


def test_a_spa_redeems_cross_origin_with_pkce_and_no_secret(mock, client):
    flow, code = code_for(mock, SPA, "http://localhost:3000/spa")
    answer = redeem(client, SPA, flow, code)
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert {"access_token", "id_token", "refresh_token"} <= set(answer.get_json())


def test_a_confidential_app_redeems_its_spa_code_without_its_secret(mock, client):
    flow, code = code_for(mock, CLIENT_ID, "http://localhost:4000/spa")
    assert redeem(client, CLIENT_ID, flow, code).status_code == 200


def test_a_spa_code_without_an_origin_is_aadsts9002327(mock, client):
    flow, code = code_for(mock, SPA, SPA_URI)
    assert_entra_error(
        redeem(client, SPA, flow, code, origin=None), 400, "invalid_request", 9002327
    )


def test_a_spa_code_needs_pkce_aadsts9002325(mock, client):
    flow, code = code_for(mock, SPA, SPA_URI, pkce=False)
    answer = redeem(client, SPA, flow, code, code_verifier=None)
    assert_entra_error(answer, 400, "invalid_request", 9002325)


def test_a_web_code_redeemed_cross_origin_is_aadsts9002326(mock, client):
    flow, code = code_for(mock, CLIENT_ID, "http://localhost:5000/getAToken")
    answer = redeem(client, CLIENT_ID, flow, code, client_secret=SECRET)
    body = assert_entra_error(answer, 400, "invalid_request", 9002326)
    assert f"Request origin: '{ORIGIN}'" in body["error_description"]
    assert answer.headers["Access-Control-Allow-Origin"] == "*"  # the browser may read it


def test_client_credentials_from_a_browser_is_aadsts9002326(client):
    answer = token(
        client,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        grant_type="client_credentials",
        scope="https://graph.microsoft.com/.default",
    )
    assert_entra_error(answer, 400, "invalid_request", 9002326)


def test_spa_refresh_tokens_end_24_hours_after_sign_in(mock, client, clock):
    flow, code = code_for(mock, SPA, SPA_URI)
    first = redeem(client, SPA, flow, code).get_json()["refresh_token"]

    def refresh(rt: str, origin: str | None = ORIGIN):
        return token(
            client, origin=origin, client_id=SPA, grant_type="refresh_token", refresh_token=rt
        )

    assert_entra_error(refresh(first, origin=None), 400, "invalid_request", 9002327)
    clock.advance(23 * 3600)
    second = refresh(first).get_json()["refresh_token"]  # a new one, same end
    clock.advance(3600 + 1)
    body = assert_entra_error(refresh(second), 400, "invalid_grant", 700084)
    assert "1.00:00:00" in body["error_description"]
    # Entra's time format there: "The token was issued on 2023-12-11T12:31:44.1947275Z."
    assert re.search(r"issued on \d{4}-\d\d-\d\dT[\d:]{8}\.\d{7}Z\.", body["error_description"])
    assert_entra_error(refresh(first), 400, "invalid_grant", 700084)


def test_spa_token_answers_say_when_the_refresh_token_ends(mock, client, clock):
    # msal-common reads `refresh_token_expires_in` from a SPA's answers (AzureAD/microsoft-
    # authentication-library-for-js#6703); the end is fixed at sign-in, so it counts down.
    flow, code = code_for(mock, SPA, SPA_URI)
    first = redeem(client, SPA, flow, code).get_json()
    assert first["refresh_token_expires_in"] == 24 * 3600
    clock.advance(5 * 3600)
    second = token(
        client, client_id=SPA, grant_type="refresh_token", refresh_token=first["refresh_token"]
    ).get_json()
    assert second["refresh_token_expires_in"] == 19 * 3600
    # A web app's refresh token has no fixed end: its answers say none.
    flow, code = code_for(mock, CLIENT_ID, "http://localhost:5000/getAToken")
    web = redeem(client, CLIENT_ID, flow, code, origin=None, client_secret=SECRET).get_json()
    assert "refresh_token" in web and "refresh_token_expires_in" not in web


def test_a_public_client_redeems_with_pkce_and_no_secret(mock, client):
    flow, code = code_for(mock, PUBLIC, "http://localhost:51234")
    answer = redeem(client, PUBLIC, flow, code, origin=None)
    assert answer.status_code == 200, answer.get_json()
    refreshed = token(
        client,
        origin=None,
        client_id=PUBLIC,
        grant_type="refresh_token",
        refresh_token=answer.get_json()["refresh_token"],
    )
    assert refreshed.status_code == 200


def test_a_public_client_code_redeemed_cross_origin_is_aadsts9002326(mock, client):
    flow, code = code_for(mock, PUBLIC, "http://localhost:51234")
    assert_entra_error(redeem(client, PUBLIC, flow, code), 400, "invalid_request", 9002326)


# -- CORS headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/{TENANT}/v2.0/.well-known/openid-configuration",
        f"/{TENANT}/discovery/v2.0/keys",
        "/common/discovery/instance?api-version=1.1"
        "&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    ],
)
def test_metadata_is_served_to_any_origin(client, path: str):
    answer = client.get(path, base_url=BASE, headers={"Origin": "https://spa.example"})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_preflights_are_answered(client):
    asked = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-client-sku",
    }
    for path in (
        f"/{TENANT}/oauth2/v2.0/token",
        f"/{TENANT}/v2.0/.well-known/openid-configuration",
    ):
        answer = client.options(path, base_url=BASE, headers=asked)
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Access-Control-Allow-Headers"] == "content-type, x-client-sku"
    graph = client.options(
        "/v1.0/me",
        base_url="https://graph.microsoft.com",
        headers={
            **asked,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert graph.status_code == 200 and graph.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in graph.headers["Access-Control-Allow-Methods"]
    assert graph.headers["Access-Control-Allow-Headers"] == "authorization"


def test_graph_answers_carry_cors_headers(client):
    answer = client.get("/v1.0/me", base_url=BASE, headers={"Origin": ORIGIN})
    assert answer.status_code == 401  # no token: Graph's error, still readable cross-origin
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
