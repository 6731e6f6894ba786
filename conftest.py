"""Repository-wide test options. Which tests a run runs (`slow`, the container tests marked
`docker`, `--run-slow`, CI) is `tests/selection.py`; how container tests and browser tests stay
apart when both run (`browser`, a lock) is `tests/network_lock.py`: both are plugins loaded
here. `waits` (registered by the conformance plugin) marks tests that mostly sleep on real
timers: they start first, so that the other pytest-xdist workers work meanwhile.

Shared session fixtures, so a run starts each expensive thing once per process (the run is
spread over pytest-xdist workers, see `addopts`; each worker is a process of its own):

| fixture | scope | what |
|---|---|---|
| `key_template` | session | a mock state dir (CA, TLS cert, signing keys) made once: copy it |
| `_mock_entra_key_template` | session | `key_template`: the plugin's mock and interceptors use it |
| `lab_playwright` | session | the one Playwright driver of the process |
| `lab_browser` | session | the one Chromium of the process; the suites' `browser` is this one |
| `pinned_browser` | function | factory: a Chromium of its own, trusting given SPKI pins |

`lab_browser` trusts (SPKI pins, never `ignore_https_errors`) the TLS key of `key_template`,
which every mock started from a copy serves, and the conformance target's hosts when the run
has tests that use the target. A test that needs a browser of its own (other pins, other
launch flags) gets one from `pinned_browser`: never from a second `sync_playwright()`, which
Playwright refuses while the run's driver is up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# pytester: tests of the pytest plugins run pytest themselves.
pytest_plugins = ("pytester", "tests.selection", "tests.network_lock")

# Bytecode caches are written, even where PYTHONDONTWRITEBYTECODE (set on the project's shared
# machine) says not to: without them each pytest-xdist worker compiles the ~2,000 modules it
# imports (Flask, cryptography, MSAL, the Graph SDK, the tests) from source at every run, and so
# does each server process a test starts; that was over a third of the default run's CPU time
# (docs/performance.md). In this process and the ones it starts (workers, servers, CLIs);
# `__pycache__` is git-ignored.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright


CONTAINER_TESTS = "tests/containers/"  # everything under it is marked `docker`


def browser_modules_first(items: list[pytest.Item]) -> None:
    """Move the modules that use the browser before all others, keeping every other order.

    They are the long ones (sign-ins, waits on real timers): started first, they overlap with
    the many short tests, which then even out the pytest-xdist workers' ends. (Code that
    needs an event loop of its own gets one in a thread: `tests/event_loop.run_coroutine`.)"""
    from tests.network_lock import uses_browser  # (a plugin: imported once pytest rewrites it)

    browser_files = {item.path for item in items if uses_browser(item)}
    items[:] = [i for i in items if i.path in browser_files] + [
        i for i in items if i.path not in browser_files
    ]


def beside_container_tests(items: list[pytest.Item]) -> None:
    """The order of a run whose container tests run on workers: container tests first, then
    the modules without a browser, then the browser modules, each keeping its order. Browser
    tests wait while a container test runs (`tests.network_lock`): the workers beside the
    container tests' one do the tests that need not wait meanwhile."""
    from tests.network_lock import uses_browser

    browser_files = {
        item.path for item in items if uses_browser(item) or item.get_closest_marker("browser")
    }

    def phase(item: pytest.Item) -> int:
        if item.get_closest_marker("docker"):
            return 0
        return 2 if item.path in browser_files else 1

    items.sort(key=phase)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests.selection import run_containers

    for item in items:
        if item.nodeid.startswith(CONTAINER_TESTS):
            item.add_marker(pytest.mark.docker)
    browser_modules_first(items)
    # Tests that mostly wait on real timers first (marker: conformance.plugin), so that the
    # other pytest-xdist workers work meanwhile; a stable sort keeps every other order.
    items.sort(key=lambda item: "waits" not in item.keywords)
    if run_containers(config) and hasattr(config, "workerinput"):
        beside_container_tests(items)


# -- pytest-xdist ------------------------------------------------------------------------------

