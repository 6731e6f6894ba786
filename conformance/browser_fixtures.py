"""Browser fixtures of the conformance suites, named as pytest-playwright names them. The
suites' `conftest.py` imports them, so they apply to the suites' folder only (next to
pytest-playwright, its fixtures stay what they are elsewhere). The options are declared by
`conformance.plugin`, which is loaded before the command line is parsed:

| option | default | what |
|---|---|---|
| `--headed` | headless | show the browser |
| `--slowmo MS` | 0 | slow every Playwright action down |
| `--tracing on\\|off\\|retain-on-failure` | retain-on-failure | Playwright traces per test |
| `--output DIR` | `test-results` | per-test folder for failure screenshots and traces |
| `--browser-channel NAME` | none | a Playwright channel (`chrome`, `msedge`) instead of Chromium |

With pytest-playwright installed these options are its own (same names and meanings; its
`--tracing` defaults to `off`, so `conformance run` passes `retain-on-failure`): declaring them
twice would stop pytest with "option dest 'headed' already used".

Fixtures: `playwright`, `browser`, `signed_in_states` (session); `browser_context_args`,
`new_context`, `context`, `page`, `artifacts_dir`, `signed_in_page`, `sso_page` (function).
Chromium trusts the target's CA bundle through verified SPKI pins (`conformance.trust`),
never through `ignore_https_errors`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from conformance.targets import Target, User

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


def phase_failed(node: pytest.Item) -> bool:
    """Whether `node`'s setup or call phase failed (as seen from fixture teardown)."""
    reports = node.stash.get(PHASE_REPORTS, {})
    return any(r.failed for r in reports.values())


def slug(nodeid: str) -> str:
    """A folder name for a test id: `suites/test_x.py::test_y[a]` → `suites-test_x.py-test_y-a`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", nodeid).strip("-")[:150]


# -- browser ---------------------------------------------------------------------------------


def shared_fixture(request: pytest.FixtureRequest, name: str) -> Any:
    """The session fixture `name` when a conftest above the suites provides one, else None.
    entra-lab's own test run provides `lab_playwright` and `lab_browser` in its root
    `conftest.py`, so the suites and the mock's browser tests share one Chromium."""
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return None


@pytest.fixture(scope="session")
def playwright(request: pytest.FixtureRequest) -> Iterator[Playwright]:
    """Scope: session. The Playwright driver (sync API)."""
    shared = shared_fixture(request, "lab_playwright")
    if shared is not None:
        yield shared
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def launch_chromium(
    playwright: Playwright, pytestconfig: pytest.Config, pins: list[str]
) -> Browser:
    """Chromium as the options ask (see `conformance.browser` for which one), trusting the
    certificate keys `pins` beyond the system's; a missing browser stops the run."""
    from conformance.browser import (
        BrowserChoice,
        BrowserNotFound,
        ensure_browser,
        launch_browser,
    )

    channel = pytestconfig.getoption("--browser-channel")
    headed = bool(pytestconfig.getoption("--headed"))
    try:
        choice = (
            BrowserChoice(None, "channel", channel)
            if channel
            else ensure_browser(playwright.chromium.executable_path, headless=not headed)
        )
    except BrowserNotFound as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)
    return launch_browser(
        playwright,
        choice,
        headed=headed,
        slowmo=pytestconfig.getoption("--slowmo"),
        spki_pins=pins,
    )


def target_pins(target: Target) -> list[str]:
    """Pins of the target's authority and Graph hosts (none without a CA bundle)."""
    from conformance.trust import spki_pins

    return spki_pins([target.authority, target.graph_endpoint], target.ca_bundle)


@pytest.fixture(scope="session")
def browser(
    playwright: Playwright,
    target: Target,
    pytestconfig: pytest.Config,
    request: pytest.FixtureRequest,
) -> Iterator[Browser]:
    """Scope: session. Chromium (see `conformance.browser` for which one), trusting the
    target's authority and Graph hosts when a CA bundle is configured (the shared
    `lab_browser` when a conftest above provides one: it trusts the target too)."""
    shared = shared_fixture(request, "lab_browser")
    if shared is not None:
        yield shared
        return
    browser = launch_chromium(playwright, pytestconfig, target_pins(target))
    yield browser
    browser.close()


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    """Scope: function. Keyword arguments for every new context; override to add some."""
    return {"ignore_https_errors": False, "locale": "en-US"}


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Path:
    """Scope: function. This test's folder under `--output` (created only when used)."""
    return Path(pytestconfig.getoption("--output")) / slug(request.node.nodeid)


