"""Every fault scenario, on the mock itself: the faulty answer really is faulty, as a correct
client (PyJWT with the JWKS, MSAL) sees it; scoping to a client, a user and N requests; the
admin API and the config file.

In-process (the interceptor, production hosts, a fixed clock); the live mock's tests are in
`test_faults_live.py`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import jwt
import msal
import pytest
import requests

from mock_entra.core import faults
from mock_entra.core.clock import FixedClock
from mock_entra.core.config import (
    DEFAULT_CLIENT_SECRET,
    DEFAULT_CONFIG,
    ConfigError,
    ScenarioSetting,
)
from mock_entra.intercept import MockEntraInterceptor
from mock_entra.pytest_plugin import copy_keys

from .conftest import ADELE, CLIENT_ID, MEGAN, TENANT

AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"
ISSUER = f"{AUTHORITY}/v2.0"
JWKS = f"{AUTHORITY}/discovery/v2.0/keys"
GRAPH_ME = "https://graph.microsoft.com/v1.0/me"
SCOPES = ["User.Read"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory, key_template) -> Iterator[MockEntraInterceptor]:
    """One in-process mock for the module (a mock per test costs more than the tests)."""
    state = copy_keys(key_template, tmp_path_factory.mktemp("faults") / "state")
    with MockEntraInterceptor(DEFAULT_CONFIG, state_dir=state, clock=FixedClock()) as mock:
        yield mock


@pytest.fixture
def mock(shared: MockEntraInterceptor) -> Iterator[MockEntraInterceptor]:
    start = shared.clock.now()
    yield shared
    shared.reset()  # the log, tokens and every run-time scenario
    shared.clock.advance(start - shared.clock.now())


HTTP_CACHE: dict = {}  # discovery fetched once for the module's MSAL apps


def msal_app() -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        CLIENT_ID,
        authority=AUTHORITY,
        client_credential=DEFAULT_CLIENT_SECRET,
        http_cache=HTTP_CACHE,
    )


def sign_in(mock, app=None, user=ADELE) -> tuple[msal.ConfidentialClientApplication, dict]:
    """A whole auth-code flow through MSAL; returns the app and MSAL's result."""
    app = app or msal_app()
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=DEFAULT_REDIRECT, response_mode="query")
    result = app.acquire_token_by_auth_code_flow(flow, mock.sign_in(flow["auth_uri"], *user))
    return app, result


DEFAULT_REDIRECT = "http://localhost:5000/getAToken"


def validate(id_token: str) -> dict:
    """What a correct client does with an ID token (Learn, "Validate tokens")."""
    keys = {k["kid"]: k for k in requests.get(JWKS, timeout=5).json()["keys"]}
    header = jwt.get_unverified_header(id_token)
    if header.get("alg") != "RS256":
        raise jwt.InvalidAlgorithmError(f"alg {header.get('alg')!r}")
    jwk = keys.get(header.get("kid") or "")
    if jwk is None:
        raise jwt.InvalidKeyError(f"no key {header.get('kid')!r} in the JWKS")
    return jwt.decode(
        id_token,
        jwt.PyJWK(jwk, algorithm="RS256"),
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=ISSUER,
        leeway=120,
        options={"require": ["exp", "nbf", "iat", "iss", "aud"]},
    )


# -- ID tokens ----------------------------------------------------------------------------------

ID_TOKEN_FAILURES = {
    "id_token.wrong_iss": jwt.InvalidIssuerError,
    "id_token.wrong_aud": jwt.InvalidAudienceError,
    "id_token.missing_aud": jwt.MissingRequiredClaimError,
    "id_token.missing_iat": jwt.MissingRequiredClaimError,
    "id_token.expired": jwt.ExpiredSignatureError,
    "id_token.nbf_future": jwt.ImmatureSignatureError,
    "id_token.bad_signature": jwt.InvalidSignatureError,
    "id_token.alg_none": jwt.InvalidAlgorithmError,
    "id_token.unknown_kid": jwt.InvalidKeyError,
    "id_token.no_kid": jwt.InvalidKeyError,
}


