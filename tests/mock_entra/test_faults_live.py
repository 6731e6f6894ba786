"""Fault scenarios and the test clock on live mocks (HTTPS, worker processes sharing one
store): scenarios scoped to two client ids from parallel threads; a delay past a client's
timeout; the clock expiring a code (AADSTS70008) and an access token (Graph 401, then a
refresh) without waiting, on the fixtures' mock and on `mock-entra serve` driven through its
admin API; and test controls that refuse to do nothing."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import msal
import pytest
import requests

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import DEFAULT_CONFIG, AppRegistration
from mock_entra.core.pki.state import ensure_state
from mock_entra.ports import free_port
from mock_entra.pytest_plugin import live_mock
from mock_entra.server import MockControlError

from .conftest import ADELE
from .signin_http import http_sign_in

SECOND_CLIENT = "3c1a6a4e-0f1b-4f5e-9a55-2f8e7d9c1b02"
SECOND_SECRET = "second-app-secret"
REDIRECT = "http://localhost:5000/getAToken"
_FIRST = DEFAULT_CONFIG.default_tenant.apps[0]
# The default app's client-credentials request for Graph, as a form.
FIRST_APP_TOKEN_FORM = {
    "grant_type": "client_credentials",
    "scope": "https://graph.microsoft.com/.default",
    "client_id": _FIRST.client_id,
    "client_secret": _FIRST.client_secrets[0],
}


def msal_sign_in(base: str, authority: str, ca: str, client_id: str, secret: str):
    http = TrustingSession(ca)
    app = msal.ConfidentialClientApplication(
        client_id,
        authority=authority,
        client_credential=secret,
        http_client=http,
        instance_discovery=False,
    )
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode="query")
    return app, flow, http_sign_in(http, base, flow["auth_uri"], ADELE)


# -- the clock: the fixtures' mock and a `mock-entra serve` driven over its admin API ----------


@dataclasses.dataclass
class Live:
    base: str
    authority: str
    ca: str
    advance: Callable[[float], None]
    mock: MockEntra


@pytest.fixture
def fixture_mock(mock_entra: MockEntra) -> Iterator[Live]:
    moved = []

    def advance(seconds: float) -> None:
        mock_entra.clock.advance(seconds)
        moved.append(seconds)

    yield Live(mock_entra.base_url, mock_entra.authority, mock_entra.ca_bundle, advance, mock_entra)
    mock_entra.clock.advance(-sum(moved))


@pytest.fixture(scope="module")
def cli_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """`mock-entra serve` started as a user would, its admin API on."""
    state = ensure_state(tmp_path_factory.mktemp("cli-mock"))
    key = secrets.token_urlsafe(16)
    port = free_port()
    command = [sys.executable, "-m", "mock_entra", "serve", "--port", str(port)]
    command += ["--state-dir", str(state.root), "--workers", "1"]
    process = subprocess.Popen(command, env={**os.environ, "MOCK_ENTRA_ADMIN_KEY": key})
    base = f"https://localhost:{port}"
    handle = MockEntra(DEFAULT_CONFIG, state, base, key, process)
    try:
        handle.wait_ready(30)
        http = TrustingSession(str(state.ca_bundle))

        def advance(seconds: float) -> None:
            moved = http.post(
                f"{base}/_admin/clock", json={"advance": seconds}, headers={"X-Admin-Key": key}
            )
            assert moved.status_code == 200, moved.text

        yield Live(base, handle.authority, str(state.ca_bundle), advance, handle)
    finally:
        handle.stop()


@pytest.fixture(params=["fixtures", pytest.param("cli", marks=pytest.mark.slow)])
def live(request: pytest.FixtureRequest) -> Live:
    return request.getfixturevalue("fixture_mock" if request.param == "fixtures" else "cli_mock")


def test_advancing_the_clock_expires_a_code_with_aadsts70008(live: Live):
    app, flow, params = msal_sign_in(
        live.base,
        live.authority,
        live.ca,
        DEFAULT_CONFIG.default_tenant.apps[0].client_id,
        DEFAULT_CONFIG.default_tenant.apps[0].client_secrets[0],
    )
    live.advance(DEFAULT_CONFIG.code_lifetime + 1)
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert result.get("error") == "invalid_grant" and result["error_codes"] == [70008], result


def test_advancing_the_clock_expires_an_access_token_then_a_refresh_works(live: Live):
    registration = DEFAULT_CONFIG.default_tenant.apps[0]
    app, flow, params = msal_sign_in(
        live.base, live.authority, live.ca, registration.client_id, registration.client_secrets[0]
    )
    result = app.acquire_token_by_auth_code_flow(flow, params)
    http = TrustingSession(live.ca)
    me = f"{live.base}/v1.0/me"
    bearer = {"Authorization": f"Bearer {result['access_token']}"}
    assert http.get(me, headers=bearer).status_code == 200
    live.advance(2 * 3600)  # past any 60-90 minute token
    expired = http.get(me, headers=bearer)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "InvalidAuthenticationToken"
    # What the app does on that 401: a refresh; the new token is valid by the mock's clock.
    (account,) = app.get_accounts()
    fresh = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert fresh and fresh["token_source"] == "identity_provider", fresh
    assert http.get(me, headers={"Authorization": f"Bearer {fresh['access_token']}"}).ok


# -- parallel scoping ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory: pytest.TempPathFactory, key_template: Path) -> Iterator[MockEntra]:
    """This module's own server, as the plugin's `mock_entra_server` starts one (`live_mock`),
    with two apps and two worker processes; reset before each test that uses it."""
    tenant = DEFAULT_CONFIG.default_tenant
    second = AppRegistration(
        client_id=SECOND_CLIENT,
        display_name="second app",
        client_secrets=(SECOND_SECRET,),
        application_permissions={"https://graph.microsoft.com": ("User.Read.All",)},
    )
    config = dataclasses.replace(
        DEFAULT_CONFIG, tenants=(dataclasses.replace(tenant, apps=(*tenant.apps, second)),)
    )
    with live_mock(config, key_template, tmp_path_factory.mktemp("two-apps"), workers=2) as mock:
        yield mock


@pytest.fixture
def two_apps_mock(two_apps: MockEntra) -> MockEntra:
    two_apps.reset()
    return two_apps


def test_two_scenarios_for_two_clients_from_parallel_threads_do_not_interfere(two_apps_mock):
    mock = two_apps_mock
    first = DEFAULT_CONFIG.default_tenant.apps[0]
    token_url = f"{mock.authority}/oauth2/v2.0/token"
    users = f"{mock.base_url}/v1.0/users"
    form = {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}
    seen: dict[str, list[tuple[int, int]]] = {}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(client_id: str, secret: str, scenario: str) -> None:
        try:
            http = TrustingSession(mock.ca_bundle)
            token = http.post(
                token_url, data={**form, "client_id": client_id, "client_secret": secret}
            ).json()["access_token"]
            with mock.scenario(scenario, client_id=client_id):
                barrier.wait(10)  # both in force at once
                for _ in range(8):
                    answer = http.post(
                        token_url,
                        data={**form, "client_id": client_id, "client_secret": secret},
                    )
                    graph = http.get(users, headers={"Authorization": f"Bearer {token}"})
                    seen.setdefault(client_id, []).append((answer.status_code, graph.status_code))
                barrier.wait(10)
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)
            barrier.abort()

    threads = [
        threading.Thread(
            target=run, args=(first.client_id, first.client_secrets[0], "token.throttled")
        ),
        threading.Thread(target=run, args=(SECOND_CLIENT, SECOND_SECRET, "graph.forbidden")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert set(seen[first.client_id]) == {(429, 200)}
    assert set(seen[SECOND_CLIENT]) == {(200, 403)}
    # Cleared on leaving the `with`: both clients are answered normally again.
    http = TrustingSession(mock.ca_bundle)
    again = http.post(
        token_url,
        data={**form, "client_id": first.client_id, "client_secret": first.client_secrets[0]},
    )
    assert again.status_code == 200


def test_a_delay_past_the_clients_timeout_times_it_out(two_apps_mock):
    mock = two_apps_mock
    form = FIRST_APP_TOKEN_FORM
    http = TrustingSession(mock.ca_bundle)
    with mock.scenario("token.timeout", seconds=1.5, times=1), pytest.raises(requests.Timeout):
        http.post(f"{mock.authority}/oauth2/v2.0/token", data=form, timeout=0.5)


@pytest.mark.slow  # `cli_mock`: a `serve` process of one worker, which every request reaches
def test_a_stalled_token_request_holds_up_no_other_request(cli_mock: Live):
    # `token.timeout` for one client: its answer is held back on the worker's event loop,
    # which answers discovery meanwhile. (It used to sleep in the worker: every other client
    # waited out the whole delay.)
    mock = cli_mock.mock
    form = FIRST_APP_TOKEN_FORM
    host, port = urlsplit(mock.base_url).hostname, urlsplit(mock.base_url).port
    tls = ssl.create_default_context(cafile=mock.ca_file)
    stalled = http.client.HTTPSConnection(host, port, context=tls, timeout=120)
    answered = threading.Event()

    def post_token() -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            stalled.request(
                "POST",
                urlsplit(f"{mock.authority}/oauth2/v2.0/token").path,
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            stalled.getresponse().read()
            answered.set()

    thread = threading.Thread(target=post_token, daemon=True)
    with mock.scenario("token.timeout", client_id=form["client_id"], seconds=30, times=1) as on:
        thread.start()
        deadline = time.monotonic() + 30
        while on.id in {row[0] for row in mock.store.scenarios()}:  # not yet taken
            assert time.monotonic() < deadline, "the token request never reached the mock"
            time.sleep(0.05)
        other = TrustingSession(mock.ca_bundle)
        discovery = other.get(f"{mock.authority}/v2.0/.well-known/openid-configuration", timeout=60)
        assert discovery.status_code == 200
        assert not answered.is_set(), "discovery waited for the stalled token request"
    with contextlib.suppress(OSError):
        stalled.sock.shutdown(socket.SHUT_RDWR)  # the stalled client gives up
    thread.join(10)
    stalled.close()


# -- controls that cannot be honoured -------------------------------------------------------------


def test_test_controls_on_a_mock_without_its_admin_api_raise(tmp_path: Path):
    paths = ensure_state(tmp_path / "state")
    mock = MockEntra(DEFAULT_CONFIG, paths, "https://localhost:1", admin_key=None)
    with pytest.raises(MockControlError, match="admin API"):
        mock.clock.advance(60)
    with pytest.raises(MockControlError):
        mock.scenario("graph.throttled").__enter__()
    with pytest.raises(MockControlError):
        mock.set_access_token_lifetime(120)
    assert abs(mock.clock.now() - __import__("time").time()) < 5
