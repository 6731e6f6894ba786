"""Redirect URIs as Entra matches them (the localhost port rule, trailing slash, case, http
only for loopback, no wildcards) and the authorities an app may use for its sign-in audience
(AADSTS50194, AADSTS9002331, AADSTS9002332)."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlencode

import pytest

from mock_entra.core.config import (
    DEFAULT_CONFIG,
    AppRegistration,
    ConfigError,
    MockConfig,
    SignInAudience,
    redirects,
)
from mock_entra.intercept import MockEntraInterceptor

from .conftest import BASE, TENANT, query_of

NATIVE = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
MULTI = "1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
PERSONAL = "2c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
BOTH = "3c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def app_with(**fields) -> AppRegistration:
    return AppRegistration(client_id=NATIVE, display_name="Native", **fields)


def audience_app(
    client_id: str, name: str, audience: SignInAudience, *, require_consent: bool = False
) -> AppRegistration:
    """A web app whose sign-in audience is `audience`, redirecting to https://{name}.example/cb."""
    return AppRegistration(
        client_id=client_id,
        display_name=name,
        redirect_uris=(f"https://{name.lower()}.example/cb",),
        sign_in_audience=audience,
        require_consent=require_consent,
    )


def config_with(*apps: AppRegistration) -> MockConfig:
    tenant = DEFAULT_CONFIG.default_tenant
    tenant = dataclasses.replace(tenant, apps=(*tenant.apps, *apps))
    return dataclasses.replace(DEFAULT_CONFIG, tenants=(tenant,))


CONFIG = config_with(
    app_with(
        public_client_redirect_uris=("http://localhost", "http://127.0.0.1/cb"),
        redirect_uris=("https://native.example/Cb",),
        require_consent=False,
    ),
    audience_app(MULTI, "Multi", "AzureADMultipleOrgs"),
    audience_app(PERSONAL, "Personal", "PersonalMicrosoftAccount", require_consent=True),
    audience_app(BOTH, "Both", "AzureADandPersonalMicrosoftAccount"),
)


@pytest.fixture
def mock(state_dir, clock):
    interceptor = MockEntraInterceptor(CONFIG, state_dir=state_dir, clock=clock)
    yield interceptor
    interceptor.stop()


def auth_uri(client_id: str, redirect_uri: str, segment: str = TENANT, **extra: str) -> str:
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid profile User.Read",
        "state": "st",
        **extra,
    }
    return f"{BASE}/{segment}/oauth2/v2.0/authorize?{urlencode(params)}"


# -- matching ---------------------------------------------------------------------------------

NATIVE_APP = CONFIG.default_tenant.app(NATIVE)


@pytest.mark.parametrize(
    ("asked", "platform"),
    [
        ("http://localhost", "public"),
        ("http://localhost/", "public"),  # no path: the same URI with or without "/"
        ("http://localhost:53117", "public"),  # the port of a loopback URI is ignored
        ("http://localhost:8080/", "public"),
        ("http://127.0.0.1:4000/cb", "public"),
        ("https://native.example/Cb", "web"),
    ],
)
def test_registered_uris_match_as_entra_matches_them(asked: str, platform: str):
    found = redirects.match(NATIVE_APP, asked)
    assert found is not None and found.platform == platform


@pytest.mark.parametrize(
    "asked",
    [
        "https://native.example/cb",  # paths are case-sensitive
        "https://NATIVE.example/Cb",  # and so are hosts: Entra compares the registered string
        "http://LOCALHOST:8080/",
        "https://native.example:443/Cb",  # the default port written out is another string
        "https://native.example/Cb/",  # a path's trailing slash counts
        "https://native.example:8443/Cb",  # the port counts off loopback
        "http://native.example/Cb",  # so does the scheme
        "https://localhost",  # https is not the registered http
        "http://127.0.0.1:4000/cb/x",
        "http://localhost/cb",  # another path on localhost
        "http://[::1]:4000/",  # the IPv6 loopback has no port rule (Learn: not supported)
        "https://native.example/Cb#frag",
        "not a uri",
    ],
)
def test_anything_else_does_not_match(asked: str):
    assert redirects.match(NATIVE_APP, asked) is None


def test_a_uri_without_a_path_is_answered_with_the_trailing_slash(mock):
    params = mock.sign_in(auth_uri(NATIVE, "http://localhost:53117"), *ADELE_PW)
    assert "code" in params
    location = _authorize_location(mock, auth_uri(NATIVE, "http://localhost:53117", prompt="none"))
    assert location.startswith("http://localhost:53117/?")