# Tests under these paths run on one worker each (the scheduler sees node ids, not marks; and
# `xdist_group` marks are lost on pytest 9.2, pytest-xdist issue 1386):
SAME_WORKER = {
    # One engine: one image build per run, not one per worker.
    CONTAINER_TESTS: "containers",
    # The modules on the session's live mock (`mock_entra_server`, a `serve` process) and on a
    # second one for two apps: one worker starts them, not each. (And the SDK's first parsed
    # response imports ~1,250 generated modules: paid once.)
    "tests/mock_entra/test_graph_msgraph_sdk.py": "live_mock",
    "tests/mock_entra/test_msal_live.py": "live_mock",
    "tests/mock_entra/test_faults_live.py": "live_mock",
    "tests/mock_entra/test_controls.py": "live_mock",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist loadgroup` with the groups of `SAME_WORKER`; every other test on its own."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class PathGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for prefix, group in SAME_WORKER.items():
                if nodeid.startswith(prefix):
                    return group
            return nodeid

    return PathGroups(config, log)


SUMMARY_LINES = pytest.StashKey[list[str]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Lines a worker's conftest wants in the run's summary (`workeroutput["summary_lines"]`):
    the controller loads no conftest below the test paths."""
    lines = node.config.stash.setdefault(SUMMARY_LINES, [])
    lines.extend(getattr(node, "workeroutput", {}).get("summary_lines", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in terminalreporter.config.stash.get(SUMMARY_LINES, []):
        terminalreporter.write_line(line)


# -- shared session fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def key_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scope: session. Keys and certificates made once; copy them into a state dir (with
    `mock_entra.pytest_plugin.copy_keys(key_template, dest)`) instead of making new ones (RSA
    generation is slow)."""
    from mock_entra.core.pki.state import ensure_state

    return ensure_state(tmp_path_factory.mktemp("keys")).root


@pytest.fixture(scope="session")
def _mock_entra_key_template(key_template: Path) -> Path:
    """The plugin's key template is `key_template`: its `mock_entra_server` and
    `mock_entra_intercept` serve the TLS key `lab_browser` trusts, and make no keys."""
    return key_template


@pytest.fixture(scope="session")
def lab_playwright() -> Iterator[Playwright]:
    """Scope: session. The process's one Playwright driver (the suites' `playwright`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def lab_browser(
    request: pytest.FixtureRequest,
    lab_playwright: Playwright,
    key_template: Path,
    pytestconfig: pytest.Config,
) -> Iterator[Browser]:
    """Scope: session. The process's one Chromium. It trusts the TLS key every mock started from
    `key_template` serves, and the conformance target when a test of the run uses it (the
    target then starts here, before the first browser test, instead of later). Give each
    test its own context (`browser.new_context()`): contexts are cheap, launches are not."""
    from cryptography import x509

    from conformance.browser_fixtures import launch_chromium, target_pins
    from conformance.trust import certificate_pin
    from mock_entra.core.pki.state import StatePaths

    server_cert = x509.load_pem_x509_certificate(StatePaths(key_template).server_cert.read_bytes())
    pins = [certificate_pin(server_cert)]
    used = {name for item in request.session.items for name in getattr(item, "fixturenames", ())}
    if "target" in used:
        pins += target_pins(request.getfixturevalue("target"))
    browser = launch_chromium(lab_playwright, pytestconfig, sorted(set(pins)))
    yield browser
    browser.close()


@pytest.fixture
def pinned_browser(
    lab_playwright: Playwright, pytestconfig: pytest.Config
) -> Iterator[Callable[[list[str]], Browser]]:
    """Scope: function. Factory: `pinned_browser(pins)` is a Chromium of its own, launched on
    the run's driver, trusting exactly the SPKI `pins` (from `conformance.trust.spki_pins`);
    closed after the test. For servers whose keys are not `key_template`'s (a demo, a
    container)."""
    from conformance.browser_fixtures import launch_chromium

    launched: list[Browser] = []

    def launch(pins: list[str]) -> Browser:
        launched.append(launch_chromium(lab_playwright, pytestconfig, pins))
        return launched[-1]

    yield launch
    for browser in launched:
        if browser.is_connected():
            browser.close()