def test_without_a_scenario_the_id_token_validates(mock):
    _, result = sign_in(mock)
    assert validate(result["id_token"])["aud"] == CLIENT_ID


@pytest.mark.parametrize("name", sorted(ID_TOKEN_FAILURES))
def test_each_id_token_scenario_makes_a_token_a_correct_client_refuses(mock, name):
    with mock.scenario(name, client_id=CLIENT_ID):
        _, result = sign_in(mock)
    assert "id_token" in result, result
    with pytest.raises(ID_TOKEN_FAILURES[name]):
        validate(result["id_token"])
    header = jwt.get_unverified_header(result["id_token"])
    if name == "id_token.no_kid":
        assert "kid" not in header and header["alg"] == "RS256"
    if name == "id_token.alg_none":
        assert header["alg"] == "none" and result["id_token"].endswith(".")
    if name.startswith("id_token.missing_"):
        assert name.removeprefix("id_token.missing_") not in result["id_token_claims"]


def test_wrong_nonce_is_caught_by_msal(mock):
    with mock.scenario("id_token.wrong_nonce"), pytest.raises(RuntimeError, match="nonce"):
        sign_in(mock)


# -- the redirect -------------------------------------------------------------------------------


def test_missing_client_info_leaves_it_out_of_redirect_and_token_response(mock):
    app = msal_app()
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=DEFAULT_REDIRECT, response_mode="query")
    with mock.scenario("redirect.missing_client_info"):
        params = mock.sign_in(flow["auth_uri"], *ADELE)
        result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "code" in params and "client_info" not in params
    assert "access_token" in result, result
    assert "client_info" not in result


def test_altered_state_is_refused_by_msal(mock):
    app = msal_app()
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=DEFAULT_REDIRECT, response_mode="query")
    with mock.scenario("redirect.state_altered", times=1):
        params = mock.sign_in(flow["auth_uri"], *ADELE)
    assert params["state"] != flow["state"]
    with pytest.raises(ValueError, match="state"):
        app.acquire_token_by_auth_code_flow(flow, params)


# -- keys ---------------------------------------------------------------------------------------


def test_key_rotation_publishes_the_new_key_first_then_drops_the_old_after_the_grace(mock):
    before = [k["kid"] for k in requests.get(JWKS, timeout=5).json()["keys"]]
    with mock.scenario("keys.rotated", seconds=3600):
        _, result = sign_in(mock)
        during = [k["kid"] for k in requests.get(JWKS, timeout=5).json()["keys"]]
        kid = jwt.get_unverified_header(result["id_token"])["kid"]
        assert kid not in before and during == [kid, *before]
        assert validate(result["id_token"])["aud"] == CLIENT_ID  # refetched JWKS has it
        # Graph accepts access tokens signed by the new key.
        assert requests.get(GRAPH_ME, headers=_bearer(result), timeout=5).status_code == 200
        mock.clock.advance(3601)
        after = [k["kid"] for k in requests.get(JWKS, timeout=5).json()["keys"]]
        assert after == [kid, *before[1:]]
    assert [k["kid"] for k in requests.get(JWKS, timeout=5).json()["keys"]] == before


def test_key_scenarios_cannot_be_scoped_to_a_client(mock):
    with pytest.raises(faults.ScenarioError, match="every client"):
        mock.scenario("keys.rotated", client_id=CLIENT_ID).__enter__()


def test_jwks_unavailable_answers_503_with_retry_after(mock):
    with mock.scenario("jwks.unavailable"):
        down = requests.get(JWKS, timeout=5)
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"
    assert down.json()["error"] == "temporarily_unavailable"
    assert requests.get(JWKS, timeout=5).status_code == 200


# -- the token endpoint -------------------------------------------------------------------------


def _token_post(**form: str) -> requests.Response:
    data = {"client_id": CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, **form}
    return requests.post(f"{AUTHORITY}/oauth2/v2.0/token", data=data, timeout=5)


CREDENTIALS = {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}


