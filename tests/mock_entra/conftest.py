"""Fixtures for the mock's own tests: an in-process mock app with a fixed clock, and helpers
that speak the protocol the way MSAL does."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from werkzeug.test import Client

from mock_entra.core.clock import FixedClock
from mock_entra.core.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_CONFIG,
    DEFAULT_REDIRECT_URI,
    DEFAULT_TENANT_ID,
    MockConfig,
    with_redirect_uris,
)
from mock_entra.intercept import MockEntraInterceptor
from mock_entra.pytest_plugin import copy_keys
from mock_entra.web.wsgi import MockApp

from . import postgres
from .redirect_catcher import shared_catcher

BASE = "https://localhost:8443"
TENANT = DEFAULT_TENANT_ID
CLIENT_ID = DEFAULT_CLIENT_ID
SECRET = DEFAULT_CLIENT_SECRET
REDIRECT = DEFAULT_REDIRECT_URI
ADELE = ("adele@contoso.onmicrosoft.com", "Passw0rd!1")
MEGAN = ("megan@contoso.onmicrosoft.com", "Passw0rd!2")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"postgres: needs the test Postgres ({postgres.ENV}); skipped without it"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a Postgres test where no test database is given (fail in CI), before its fixtures;
    raised here, so that pytest's summary folds every such skip into one line."""
    if item.get_closest_marker("postgres"):
        postgres.postgres_url()


# `key_template` (keys made once per session, the plugin's key template too) is in the root
# conftest.py.


@pytest.fixture(scope="session")
def mock_entra_config() -> MockConfig:
    """The session's live mock (`mock_entra_server`, `mock_entra`) serves the default tenant
    with the MSAL live tests' redirect catcher registered: one server for every module here,
    whichever starts it first."""
    return with_redirect_uris(DEFAULT_CONFIG, [shared_catcher().url])


@pytest.fixture
def state_dir(tmp_path: Path, key_template: Path) -> Path:
    target = copy_keys(key_template, tmp_path / "state")
    return target


@pytest.fixture(scope="session")
def shared_interceptor(
    tmp_path_factory: pytest.TempPathFactory, key_template: Path
) -> Iterator[MockEntraInterceptor]:
    """Scope: session. One in-process mock (DEFAULT_CONFIG, a `FixedClock`), built once:
    building one per test (keys loaded and self-tested, a new SQLite file) cost more than most
    tests. Use it through `interceptor`, which resets it before each test."""
    state = copy_keys(key_template, tmp_path_factory.mktemp("shared-interceptor") / "state")
    mock = MockEntraInterceptor(DEFAULT_CONFIG, state_dir=state, clock=FixedClock())
    yield mock
    mock.stop()


@pytest.fixture
def clock(shared_interceptor: MockEntraInterceptor) -> FixedClock:
    """The shared mock's `FixedClock`, set back to the wall clock's time (as a new one is)."""
    shared = shared_interceptor.clock
    assert isinstance(shared, FixedClock)
    shared.advance(time.time() - shared.now())
    return shared


@pytest.fixture
def interceptor(
    shared_interceptor: MockEntraInterceptor, clock: FixedClock
) -> Iterator[MockEntraInterceptor]:
    """An in-process mock (not started: use `.app` or `with interceptor:`): the session's,
    reset as new (no codes, tokens, sessions, consents, log or settings; store limits as built;
    the clock at now). A test that needs its own state dir or config builds its own from
    `state_dir` and `clock` (or uses `fresh_interceptor`)."""
    mock = shared_interceptor
    store = mock.runtime.store
    limits = store.limits
    mock.reset()
    store.set_clock(clock.now)  # also restarts the periodic purge's schedule
    mock.calls.clear()
    yield mock
    mock.stop()  # a test that left it started; stopping keeps its routes for the next test
    store.limits = limits  # a test may have narrowed them


@pytest.fixture
def fresh_interceptor(state_dir: Path, clock: FixedClock) -> Iterator[MockEntraInterceptor]:
    """An in-process mock of its own on this test's `state_dir` (a new store file): for tests
    about the store's files, sizes or start-up."""
    mock = MockEntraInterceptor(DEFAULT_CONFIG, state_dir=state_dir, clock=clock)
    yield mock
    mock.stop()


@pytest.fixture
def app(interceptor: MockEntraInterceptor) -> MockApp:
    return interceptor.app


@pytest.fixture
def client(app: MockApp) -> Client:
    return app.test_client()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def b64json(segment: str) -> dict:
    import json

    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def claims_of(token: str) -> dict:
    return b64json(token.split(".")[1])


@dataclass
class Flow:
    """One authorization request as MSAL sends it, and the code it got."""

    verifier: str
    challenge: str
    state: str
    nonce: str
    scope: str = "User.Read offline_access openid profile"
    redirect_uri: str = REDIRECT

    def auth_uri(self, **extra: str) -> str:
        params = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "nonce": self.nonce,
            "client_info": "1",
            **extra,
        }
        return f"{BASE}/{TENANT}/oauth2/v2.0/authorize?{urlencode(params)}"


def new_flow(**kwargs: str) -> Flow:
    verifier, challenge = pkce_pair()
    nonce = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
    return Flow(verifier, challenge, secrets.token_urlsafe(16), nonce, **kwargs)


def get_code(
    interceptor: MockEntraInterceptor, flow: Flow, user: tuple[str, str] = ADELE, **extra: str
) -> dict[str, str]:
    return interceptor.sign_in(flow.auth_uri(**extra), *user)


def redeem(client: Client, flow: Flow, code: str, **overrides: str):
    data = {
        "client_id": CLIENT_ID,
        "grant_type": "authorization_code",
        "client_info": "1",
        "client_secret": SECRET,
        "code_verifier": flow.verifier,
        "code": code,
        "redirect_uri": flow.redirect_uri,
        "scope": flow.scope,
        **overrides,
    }
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/{TENANT}/oauth2/v2.0/token", data=data, base_url=BASE)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def assert_entra_error(response, status: int, error: str, code: int) -> dict:
    """Entra's error JSON: the shape, the `error`, the AADSTS code and the HTTP status."""
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    for line in ("\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "):
        assert line in body["error_description"]
    assert set(body) >= {"timestamp", "trace_id", "correlation_id", "error_uri"}
    assert body["error_uri"].endswith(f"/error?code={code}")
    assert "T" not in body["timestamp"]
    return body
