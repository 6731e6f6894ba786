"""`Front` (no Flask; what `mock-entra serve` runs with the request log off) answers token,
discovery and JWKS requests exactly as the Flask routes do: same status, same body fields,
same AADSTS codes, same headers; and hands everything else to Flask."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import Client

from mock_entra.core.clock import FixedClock
from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.web import create_app
from mock_entra.web.front import Front, serving_app

from .conftest import (
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
from .test_fuzz import SETTINGS, _pairs, params

TOKEN = f"/{TENANT}/oauth2/v2.0/token"
CC = {
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "grant_type": "client_credentials",
    "scope": "https://graph.microsoft.com/.default",
}
# Per-request values: ids, times, tokens, and the lifetime Entra randomises (60-90 min).
IDS = {"trace_id", "correlation_id", "timestamp", "error_description", "access_token"}
IDS |= {"expires_in", "ext_expires_in"}


def _pair(state_dir: Path, clock: FixedClock, *, sabotage: bool) -> tuple[Client, Client]:
    routed = create_app(DEFAULT_CONFIG, state_dir=state_dir, clock=clock, log_requests=True)
    front = serving_app(DEFAULT_CONFIG, state_dir=state_dir, clock=clock)
    assert isinstance(front, Front)
    if sabotage:  # proves Front answered: its Flask app's own routes would fail the test
        broken = front.flask
        for name in ("token_endpoint", "openid_configuration", "openid_configuration_v1", "keys"):
            broken.view_functions[f"identity.{name}"] = lambda **_: 1 / 0  # type: ignore[attr-defined]
    return routed.test_client(), Client(front)


@pytest.fixture
def pair(state_dir: Path, clock: FixedClock) -> tuple[Client, Client]:
    """(Flask routes, Front) over one state dir and clock."""
    return _pair(state_dir, clock, sabotage=True)


def _same(pair: tuple[Client, Client], path: str = TOKEN, **kwargs) -> list:
    responses = [client.post(path, base_url=BASE, **kwargs) for client in pair]
    routed, fast = responses
    assert routed.status_code == fast.status_code, (routed.get_data(), fast.get_data())
    assert routed.mimetype == fast.mimetype == "application/json"
    a, b = routed.get_json(), fast.get_json()
    assert {k: v for k, v in a.items() if k not in IDS} == {
        k: v for k, v in b.items() if k not in IDS
    }
    if "error_description" in a:
        first = a["error_description"].split("\r\n")[0]
        assert b["error_description"].split("\r\n")[0] == first
    for name in ("Cache-Control", "Pragma", "Strict-Transport-Security", "X-Content-Type-Options"):
        assert routed.headers.get(name) == fast.headers.get(name), name
    assert fast.headers["x-ms-request-id"]
    return responses


def test_client_credentials_token_is_the_same_shape(pair):
    routed, fast = _same(pair, data=CC)
    assert fast.status_code == 200
    assert set(claims_of(fast.get_json()["access_token"])) == set(
        claims_of(routed.get_json()["access_token"])
    )


@pytest.mark.parametrize(
    ("path", "form", "status", "error", "code"),
    [
        (TOKEN, {**CC, "client_secret": "wrong"}, 401, "invalid_client", 7000215),
        (
            TOKEN,
            {k: v for k, v in CC.items() if k != "client_secret"},
            401,
            "invalid_client",
            7000218,
        ),
        (TOKEN, {k: v for k, v in CC.items() if k != "grant_type"}, 400, "invalid_request", 900144),
        (TOKEN, {**CC, "scope": "User.Read"}, 400, "invalid_scope", 1002012),
        ("/no-such-tenant.example/oauth2/v2.0/token", CC, 400, "invalid_tenant", 90002),
    ],
)
def test_errors_are_the_same(pair, path, form, status, error, code):
    _, fast = _same(pair, path, data=form)
    assert_entra_error(fast, status, error, code)


def test_client_secret_basic_and_correlation_id(pair):
    form = {k: v for k, v in CC.items() if k != "client_secret"}
    client_request_id = "5f1c1e3a-4d2b-4c1e-9a7b-1b2c3d4e5f60"
    headers = {"client-request-id": client_request_id}
    _, fast = _same(pair, data=form, auth=(CLIENT_ID, SECRET), headers=headers)
    assert fast.status_code == 200
    _, fast = _same(pair, data={**form, "client_secret": "x"}, headers=headers)
    assert fast.get_json()["correlation_id"] == client_request_id


def test_duplicated_parameter_and_other_content_types(pair):
    duplicated = urlencode([*CC.items(), ("scope", "x")])
    _same(pair, data=duplicated, content_type="application/x-www-form-urlencoded")
    _, fast = _same(pair, json=CC)  # Entra reads forms only: the parameters are missing
    assert fast.get_json()["error_codes"] == [900144]


def test_what_the_fast_path_leaves_to_flask(state_dir, clock):
    pair = _pair(state_dir, clock, sabotage=False)
    get = [c.get(TOKEN, base_url=BASE) for c in pair]
    assert get[0].status_code == get[1].status_code == 400
    assert get[0].get_json()["error_codes"] == get[1].get_json()["error_codes"] == [900561]
    big = urlencode({**CC, "pad": "x" * (1024 * 1024)})
    sizes = [
        c.post(TOKEN, base_url=BASE, data=big, content_type="application/x-www-form-urlencoded")
        for c in pair
    ]
    assert sizes[0].status_code == sizes[1].status_code == 413


@SETTINGS
@given(base=st.booleans(), extra=params)
def test_any_form_gets_the_same_answer(pair, base, extra):
    data = urlencode(_pairs(base, extra))
    _same(pair, data=data, content_type="application/x-www-form-urlencoded")


def test_code_redeem_refresh_and_replay_on_the_fast_path(interceptor, pair):
    _, fast = pair
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    first = redeem(fast, flow, code)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert {"id_token", "refresh_token", "client_info", "scope"} <= set(body)
    assert claims_of(body["id_token"])["nonce"] == flow.nonce
    refreshed = fast.post(
        TOKEN,
        base_url=BASE,
        data={
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "scope": flow.scope,
        },
    )
    assert refreshed.status_code == 200
    assert refreshed.get_json()["refresh_token"] != body["refresh_token"]
    assert_entra_error(redeem(fast, flow, code), 400, "invalid_grant", 54005)


@pytest.mark.parametrize(
    "path",
    [
        f"/{TENANT}/v2.0/.well-known/openid-configuration",
        f"/{TENANT}/.well-known/openid-configuration",
        "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        "/common/v2.0/.well-known/openid-configuration",
        "/organizations/discovery/v2.0/keys",
        f"/{TENANT}/discovery/v2.0/keys",
        "/common/discovery/keys",
    ],
)
def test_discovery_and_jwks_bytes_are_the_flask_routes_bytes(pair, path):
    for _ in range(2):  # built, then from the table
        routed, fast = (client.get(path, base_url=BASE) for client in pair)
        assert routed.status_code == fast.status_code == 200
        assert routed.get_data() == fast.get_data()
        for name in ("Content-Type", "Cache-Control", "Strict-Transport-Security"):
            assert routed.headers[name] == fast.headers[name]


def test_an_unknown_tenant_and_other_paths_go_to_flask(state_dir, clock):
    _, front = _pair(state_dir, clock, sabotage=False)
    unknown = front.get("/nope.example/v2.0/.well-known/openid-configuration", base_url=BASE)
    assert_entra_error(unknown, 400, "invalid_tenant", 90002)
    page = front.get(f"/{TENANT}/oauth2/v2.0/authorize?client_id={CLIENT_ID}", base_url=BASE)
    assert page.status_code == 200 and b"AADSTS" in page.get_data()  # Entra's error page


def test_the_default_port_is_not_in_issuers(pair):
    for client in pair:
        issuer = client.get(
            f"/{TENANT}/v2.0/.well-known/openid-configuration", base_url="https://localhost:443"
        ).get_json()["issuer"]
        assert issuer == f"https://localhost/{TENANT}/v2.0"
