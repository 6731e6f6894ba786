"""One test-control API (`mock_entra.controls.MockControls`) on both handles: `MockEntra` (the
live HTTPS server, worker processes sharing its store) and `MockEntraInterceptor` (in-process,
production hosts). Each method is checked by what a client then sees, the same way on both."""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from conformance.trust import TrustingSession
from mock_entra.controls import MockControls
from mock_entra.intercept import MockEntraInterceptor
from mock_entra.server import MockEntra

from .conftest import CLIENT_ID, SECRET

APP_ONLY = {
    "grant_type": "client_credentials",
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "scope": "https://graph.microsoft.com/.default",
}


@dataclass
class Handle:
    mock: MockControls
    http: requests.Session

    def token(self) -> requests.Response:
        return self.http.post(f"{self.mock.authority}/oauth2/v2.0/token", data=APP_ONLY)


@pytest.fixture(params=["live", "interceptor"])
def handle(request: pytest.FixtureRequest) -> Iterator[Handle]:
    if request.param == "live":
        live: MockEntra = request.getfixturevalue("mock_entra")  # reset before the test
        with TrustingSession(live.ca_bundle) as http:
            yield Handle(live, http)
        return
    interceptor: MockEntraInterceptor = request.getfixturevalue("interceptor")  # reset too
    with interceptor, TrustingSession(None) as http:
        yield Handle(interceptor, http)


def claims(access_token: str) -> dict:
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_both_handles_offer_the_protocol_with_the_same_signatures():
    members = [
        name
        for name in dir(MockControls)
        if not name.startswith("_") and callable(getattr(MockControls, name))
    ]
    assert {"requests", "reset", "scenario", "clear_scenarios"} <= set(members)
    for name in members:
        protocol = inspect.signature(getattr(MockControls, name))
        for handle_type in (MockEntra, MockEntraInterceptor):
            assert inspect.signature(getattr(handle_type, name)) == protocol, (handle_type, name)


def test_the_handle_is_a_mock_controls_and_its_authority_names_its_tenant(handle: Handle):
    assert isinstance(handle.mock, MockControls)
    assert handle.mock.authority.endswith(f"/{handle.mock.tenant_id}")
    discovery = handle.http.get(f"{handle.mock.authority}/v2.0/.well-known/openid-configuration")
    assert handle.mock.tenant_id in discovery.json()["issuer"]


def test_requests_logs_what_clients_sent_and_reset_forgets_it(handle: Handle):
    assert handle.mock.requests() == []  # the fixtures reset it
    assert handle.token().status_code == 200
    (logged,) = handle.mock.requests()
    assert logged["path"].endswith("/oauth2/v2.0/token") and logged["status"] == 200
    assert SECRET not in json.dumps(logged)  # redacted
    handle.mock.reset()
    assert handle.mock.requests() == []


def test_a_scenario_is_in_force_inside_the_with_only(handle: Handle):
    with handle.mock.scenario("token.throttled", client_id=CLIENT_ID):
        throttled = handle.token()
        assert throttled.status_code == 429 and throttled.json()["error_codes"] == [90055]
    assert handle.token().status_code == 200


def test_clear_scenarios_ends_them_before_their_with_does(handle: Handle):
    with handle.mock.scenario("token.throttled", client_id=CLIENT_ID):
        handle.mock.clear_scenarios()
        assert handle.token().status_code == 200


def test_a_fixed_access_token_lifetime_and_back(handle: Handle):
    handle.mock.set_access_token_lifetime(120)
    assert handle.token().json()["expires_in"] == 120
    handle.mock.set_access_token_lifetime(None)
    assert handle.token().json()["expires_in"] > 300
    with pytest.raises(ValueError):
        handle.mock.set_access_token_lifetime(0)


def test_the_clock_moves_the_times_in_tokens(handle: Handle):
    before = claims(handle.token().json()["access_token"])["iat"]
    handle.mock.clock.advance(3600)
    try:
        after = claims(handle.token().json()["access_token"])["iat"]
    finally:
        handle.mock.clock.advance(-3600)  # the session's mock serves other modules next
    assert after - before >= 3600
