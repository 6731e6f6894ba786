"""`mock-entra serve` under faults: a killed worker is replaced and the mock keeps
answering; SIGTERM stops it whatever its workers do; slow clients (bodies at one byte a second,
headers that never end) do not keep others from being answered. Process-level: marked slow."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from mock_entra import MockEntra
from mock_entra.core.config import DEFAULT_CONFIG

from .conftest import CLIENT_ID, REDIRECT, SECRET, TENANT

pytestmark = pytest.mark.slow

CC = {
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "grant_type": "client_credentials",
    "scope": "https://graph.microsoft.com/.default",
}


def workers_of(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        children |= {int(c) for c in task.read_text().split()}
    return children


def wait_for(check, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockEntra]:
    """Its own `mock-entra serve` with two workers (these tests hurt it)."""
    state = tmp_path_factory.mktemp("served")
    with MockEntra.start(DEFAULT_CONFIG, state_dir=state, workers=2, admin=False) as mock:
        wait_for(lambda: len(workers_of(mock.process.pid)) == 2, what="two workers")
        yield mock


@pytest.fixture
def http(served: MockEntra) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        session.verify = served.ca_file
        yield session


def sign_in_page(mock: MockEntra, http: requests.Session, timeout: float) -> requests.Response:
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": "openid profile User.Read",
            "state": "s",
            "nonce": "n",
        }
    )
    return http.get(
        f"{mock.authority}/oauth2/v2.0/authorize?{query}", timeout=timeout, verify=mock.ca_file
    )


def token(mock: MockEntra, http: requests.Session, timeout: float) -> requests.Response:
    return http.post(
        f"{mock.authority}/oauth2/v2.0/token", data=CC, timeout=timeout, verify=mock.ca_file
    )


class _Slow:
    """TLS sockets that send a request one byte a second from a thread, until closed."""

    def __init__(self, mock: MockEntra) -> None:
        self.mock = mock
        self.context = ssl.create_default_context(cafile=mock.ca_file)
        self.sockets: list[ssl.SSLSocket] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def open(self, head: bytes, drip: bytes) -> None:
        port = int(self.mock.base_url.rsplit(":", 1)[1])
        raw = socket.create_connection(("localhost", port), timeout=10)
        conn = self.context.wrap_socket(raw, server_hostname="localhost")
        conn.sendall(head)
        self.sockets.append(conn)
        thread = threading.Thread(target=self._drip, args=(conn, drip), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _drip(self, conn: ssl.SSLSocket, drip: bytes) -> None:
        for byte in drip:
            if self.stop.wait(1):
                return
            with contextlib.suppress(OSError):
                conn.sendall(bytes([byte]))

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        for conn in self.sockets:
            with contextlib.suppress(OSError):
                conn.close()


def test_slow_bodies_and_slow_headers_do_not_starve_the_workers(served, http):
    # Warm: both workers have served a sign-in page (Flask loaded) and a token; a new
    # connection each time, as the worker that accepts it is the kernel's choice.
    for _ in range(12):
        with requests.Session() as fresh:
            fresh.trust_env = False
            assert sign_in_page(served, fresh, timeout=30).status_code == 200
            assert token(served, fresh, timeout=30).status_code == 200
    body = urlencode(CC).encode()
    path = f"/{TENANT}/oauth2/v2.0/token"
    slow = _Slow(served)
    try:
        for _ in range(2):  # a token request whose body comes at one byte a second
            head = (
                f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            slow.open(head, body)
        for _ in range(50):  # headers that never end
            slow.open(f"GET /{TENANT}/v2.0/.well-known/openid-configuration HTTP/1.1\r\n".encode(),
                      b"X-Slow: " + b"a" * 100)  # fmt: skip
        time.sleep(1.5)  # the slow bodies have reached the server and are being read
        with requests.Session() as fresh:  # new connections, as a new browser's
            fresh.trust_env = False
            for _ in range(3):
                page = sign_in_page(served, fresh, timeout=1)
                assert page.status_code == 200 and 'name="loginfmt"' in page.text
                assert token(served, fresh, timeout=1).status_code == 200
    finally:
        slow.close()


def test_a_killed_worker_is_replaced_and_the_mock_keeps_answering(served, http):
    before = workers_of(served.process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: victim not in workers_of(served.process.pid), what="the kill")
    for _ in range(20):  # the other worker answers meanwhile; the port never closes
        assert token(served, http, timeout=10).status_code == 200
    wait_for(lambda: len(workers_of(served.process.pid)) == 2, what="a new worker")
    assert served.process.poll() is None
    assert victim not in workers_of(served.process.pid)
    assert sign_in_page(served, http, timeout=10).status_code == 200


def test_sigterm_stops_the_server_whatever_its_workers_do(tmp_path: Path):
    mock = MockEntra.start(DEFAULT_CONFIG, state_dir=tmp_path / "state", workers=2, admin=False)
    try:
        pid = mock.process.pid
        wait_for(lambda: len(workers_of(pid)) == 2, what="two workers")
        stuck = sorted(workers_of(pid))
        os.kill(stuck[0], signal.SIGSTOP)  # a worker that will never handle SIGTERM
        started = time.monotonic()
        mock.process.send_signal(signal.SIGTERM)
        assert mock.process.wait(30) == 0
        assert time.monotonic() - started < 15
        for worker in stuck:
            wait_for(lambda w=worker: not Path(f"/proc/{w}").exists() or _zombie(w), 5, "exit")
    finally:
        mock.stop()


def test_workers_exit_with_a_killed_server_and_a_restart_gets_the_port(tmp_path: Path):
    mock = MockEntra.start(DEFAULT_CONFIG, state_dir=tmp_path / "state", workers=2, admin=False)
    workers: set[int] = set()
    restarted = None
    try:
        wait_for(lambda: len(workers_of(mock.process.pid)) == 2, what="two workers")
        workers = workers_of(mock.process.pid)
        mock.process.kill()  # SIGKILL: granian has no chance to stop its workers
        mock.process.wait()
        wait_for(lambda: all(_gone(w) for w in workers), what="the orphaned workers to exit")
        port = mock.base_url.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "mock_entra", "serve", "--port", port,
                   "--state-dir", str(mock.paths.root), "--workers", "1"]  # fmt: skip
        process = subprocess.Popen(command, env={**os.environ, "MOCK_ENTRA_ADMIN_KEY": ""})
        restarted = MockEntra(DEFAULT_CONFIG, mock.paths, mock.base_url, None, process)
        restarted.wait_ready(30)  # "port in use" (exit 1) while a worker held it
        with requests.Session() as fresh:
            fresh.trust_env = False
            assert token(restarted, fresh, timeout=10).status_code == 200
    finally:
        for worker in workers:  # a failure leaves no server behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
        if restarted is not None:
            restarted.stop()
        mock.stop()


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    return True
