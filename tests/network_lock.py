"""Container tests and browser tests never at once, in a run spread over pytest-xdist workers:
a pytest plugin (the root `conftest.py` loads it).

Creating or removing a container network or interface (`docker compose up`/`down`,
`docker run`/`rm`) changes the host's links and addresses; Chromium watches them (netlink) and
aborts every request it has in flight with `net::ERR_NETWORK_CHANGED`
(https://issues.chromium.org/issues/41465264), so a sign-in in another worker fails. So, in a
run whose container tests run (`tests.selection`), a test that drives a Chromium (marker
`browser`) holds a shared lock for its setup, call and teardown, and a container test
(`docker`) an exclusive one: any number of browser tests at once, or one container test.
Every other test ignores the lock, so the run keeps its workers; and a browser test that
comes while a container test runs only waits for that one test.

The lock is a flock(2) on a file the pytest-xdist controller makes for the run and hands to
its workers. Without workers (`-n 0`) there is one process, and no lock.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.selection import run_containers

# Fixtures that start the run's Playwright driver (directly or through a browser fixture).
BROWSER_FIXTURES = frozenset({"lab_playwright", "lab_browser", "pinned_browser", "playwright"})
WORKER_KEY = "entra_lab_network_lock"  # in pytest-xdist's `workerinput`
LOCK = pytest.StashKey["NetworkLock"]()
LOCK_DIR = pytest.StashKey[Path]()
# IPv6 duplicate address detection: an interface's link-local address is "tentative" for
# about a second after the interface comes up, and its arrival is another change Chromium
# sees. IFA_F_TENTATIVE in the flags column of /proc/net/if_inet6 (linux/if_addr.h).
IF_INET6 = Path("/proc/net/if_inet6")
TENTATIVE = 0x40
SETTLE_TIMEOUT = 5.0


def uses_browser(item: pytest.Item) -> bool:
    """Whether a test drives a Chromium through the run's browser fixtures."""
    return bool(BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())))


def tentative_addresses(if_inet6: Path = IF_INET6) -> list[str]:
    """The host's IPv6 addresses still in duplicate address detection (none where the file
    is absent: no IPv6, not Linux)."""
    try:
        lines = if_inet6.read_text().splitlines()
    except OSError:
        return []
    return [f[0] for f in map(str.split, lines) if len(f) >= 5 and int(f[4], 16) & TENTATIVE]


def settle(timeout: float = SETTLE_TIMEOUT) -> None:
    """Wait until no address is tentative (at most `timeout` seconds): the last change a
    container test made has then reached every Chromium before a browser test starts."""
    deadline = time.monotonic() + timeout
    while tentative_addresses() and time.monotonic() < deadline:
        time.sleep(0.1)


class NetworkLock:
    """A readers-writer lock across processes: flock(2) on `path`. Each hold opens the file
    anew: flock locks belong to an open file, so two holds in one process conflict as two
    processes' would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def held(self, *, exclusive: bool, blocking: bool = True) -> Iterator[None]:
        """Hold the lock (shared, or `exclusive`); with `blocking` False, raise
        `BlockingIOError` at once if another hold is in the way."""
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if blocking else fcntl.LOCK_NB)
        with self.path.open("a") as handle:
            fcntl.flock(handle, flags)
            try:
                yield
            finally:
                if exclusive:
                    settle()
                fcntl.flock(handle, fcntl.LOCK_UN)


def role(item: pytest.Item) -> bool | None:
    """True: the test takes the lock exclusively (a container test); False: shared (a browser
    test); None: it ignores the lock."""
    if item.get_closest_marker("docker"):
        return True
    if item.get_closest_marker("browser"):
        return False
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives a Chromium (set on every test using the browser fixtures; put it on a "
        "test that starts one in a child process): never runs while a container test does",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if uses_browser(item):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """On the pytest-xdist controller: the lock's file, for a run whose container tests run."""
    config: pytest.Config = node.config
    if not run_containers(config):
        return
    if LOCK_DIR not in config.stash:
        config.stash[LOCK_DIR] = Path(tempfile.mkdtemp(prefix="entra-lab-network-"))
    node.workerinput[WORKER_KEY] = str(config.stash[LOCK_DIR] / "lock")


def pytest_unconfigure(config: pytest.Config) -> None:
    if LOCK_DIR in config.stash:
        shutil.rmtree(config.stash[LOCK_DIR], ignore_errors=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """On a worker of such a run: the lock, if the run has container tests at all."""
    path = getattr(session.config, "workerinput", {}).get(WORKER_KEY)
    if path and any(item.get_closest_marker("docker") for item in session.items):
        session.config.stash[LOCK] = NetworkLock(Path(path))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    lock = item.config.stash.get(LOCK, None)
    exclusive = role(item)
    if lock is None or exclusive is None:
        return (yield)
    with lock.held(exclusive=exclusive):
        return (yield)


def pytest_report_header(config: pytest.Config) -> str | None:
    if run_containers(config) and config.getoption("dist", "no") != "no":
        return (
            "container tests run: a browser test waits while one does (their networks would "
            "abort Chromium's requests: tests/network_lock.py)"
        )
    return None