@pytest.mark.parametrize(
    ("name", "status", "error", "code"),
    [
        ("token.server_error", 500, "server_error", 50000),
        ("token.unavailable", 503, "temporarily_unavailable", 90033),
        ("token.throttled", 429, "temporarily_unavailable", 90055),
    ],
)
def test_token_endpoint_errors_have_entras_body(mock, name, status, error, code):
    with mock.scenario(name, seconds=7):
        response = _token_post(**CREDENTIALS)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert ("Retry-After" in response.headers) == (status != 500)
    if status != 500:
        assert response.headers["Retry-After"] == "7"


def test_msal_honours_the_429s_retry_after(mock):
    app, _ = sign_in(mock)
    (account,) = app.get_accounts()
    with mock.scenario("token.throttled", seconds=60):
        first = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
        second = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert first["error"] == second["error"] == "temporarily_unavailable"
    refreshes = [r for r in mock.requests() if r["form"].get("grant_type") == ["refresh_token"]]
    assert len(refreshes) == 1, "MSAL called again inside the Retry-After window"


def test_not_json_is_an_html_502(mock):
    with mock.scenario("token.not_json"):
        response = _token_post(**CREDENTIALS)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_no_expires_in_and_narrow_scope_reshape_a_successful_response(mock):
    with mock.scenario("token.no_expires_in"):
        _, result = sign_in(mock)
    assert "access_token" in result and "expires_in" not in result
    with mock.scenario("token.narrow_scope"):
        _, result = sign_in(mock)
    assert "User.Read" not in result["scope"], result["scope"]


@pytest.mark.parametrize(
    ("name", "error", "code", "suberror"),
    [
        ("refresh.expired", "invalid_grant", 700082, None),
        ("refresh.password_changed", "invalid_grant", 50173, "bad_token"),  # as recorded
        ("silent.mfa_required", "interaction_required", 50076, None),
        ("silent.consent_required", "invalid_grant", 65001, "consent_required"),
    ],
)
def test_silent_request_errors_touch_only_the_refresh(mock, name, error, code, suberror):
    with mock.scenario(name, client_id=CLIENT_ID):
        app, result = sign_in(mock)  # the code is redeemed: these faults are for refreshes
        assert "access_token" in result, result
        (account,) = app.get_accounts()
        refused = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert refused["error"] == error and refused["error_codes"] == [code]
    assert refused.get("suberror") == suberror
    assert refused["error_description"].startswith(f"AADSTS{code}: ")


# -- Graph --------------------------------------------------------------------------------------


def _bearer(result: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {result['access_token']}"}


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("graph.invalid_token", 401, "InvalidAuthenticationToken"),
        ("graph.claims_challenge", 401, "InvalidAuthenticationToken"),
        ("graph.forbidden", 403, "Authorization_RequestDenied"),
        ("graph.throttled", 429, "TooManyRequests"),
        ("graph.unavailable", 503, "serviceNotAvailable"),
    ],
)
def test_graph_errors_have_graphs_body_and_headers(mock, name, status, code):
    _, result = sign_in(mock)
    with mock.scenario(name, user=ADELE[0], times=1):
        response = requests.get(GRAPH_ME, headers=_bearer(result), timeout=5)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert ("Retry-After" in response.headers) == (status in (429, 503))
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.startswith('Bearer realm=""') == (status == 401)
    if name == "graph.claims_challenge":
        assert 'error="insufficient_claims"' in challenge
        claims = challenge.split('claims="', 1)[1].split('"', 1)[0]
        wanted = json.loads(base64.b64decode(claims))
        assert wanted["access_token"]["nbf"]["essential"] is True
    # times=1: the next call is answered normally
    assert requests.get(GRAPH_ME, headers=_bearer(result), timeout=5).status_code == 200


# -- scoping ------------------------------------------------------------------------------------


def test_a_scenario_for_another_client_or_user_changes_nothing(mock):
    _, adele = sign_in(mock)
    with (
        mock.scenario("graph.forbidden", client_id="00000000-0000-0000-0000-000000000001"),
        mock.scenario("graph.throttled", user=MEGAN[0]),
    ):
        assert requests.get(GRAPH_ME, headers=_bearer(adele), timeout=5).status_code == 200
        _, megan = sign_in(mock, user=MEGAN)
        assert requests.get(GRAPH_ME, headers=_bearer(megan), timeout=5).status_code == 429


