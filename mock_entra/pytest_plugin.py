"""pytest fixtures for testing apps against the mock (a `pytest11` plugin: installing
entra-lab, even without extras, makes them available; they add no options and their names are
unique, so they sit next to any other plugin).

| fixture | scope | what |
|---|---|---|
| `mock_entra_config` | session | the `MockConfig` to serve (override to add tenants, apps) |
| `mock_entra_server` | session | a live HTTPS mock (`MockEntra`) on an ephemeral port |
| `mock_entra` | function | the same server, `reset()` before the test |
| `mock_entra_intercept` | function | `MockEntraInterceptor`: production URLs answered in-process |
| `mock_entra_scenario` | function | switch fault scenarios on in the session's mock for one test |
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Imported by the fixtures, not here: this plugin is loaded by every pytest run of a project
# that installs entra-lab, and the mock's imports (Flask, cryptography, responses) cost
# ~0.3 s that a run not using the fixtures should not pay.
if TYPE_CHECKING:
    from mock_entra.core.config import MockConfig
    from mock_entra.intercept import MockEntraInterceptor
    from mock_entra.server import MockEntra


@pytest.fixture(scope="session")
def mock_entra_config() -> MockConfig:
    """The config every mock of the session serves. Override in a conftest::

    @pytest.fixture(scope="session")
    def mock_entra_config():
        return with_redirect_uris(DEFAULT_CONFIG, ["http://localhost:8000/callback"])
    """
    from mock_entra.core.config import DEFAULT_CONFIG

    return DEFAULT_CONFIG


def copy_keys(key_template: Path, state_dir: Path) -> Path:
    """`state_dir`, made a copy of `key_template`'s CA, TLS and signing keys with no store:
    a mock started on it makes no RSA keys and serves the template's TLS key."""
    shutil.copytree(key_template, state_dir, ignore=shutil.ignore_patterns("store.sqlite3*"))
    return state_dir


@contextlib.contextmanager
def live_mock(
    config: MockConfig, key_template: Path, workdir: Path, **options: Any
) -> Iterator[MockEntra]:
    """A live mock (`MockEntra.start(config, **options)`, admin API on) on a state dir under
    `workdir` copied from `key_template`; stopped on leaving the `with`. What
    `mock_entra_server` runs, for a test module that needs a second server (another config,
    more workers)."""
    from mock_entra.server import MockEntra

    state = copy_keys(key_template, workdir / "state")
    with MockEntra.start(config, state_dir=state, **options) as mock:
        yield mock


@pytest.fixture(scope="session")
def mock_entra_server(
    mock_entra_config: MockConfig,
    _mock_entra_key_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MockEntra]:
    """A live mock over HTTPS on an ephemeral port, one per session, admin API on, its keys
    the session's (`_mock_entra_key_template`). Trust it with `mock.ca_bundle` (system CAs +
    the mock's CA)."""
    workdir = tmp_path_factory.mktemp("mock-entra")
    with live_mock(mock_entra_config, _mock_entra_key_template, workdir) as mock:
        yield mock


@pytest.fixture
def mock_entra(mock_entra_server: MockEntra) -> MockEntra:
    """The session's live mock, with its log, codes, sessions and clock reset."""
    mock_entra_server.reset()
    return mock_entra_server


@pytest.fixture(scope="session")
def _mock_entra_key_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state dir (CA, TLS and signing keys) made once per session: the session's server and
    each test's interceptor start from a copy, with a store of its own, instead of making five
    RSA keys. Override it to share keys made elsewhere (the repository's `key_template`)."""
    from mock_entra.core.pki.state import ensure_state

    return ensure_state(tmp_path_factory.mktemp("mock-entra-keys")).root


@pytest.fixture
def mock_entra_intercept(
    mock_entra_config: MockConfig, _mock_entra_key_template: Path, tmp_path: Path
) -> Iterator[MockEntraInterceptor]:
    """Answer `https://login.microsoftonline.com` and `https://graph.microsoft.com` in-process
    (via `responses`) for the duration of the test; `.clock` is a `FixedClock`. Each test gets
    an empty store; the keys are the session's."""
    from mock_entra.intercept import MockEntraInterceptor

    state = copy_keys(_mock_entra_key_template, tmp_path / "mock-entra-state")
    with MockEntraInterceptor(mock_entra_config, state_dir=state) as interceptor:
        yield interceptor


@pytest.fixture
def mock_entra_scenario(mock_entra_server: MockEntra) -> Iterator[Callable[..., Any]]:
    """Switch fault scenarios on in the session's live mock for this test only; each is
    cleared when the test ends::

        def test_app_survives_graph_throttling(mock_entra_scenario):
            mock_entra_scenario("graph.throttled", client_id=CLIENT_ID, times=1)
    """
    with contextlib.ExitStack() as scenarios:

        def activate(name: str, **scope: Any) -> Any:
            return scenarios.enter_context(mock_entra_server.scenario(name, **scope))

        yield activate
