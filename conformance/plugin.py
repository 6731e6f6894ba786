"""pytest plugin of the conformance suites: one suite, two targets.

Not a global `pytest11` plugin: it is activated where it is asked for, with
`-p conformance.plugin` (this repository's pytest `addopts`, and `conformance run`) or by the
suites' `conftest.py`. Its fixture names do not clash with pytest-playwright's; the browser
fixtures, which do, are imported by that conftest so that they apply to the suites only.

Options (browser options: the table in `conformance.browser_fixtures`; pytest-playwright's
own when it is installed):

* `--target mock|live` (env twin `CONFORMANCE_TARGET`; default `mock`): the local stack, or
  the tenant and deployed app described by `ENTRA_*` (see `conformance.targets`).
* `--conformance-results PATH`: write outcomes, observations and artifact paths as JSON.

Markers: `mock_only` (needs the mock's admin API or clock; `mock_only(reason=...)` says what
else a live target cannot be assumed to allow) and `live_only`; the other target skips them
with the reason.

Fixtures here: `target` (session), `http` (session), `discovery` (session), `msal_app`
(factory), `user` / `second_user`, `observe`, `mock_clock`. Browser fixtures live in
`conformance.browser_fixtures`.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.results import RunRecorder
from conformance.targets import (
    Target,
    TargetConfigError,
    User,
    describe,
    live_target_from_env,
    unreachable,
)

if TYPE_CHECKING:
    import msal

    from conformance.trust import TrustingSession
    from mock_entra import MockEntra

ENV_TARGET = "CONFORMANCE_TARGET"
TARGETS = ("mock", "live")
TARGET_KEY = pytest.StashKey[str]()
LIVE_KEY = pytest.StashKey[Target]()
RECORDER_KEY = pytest.StashKey[RunRecorder]()
TRACING = ("on", "off", "retain-on-failure")
# pytest-playwright's plugin: its entry point's name, or its module when given with -p.
PYTEST_PLAYWRIGHT = ("playwright", "pytest_playwright.pytest_playwright")
MARKERS = {
    "mock_only(reason=...)": "needs the mock's admin API or clock (or what `reason` says); "
    "skipped with --target live",
    "live_only": "needs a real tenant and deployment; skipped with --target mock",
    "slow": "takes seconds of waiting or processes; a project may leave it out of quick runs",
    "waits": "mostly waits on real timers (Retry-After, MSAL's throttle, HTTP timeouts): "
    "worth starting first when tests run in parallel",
}


def playwright_plugin_will_load(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest-playwright is, or is about to be, loaded in this run.

    `-p conformance.plugin` is loaded before pytest loads the installed plugins, so "about to
    be" is read from the installed entry points, as pytest will read them.
    """
    if any(pluginmanager.has_plugin(name) for name in PYTEST_PLAYWRIGHT):
        return True
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") or pluginmanager.is_blocked("playwright"):
        return False
    return any(
        entry.name == "playwright" for entry in importlib.metadata.entry_points(group="pytest11")
    )


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """`--target` and `--conformance-results`; pytest-playwright's browser options, unless
    pytest-playwright declares them itself (twice would stop pytest: "option dest 'headed'
    already used"). Its `--tracing` defaults to `off`; `conformance run` passes its own."""
    group = parser.getgroup("conformance", "entra-lab conformance suites")
    group.addoption(
        "--target",
        choices=TARGETS,
        default=None,
        help=f"run the conformance suites against the local mock (default) or a live tenant "
        f"(ENTRA_* variables); env {ENV_TARGET}",
    )
    group.addoption(
        "--conformance-results",
        default=None,
        metavar="PATH",
        help="write outcomes, observations and artifact paths of the run to this JSON file",
    )
    if playwright_plugin_will_load(pluginmanager):
        return
    browser = parser.getgroup("conformance-browser", "conformance suites: browser")
    browser.addoption("--headed", action="store_true", default=False, help="show the browser")
    browser.addoption(
        "--slowmo", type=float, default=0, metavar="MS", help="slow Playwright actions down"
    )
    browser.addoption(
        "--tracing",
        choices=TRACING,
        default="retain-on-failure",
        help="record a Playwright trace per test (default: keep it only when the test fails)",
    )
    browser.addoption(
        "--output",
        default="test-results",
        metavar="DIR",
        help="where failure screenshots and traces go, a folder per test (default test-results)",
    )
    browser.addoption(
        "--browser-channel",
        default=None,
        metavar="NAME",
        help="launch this Playwright channel (chrome, msedge) instead of Chromium",
    )