ADELE_PW = ("adele@contoso.onmicrosoft.com", "Passw0rd!1")


def _authorize_location(mock, uri: str) -> str:
    client = mock.app.test_client()
    response = client.get(uri.removeprefix(BASE), base_url=BASE)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


@pytest.mark.parametrize(
    ("field", "uri", "expected"),
    [
        ("redirect_uris", "http://app.example/cb", "http:// only for localhost"),
        ("spa_redirect_uris", "http://app.example/", "http:// only for localhost"),
        ("redirect_uris", "https://*.contoso.com/cb", "wildcards are not supported"),
        ("redirect_uris", "https://contoso.com/a;b", "not supported"),
        ("redirect_uris", "https://contoso.com/" + "a" * 250, "longer than 256"),
        ("redirect_uris", "myapp://auth", "must start with https://"),
        ("public_client_redirect_uris", "http://app.example/", "http:// only for localhost"),
        ("redirect_uris", "http://evil.example@localhost/cb", "no user@"),
        ("redirect_uris", "http://localhost:/cb", "no empty port"),
        ("redirect_uris", "https://app.example\\@localhost/cb", "backslashes"),
        ("redirect_uris", " http://localhost/cb", "spaces"),
        ("redirect_uris", "http://localhost/c\nb", "control characters"),
        ("redirect_uris", "https://app.example/cb#x", "no fragment"),
        ("public_client_redirect_uris", "http://[::1]/cb", "http:// only for localhost"),
    ],
)
def test_entra_would_not_register_these(field: str, uri: str, expected: str):
    with pytest.raises(ConfigError, match=expected) as caught:
        app_with(**{field: (uri,)})
    assert field in str(caught.value)


def test_a_native_custom_scheme_is_a_public_client_uri():
    assert app_with(public_client_redirect_uris=("msal0c1d://auth",)).public_client_redirect_uris


# -- audiences ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "redirect_uri", "segment", "code"),
    [
        (NATIVE, "http://localhost", "common", 50194),
        (NATIVE, "http://localhost", "organizations", 50194),
        (NATIVE, "http://localhost", "consumers", 9002332),
        (MULTI, "https://multi.example/cb", "consumers", 9002332),
        (PERSONAL, "https://personal.example/cb", "common", 9002331),
        (PERSONAL, "https://personal.example/cb", TENANT, 9002331),
    ],
)
def test_an_authority_the_audience_does_not_allow_is_refused(
    mock, client_id: str, redirect_uri: str, segment: str, code: int
):
    location = _authorize_location(mock, auth_uri(client_id, redirect_uri, segment))
    params = query_of(location)
    assert params["error"] == "invalid_request" and params["state"] == "st"
    assert params["error_description"].startswith(f"AADSTS{code}: ")


@pytest.mark.parametrize("segment", ["common", "organizations"])
def test_a_multi_tenant_app_signs_in_through_the_aliases(mock, segment: str):
    assert "code" in mock.sign_in(auth_uri(MULTI, "https://multi.example/cb", segment), *ADELE_PW)


def test_consumers_refuses_work_accounts_on_the_sign_in_page(mock):
    client = mock.app.test_client()
    uri = auth_uri(BOTH, "https://both.example/cb", "consumers")
    page = client.get(uri.removeprefix(BASE), base_url=BASE).get_data(as_text=True)
    ctx = re.search(r'name="ctx" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/consumers/login",
        base_url=BASE,
        data={"ctx": ctx, "step": "username", "loginfmt": ADELE_PW[0]},
    ).get_data(as_text=True)
    assert 'id="usernameError"' in answer and "work or school account" in answer
    # The same app through its tenant or /common signs work accounts in.
    assert "code" in mock.sign_in(auth_uri(BOTH, "https://both.example/cb", "common"), *ADELE_PW)


def test_the_token_endpoint_applies_the_same_rule(mock):
    client = mock.app.test_client()
    response = client.post(
        "/organizations/oauth2/v2.0/token",
        base_url=BASE,
        data={"client_id": NATIVE, "grant_type": "refresh_token", "refresh_token": "x"},
    )
    body = response.get_json()
    assert response.status_code == 400 and body["error_codes"] == [50194]