@pytest.fixture
def new_context(
    browser: Browser,
    browser_context_args: dict[str, Any],
    artifacts_dir: Path,
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
) -> Iterator[Callable[..., BrowserContext]]:
    """Scope: function. Factory for browser contexts (`new_context(storage_state=...)`),
    traced per `--tracing`; on failure each page's screenshot and the trace are saved under
    `artifacts_dir` and listed in the results file."""
    from conformance.plugin import recorder_of

    tracing = pytestconfig.getoption("--tracing")
    contexts: list[BrowserContext] = []

    def make(**kwargs: Any) -> BrowserContext:
        ctx = browser.new_context(**{**browser_context_args, **kwargs})
        if tracing != "off":
            ctx.tracing.start(screenshots=False, snapshots=True)
        contexts.append(ctx)
        return ctx

    yield make

    failed = phase_failed(request.node)
    recorder = recorder_of(pytestconfig)
    for n, ctx in enumerate(contexts):
        if failed:
            artifacts_dir.mkdir(parents=True, exist_ok=True)
            for m, pg in enumerate(ctx.pages):
                shot = artifacts_dir / f"screenshot-{n}-{m}.png"
                pg.screenshot(path=str(shot), full_page=True)
                recorder.add_artifact(request.node.nodeid, shot)
        if tracing == "on" or (tracing == "retain-on-failure" and failed):
            artifacts_dir.mkdir(parents=True, exist_ok=True)
            trace = artifacts_dir / f"trace-{n}.zip"
            ctx.tracing.stop(path=str(trace))
            recorder.add_artifact(request.node.nodeid, trace)
        elif tracing != "off":
            ctx.tracing.stop()
        ctx.close()
    if failed and artifacts_dir.is_dir():
        # Also list what page objects saved themselves (e.g. the sign-in failure screenshot).
        known = set(recorder.record(request.node.nodeid).artifacts)
        for path in sorted(artifacts_dir.iterdir()):
            if str(path) not in known:
                recorder.add_artifact(request.node.nodeid, path)


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """Scope: function. A fresh browser context: no cookies, no Entra session."""
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """Scope: function. A page in `context`."""
    return context.new_page()


# -- signed-in state -------------------------------------------------------------------------


class SignedInStates:
    """Storage states of users who signed in once, reused by tests that need no fresh login.

    Two per user: the *app* state (the app's session cookie and Entra's SSO cookies: the user
    is signed in to the app) and the *SSO* state (Entra's cookies only: the next sign-in to
    the app completes without a password, as for a user who signed in elsewhere earlier).
    """

    def __init__(self, browser: Browser, target: Target, directory: Path, output: Path) -> None:
        self.browser = browser
        self.target = target
        self.directory = directory
        self.output = output
        self._paths: dict[tuple[str, str], Path] = {}

    def app_state(self, user: User) -> Path:
        """The saved app + SSO state of `user`, signing in first if there is none."""
        if (user.username, "app") not in self._paths:
            self._sign_in(user)
        return self._paths[(user.username, "app")]

    def sso_state(self, user: User) -> Path:
        """The saved Entra-only state of `user` (not signed in to the app)."""
        if (user.username, "sso") not in self._paths:
            self._sign_in(user)
        return self._paths[(user.username, "sso")]

    def refresh(self, user: User) -> Path:
        """Sign `user` in again (the saved app session was ended) and return the app state."""
        self._paths.pop((user.username, "app"), None)
        self._paths.pop((user.username, "sso"), None)
        return self.app_state(user)

    def _sign_in(self, user: User) -> None:
        from conformance.flows import sign_in_to_app
        from conformance.pages.app import HomePage

        app_cookie_names: set[str] = set()

        def note_app_cookies(response: Any) -> None:
            if response.url.startswith(self.target.app_url + "/"):
                for header in response.header_values("set-cookie"):
                    app_cookie_names.add(header.split("=", 1)[0].strip())

        ctx = self.browser.new_context(ignore_https_errors=False, locale="en-US")
        try:
            page = ctx.new_page()
            page.on("response", note_app_cookies)
            sign_in_to_app(page, self.target, user, artifacts_dir=self.output / "signed-in")
            HomePage(page, self.target).expect_signed_in(user.username, user.display_name)
            state = ctx.storage_state()
        finally:
            ctx.close()
        app_host = urlsplit(self.target.app_url).hostname
        sso = {
            **state,
            "cookies": [
                c
                for c in state["cookies"]
                if not (c["name"] in app_cookie_names and c["domain"].lstrip(".") == app_host)
            ],
        }
        for kind, content in (("app", state), ("sso", sso)):
            path = self.directory / f"{slug(user.username)}-{kind}.json"
            path.write_text(json.dumps(content))
            self._paths[(user.username, kind)] = path


@pytest.fixture(scope="session")
def signed_in_states(
    browser: Browser,
    target: Target,
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
) -> SignedInStates:
    """Scope: session. `SignedInStates`: sign each user in once, reuse the cookies.
    The files hold live session cookies: they stay in pytest's temporary directory."""
    states = SignedInStates(
        browser,
        target,
        tmp_path_factory.mktemp("storage-state"),
        Path(pytestconfig.getoption("--output")),
    )
    return states


@pytest.fixture
def signed_in_page(
    new_context: Callable[..., BrowserContext],
    signed_in_states: SignedInStates,
    target: Target,
    user: User,
) -> Page:
    """Scope: function. A page on the app's home page, `user` already signed in (from the
    saved state; signs in again if an earlier test ended that session). Tests that sign out
    or reset the mock must not use it: they would end the shared session."""
    from conformance.pages.app import HomePage

    for attempt in range(2):
        state = signed_in_states.app_state(user) if attempt == 0 else signed_in_states.refresh(user)
        page = new_context(storage_state=str(state)).new_page()
        home = HomePage(page, target).open()
        if home.user_name.count():
            return page
    pytest.fail(f"could not reuse a signed-in session for {user.username}")


@pytest.fixture
def sso_page(
    new_context: Callable[..., BrowserContext],
    signed_in_states: SignedInStates,
    user: User,
) -> Page:
    """Scope: function. A blank page in a browser that holds `user`'s Entra session but is
    not signed in to the app: the next sign-in needs no password. Cheap, and safe for tests
    that sign in again (they never end the shared app session)."""
    return new_context(storage_state=str(signed_in_states.sso_state(user))).new_page()