def test_times_counts_matching_requests_only_and_clearing_ends_it(mock):
    _, result = sign_in(mock)
    with mock.scenario("refresh.expired", times=1):
        assert _token_post(**CREDENTIALS).status_code == 200  # not a refresh: not counted
        listed = mock.runtime.faults.listing()
        assert [(a["name"], a["remaining"]) for a in listed] == [("refresh.expired", 1)]
        refresh = {"grant_type": "refresh_token", "refresh_token": result["refresh_token"]}
        assert _token_post(**refresh).status_code == 400
        assert _token_post(**refresh).status_code == 200
        assert mock.runtime.faults.listing() == []


def test_an_unknown_name_lists_the_catalogue(mock):
    with pytest.raises(faults.ScenarioError, match=r"graph\.throttled"):
        mock.scenario("graph.nope").__enter__()


def test_every_scenario_is_in_the_catalogue_with_a_description_and_event():
    names = [s.name for s in faults.CATALOGUE]
    assert len(names) == len(set(names)) >= 31
    for s in faults.CATALOGUE:
        assert s.description and s.event and "." in s.name
        assert s.oidf is None or s.oidf.startswith("oidcc-client-test-")


def test_a_hook_is_a_member_of_the_enum_never_a_string(mock):
    """A misspelt or string hook fails loudly instead of never firing."""
    with mock.scenario("jwks.unavailable"):
        assert mock.runtime.faults.any(faults.Hook.JWKS)
        for call in (mock.runtime.faults.any, mock.runtime.faults.find):
            with pytest.raises(TypeError, match=r"faults\.Hook"):
                call("jwks")  # type: ignore[arg-type]


def test_scenario_kinds_and_the_catalogue_are_checked_at_import():
    with pytest.raises(TypeError, match=r"faults\.Hook"):

        class _Misspelt(faults.Scenario):  # what a kind naming a string hook does on import
            hooks = frozenset({"jwsk"})  # type: ignore[assignment]

    with pytest.raises(TypeError, match="no scenario uses"):
        faults.catalogue.check([s for s in faults.CATALOGUE if faults.Hook.GRAPH not in s.hooks])
    faults.catalogue.check(faults.CATALOGUE)


# -- the config file and the admin API -----------------------------------------------------------


def test_config_file_scenarios_are_in_force_from_the_start(state_dir, clock):
    config = DEFAULT_CONFIG.__class__(
        tenants=DEFAULT_CONFIG.tenants,
        scenarios=(ScenarioSetting(name="graph.forbidden", user=ADELE[0]),),
    )
    with MockEntraInterceptor(config, state_dir=state_dir, clock=clock) as mock:
        _, result = sign_in(mock)
        assert requests.get(GRAPH_ME, headers=_bearer(result), timeout=5).status_code == 403
        mock.reset()  # the config's scenarios outlive a reset
        assert requests.get(GRAPH_ME, headers=_bearer(result), timeout=5).status_code == 403


def test_a_config_file_with_an_unknown_scenario_stops_the_mock(state_dir, clock):
    config = DEFAULT_CONFIG.__class__(
        tenants=DEFAULT_CONFIG.tenants, scenarios=(ScenarioSetting(name="nope"),)
    )
    with pytest.raises(ConfigError, match=r"scenarios\[0\]: unknown scenario 'nope'"):
        MockEntraInterceptor(config, state_dir=state_dir, clock=clock)


def test_config_file_reads_scenarios_through_the_generic_validator(tmp_path):
    from mock_entra.core.config import load_config

    path = tmp_path / "mock.toml"
    path.write_text('extends = "defaults"\n[[scenarios]]\nname = "graph.throttled"\ntimes = 2\n')
    assert load_config(path).scenarios == (ScenarioSetting(name="graph.throttled", times=2),)
    path.write_text('extends = "defaults"\n[[scenarios]]\nname = "graph.throttled"\ntimes = "x"\n')
    with pytest.raises(ConfigError, match=r"scenarios\[0\]\.times"):
        load_config(path)


