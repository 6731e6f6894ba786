"""`client-app`: configuration errors exit 2, a taken port exits 1, serving stops on SIGINT,
and the gunicorn settings come from `client_app.gunicorn_conf` whoever launches gunicorn."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from client_app_fakes import BASE_ENV
from gunicorn.app.base import Application, BaseApplication

from client_app import cli, gunicorn_conf, serving
from mock_entra.ports import free_port

# Requests that never finish sending their body: each holds one gunicorn thread.
SLOW_BODY_CLIENTS = 4


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    environ = {**BASE_ENV, "SESSION_DIR": str(tmp_path / "sessions")}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return environ


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # `cli.main` sets up logging (a handler on the root logger) as it would in its process.
    root, msal_logger = logging.getLogger(), logging.getLogger("msal")
    handlers, levels = list(root.handlers), (root.level, msal_logger.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    msal_logger.setLevel(levels[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_configuration_errors_are_printed_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "TENANT_ID is required" in err and "CLIENT_SECRET is required" in err
    assert "Traceback" not in err


def test_taken_port_is_named_and_exits_1(
    app_env: dict[str, str], busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--port", str(busy_port)]) == 1
    err = capsys.readouterr().err
    assert f"port {busy_port}" in err
    assert "--port" in err


def test_msal_debug_logging_is_clamped_to_info() -> None:
    # MSAL's DEBUG log contains the auth code and PKCE verifier.
    cli.configure_logging("DEBUG")
    assert logging.getLogger("msal").level == logging.INFO


def test_serves_healthz_and_stops_cleanly_on_sigint(app_env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "client_app.cli", "--port", str(port)],
        env={**os.environ, **app_env},
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 15
        seen = ""
        while f"client_app listening on http://127.0.0.1:{port}" not in seen:
            seen += lines.get(timeout=max(0.1, deadline - time.monotonic()))
        # The worker may still be booting just after "ready".
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("healthz never answered")
        # Clients stuck sending a form body hold threads, not the worker: /healthz answers.
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(SLOW_BODY_CLIENTS)]
        try:
            for sock in slow:
                sock.sendall(
                    b"POST /getAToken HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n\r\ncode="
                )
            time.sleep(0.5)  # each one is in the app, blocked reading the body
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                assert r.read() == b"ok"
        finally:
            for sock in slow:
                sock.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        stderr.close()


def test_workers_exit_when_the_server_is_killed(app_env: dict[str, str]) -> None:
    # gunicorn's workers check their parent in their main loop ("Parent changed, shutting
    # down"): a `client-app` killed outright (SIGKILL) leaves nobody on its port.
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "client_app.cli", "--port", str(port), "--workers", "2"],
        env={**os.environ, **app_env},
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 20
        while len(workers) < 2 or cli.port_is_free("127.0.0.1", port):
            assert time.monotonic() < deadline and process.poll() is None, "never served"
            time.sleep(0.1)
            workers = _children(process.pid)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 20
        while not all(_gone(w) for w in workers) or not cli.port_is_free("127.0.0.1", port):
            assert time.monotonic() < deadline, "the workers outlived the server"
            time.sleep(0.1)
    finally:
        for worker in workers:  # a failure leaves no server behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found |= {int(child) for child in task.read_text().split()}
    return found


def _gone(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()  # exited, not yet reaped
    except OSError:
        return True


def test_client_app_serves_with_the_gunicorn_conf_settings(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def run(self: BaseApplication) -> None:
        seen.update({name: self.cfg.settings[name].get() for name in gunicorn_conf.NAMES})

    monkeypatch.setattr(serving.GunicornServer, "run", run)
    assert cli.main(["--port", str(free_port())]) == 0
    assert seen == gunicorn_conf.settings()
    assert seen["worker_class"] == "gthread" and int(str(seen["threads"])) > SLOW_BODY_CLIENTS


def test_plain_gunicorn_reads_the_same_settings_from_the_module() -> None:
    # What `gunicorn -c python:client_app.gunicorn_conf client_app.wsgi:app` loads.
    class Plain(Application):  # type: ignore[misc]
        def load_config(self) -> None:
            self.load_config_from_module_name_or_filename("python:client_app.gunicorn_conf")

        def load(self) -> None:
            raise AssertionError("not served")

    cfg = Plain().cfg
    assert {name: cfg.settings[name].get() for name in gunicorn_conf.NAMES} == (
        gunicorn_conf.settings()
    )