def target_kind(config: pytest.Config) -> str:
    """The selected target: `--target`, else `CONFORMANCE_TARGET`, else `mock`."""
    return config.stash[TARGET_KEY]


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers, pick the target and, for `live`, check `ENTRA_*` once."""
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    kind = config.getoption("--target") or os.environ.get(ENV_TARGET, "").strip() or "mock"
    if kind not in TARGETS:
        raise pytest.UsageError(f"{ENV_TARGET} must be one of {', '.join(TARGETS)}, got {kind!r}")
    config.stash[TARGET_KEY] = kind
    if kind == "live" and not config.getoption("help"):
        try:
            live = live_target_from_env(os.environ)
        except TargetConfigError as error:
            # One message naming everything that is missing, not a failure per test.
            raise pytest.UsageError(str(error)) from None
        # The controller checked before starting any xdist worker: a worker does not again.
        checked = config.getoption("collectonly") or hasattr(config, "workerinput")
        problem = None if checked else unreachable(live)
        if problem:
            # Once, here: with no network every test would fail on its own name lookup.
            raise pytest.UsageError(f"--target live cannot start: {problem}")
        config.stash[LIVE_KEY] = live
    results = config.getoption("--conformance-results")
    recorder = RunRecorder(Path(results) if results else None)
    config.stash[RECORDER_KEY] = recorder
    config.pluginmanager.register(recorder, "conformance-recorder")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip `mock_only` tests on the live target and `live_only` tests on the mock."""
    kind = target_kind(item.config)
    mock_only = item.get_closest_marker("mock_only")
    if kind != "mock" and mock_only:
        reason = mock_only.kwargs.get("reason") or "needs the mock's admin API or clock"
        pytest.skip(f"mock_only: {reason}")
    if kind != "live" and item.get_closest_marker("live_only"):
        pytest.skip("live_only: needs a real tenant and deployment (--target live)")


def recorder_of(config: pytest.Config) -> RunRecorder:
    """The run's `RunRecorder`."""
    return config.stash[RECORDER_KEY]


# -- target ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """Scope: session. The `Target` under test.

    `mock`: starts `mock_entra` (HTTPS, admin API on) and `client_app` (a real gunicorn
    server) on ephemeral ports once, wires them, and stops both at the end. `live`: the
    tenant and app described by `ENTRA_*`.
    """
    recorder = recorder_of(pytestconfig)
    if target_kind(pytestconfig) == "live":
        live = pytestconfig.stash[LIVE_KEY]
        recorder.target = describe(live)
        yield live
        return
    from conformance.stack import LocalStack

    with LocalStack.start(tmp_path_factory.mktemp("conformance-stack")) as stack:
        local = stack.target()
        recorder.target = describe(local)
        yield local


@pytest.fixture(scope="session")
def http(target: Target) -> Iterator[TrustingSession]:
    """Scope: session. A `requests` session that trusts the target's CA bundle per request."""
    from conformance.trust import TrustingSession

    with TrustingSession(target.ca_bundle) as session:
        yield session


@pytest.fixture(scope="session")
def discovery(target: Target, http: TrustingSession) -> dict[str, Any]:
    """Scope: session. The authority's v2.0 OpenID configuration document."""
    response = http.get(target.discovery_url)
    assert response.status_code == 200, f"{target.discovery_url}: HTTP {response.status_code}"
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def msal_app(target: Target) -> Iterator[Callable[..., msal.ConfidentialClientApplication]]:
    """Scope: function. Factory for MSAL confidential clients of the target::

        app = msal_app()                          # the target's app registration
        app = msal_app(client_secret="wrong")     # same app, another secret
        app = msal_app(client_id=str(uuid4()))    # an app the tenant does not know

    Each has its own HTTP cache (MSAL caches 400 answers for 60 s) and a session that
    verifies TLS with the target's CA bundle on every request.
    """
    import msal

    from conformance.trust import TrustingSession

    sessions: list[TrustingSession] = []

    def make(
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_cache: msal.TokenCache | None = None,
    ) -> msal.ConfidentialClientApplication:
        sessions.append(TrustingSession(target.ca_bundle))
        return msal.ConfidentialClientApplication(
            client_id or target.client_id,
            client_credential=target.client_secret if client_secret is None else client_secret,
            authority=target.authority,
            http_client=sessions[-1],
            # A non-Microsoft host (the mock, a stand-in tenant) is unknown to MSAL's
            # instance discovery, which would call login.microsoftonline.com first.
            instance_discovery=None if target.is_microsoft_host else False,
            token_cache=token_cache,
        )

    yield make
    # Idle keep-alive connections would make the mock's graceful shutdown wait for them.
    for session in sessions:
        session.close()


@pytest.fixture
def user(target: Target) -> User:
    """Scope: function. The target's first test user."""
    return target.users[0]


@pytest.fixture
def second_user(target: Target) -> User:
    """Scope: function. The target's second test user; skips the test when there is none."""
    if len(target.users) < 2:
        pytest.skip("needs a second test user (ENTRA_USERNAME_2 / ENTRA_PASSWORD_2)")
    return target.users[1]


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """Scope: function. `observe(key, value)` records what the target answered (discovery
    fields, claim names, error codes) in the results file, for `conformance diff`."""
    recorder = recorder_of(request.config)
    nodeid = request.node.nodeid

    def record(key: str, value: Any) -> None:
        recorder.observe(nodeid, key, value)

    return record


class MockClock:
    """Moves the mock's clock (codes, tokens and sessions expire by it) and puts it back."""

    def __init__(self, mock: MockEntra) -> None:
        self.mock = mock
        self.moved = 0.0

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward by `seconds`."""
        self.mock.clock.advance(seconds)
        self.moved += seconds

    def restore(self) -> None:
        """Undo every `advance` (ID tokens minted "in the future" would fail the app's checks)."""
        self.mock.clock.advance(-self.moved)
        self.moved = 0.0


@pytest.fixture
def mock_clock(target: Target) -> Iterator[MockClock]:
    """Scope: function. `mock_clock.advance(seconds)` moves the mock's clock; it is moved back
    after the test. Needs the mock: mark the test `mock_only`."""
    if target.mock is None:
        pytest.fail("mock_clock needs --target mock; mark the test mock_only")
    clock = MockClock(target.mock)
    yield clock
    clock.restore()