@pytest.mark.parametrize(
    "extra",
    [
        {"times": 2**63},  # past SQLite's 64-bit integer: a 500 before
        {"times": 10**400},
        {"times": faults.MAX_TIMES + 1},
        {"client_id": "x" * 100_000},  # one scenario carried 100 KB into the store before
        {"user": "u" * 300},
    ],
    ids=["2**63", "10**400", "MAX_TIMES+1", "100k-client-id", "long-user"],
)
def test_admin_scenarios_out_of_bounds_are_400s(state_dir, clock, extra):
    from mock_entra.web.wsgi import create_app

    client = create_app(
        DEFAULT_CONFIG, state_dir=state_dir, clock=clock, admin_key="k"
    ).test_client()
    headers = {"X-Admin-Key": "k"}
    refused = client.post(
        "/_admin/scenarios", json={"name": "graph.throttled", **extra}, headers=headers
    )
    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert "scenarios" in refused.get_json()  # the scenario error's body, with the catalogue
    assert client.get("/_admin/scenarios", headers=headers).get_json()["active"] == []


def test_admin_scenarios_are_capped(state_dir, clock):
    """A key holder could add scenarios without end (each a store row, each request reading
    them all); past `Limits.max_scenarios` the API says to clear some first."""
    from mock_entra.core.store.backend import Limits
    from mock_entra.web.wsgi import create_app

    client = create_app(
        DEFAULT_CONFIG, state_dir=state_dir, clock=clock, admin_key="k"
    ).test_client()
    headers = {"X-Admin-Key": "k"}
    body = {"name": "graph.throttled", "times": 1}
    for _ in range(Limits.max_scenarios):
        assert client.post("/_admin/scenarios", json=body, headers=headers).status_code == 201
    refused = client.post("/_admin/scenarios", json=body, headers=headers)
    assert refused.status_code == 400
    assert "clear some first" in refused.get_data(as_text=True)
    active = client.get("/_admin/scenarios", headers=headers).get_json()["active"]
    assert len(active) == Limits.max_scenarios
    assert client.delete(f"/_admin/scenarios/{active[0]['id']}", headers=headers).status_code == 200
    assert client.post("/_admin/scenarios", json=body, headers=headers).status_code == 201


def test_admin_api_sets_lists_and_clears_scenarios(state_dir, clock):
    from mock_entra.web.wsgi import create_app

    app = create_app(DEFAULT_CONFIG, state_dir=state_dir, clock=clock, admin_key="k")
    client = app.test_client()
    headers = {"X-Admin-Key": "k"}
    base = "https://localhost:8443"

    bad = client.post("/_admin/scenarios", json={"name": "nope"}, headers=headers, base_url=base)
    assert bad.status_code == 400 and "graph.throttled" in bad.get_json()["scenarios"]
    wrong = client.post(
        "/_admin/scenarios", json={"name": "graph.throttled", "times": "2"}, headers=headers
    )
    assert wrong.status_code == 400
    made = client.post(
        "/_admin/scenarios",
        json={"name": "graph.throttled", "client_id": CLIENT_ID, "times": 2},
        headers=headers,
    )
    assert made.status_code == 201 and made.get_json()["remaining"] == 2
    listed = client.get("/_admin/scenarios", headers=headers).get_json()
    assert [a["name"] for a in listed["active"]] == ["graph.throttled"]
    assert len(listed["catalogue"]) == len(faults.CATALOGUE)
    one = made.get_json()["id"]
    assert client.delete(f"/_admin/scenarios/{one}", headers=headers).status_code == 200
    assert client.delete(f"/_admin/scenarios/{one}", headers=headers).status_code == 404
    assert client.get("/_admin/scenarios", headers=headers).get_json()["active"] == []
    assert client.get("/_admin/scenarios").status_code == 404  # no key, no admin API
