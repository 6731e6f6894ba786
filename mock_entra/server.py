"""Serving the mock over HTTPS with granian, and `MockEntra`, a handle to a running mock.

granian (Rust HTTP and TLS, WSGI workers as processes) was picked by a side-by-side
measurement against gunicorn and cheroot: see README "Performance" and
`bench/bench_mock.py --server`. Several worker processes share one state dir, so codes,
sessions and the clock live in the SQLite store, never in a process's memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from mock_entra.controls import MockControls
from mock_entra.core.clock import OffsetClock
from mock_entra.core.config import DEFAULT_CONFIG, MockConfig, config_to_dict
from mock_entra.core.logline import OneLineFormatter
from mock_entra.core.pki.state import StatePaths, ensure_state
from mock_entra.core.store.location import StoreLocation
from mock_entra.info import ManagedIdentityInfo, info, read_identity_header
from mock_entra.ports import free_port
from mock_entra.processes import PR_SET_PDEATHSIG, PRCTL, terminate


@dataclass(frozen=True)
class ServeOptions:
    """How `mock-entra serve` runs."""

    host: str = "127.0.0.1"
    port: int = 8443
    workers: int = 2  # one per core on the 2-core reference machine
    threads: int = 1  # server (I/O) threads per worker; Python runs on one: CPU-bound signing
    access_log: bool = False  # one line per request on stderr (`wsgi.MockApp` adds it)


def serve(
    build_app: Callable[[], Any],
    paths: StatePaths,
    options: ServeOptions,
    announce: Callable[[], None] = lambda: None,
) -> None:
    """Serve the RSGI app that `build_app` makes (`rsgi.BufferedWSGI` around the mock) over
    TLS until SIGINT/SIGTERM (blocks). A worker that dies is replaced.

    The app is built once in the main process before the workers fork, so keys are loaded
    once and a bad config or an unusable store fails before any worker starts (and before
    `announce` says the server is starting).
    """
    from granian.constants import HTTPModes, Interfaces, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    _log_to_stderr()
    app = build_app()
    announce()
    if sys.platform == "linux":
        # Workers inherit the built app (granian follows the default start method, which
        # Python 3.14 makes forkserver). Elsewhere they are spawned and build their own.
        multiprocessing.set_start_method("fork", force=True)
    server = Server(
        "mock_entra",  # unused: the loader below hands granian the app itself
        address=options.host,
        port=options.port,
        # RSGI, so that request bodies are read on the event loop, however slowly they come,
        # and the app runs once a body is whole (`rsgi.BufferedWSGI`); headers get 10 s.
        interface=Interfaces.RSGI,
        workers=options.workers,
        runtime_threads=options.threads,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=10_000),
        websockets=False,
        ssl_cert=paths.server_cert,
        ssl_key=paths.server_key,
        ssl_protocol_min=SSLProtocols.tls12,
        log_level=LogLevels.warning,
        log_access=False,
        workers_kill_timeout=3,
        respawn_failed_workers=True,  # a worker that dies is replaced; the port stays open
    )
    try:
        server.serve(target_loader=_Loader(app, build_app), wrap_loader=False)
    finally:
        # Stopped: the interpreter is about to restore the default handlers, and a second
        # Ctrl-C (a terminal signals the group, then `uv run` forwards its own) would turn a
        # clean exit into death by SIGINT (exit 130).
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)


def _log_to_stderr() -> None:
    """The mock's loggers (errors, the access log) to stderr, one line each."""
    logger = logging.getLogger("mock_entra")
    logger.addHandler(log_handler(sys.stderr))
    logger.setLevel(logging.INFO)
    logger.propagate = False


def log_handler(stream: TextIO) -> logging.Handler:
    """What `serve` logs through: one line per record, control characters escaped (a path
    with `%0A` in it cannot forge a line)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        OneLineFormatter("[%(asctime)s] %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    return handler


@dataclass
class _Loader:
    """Hands each worker the app: the one built before a fork, or a new one after a spawn
    (the app itself does not pickle, so it is left behind). Called in each worker as it
    starts: ties the worker's life to the server process's (`exit_with_parent`)."""

    app: Any
    build: Callable[[], Any]
    server_pid: int = field(default_factory=os.getpid)

    def __call__(self) -> Any:
        exit_with_parent(self.server_pid)
        if self.app is None:
            self.app = self.build()
        return self.app

    def __getstate__(self) -> dict[str, Any]:
        return {"app": None, "build": self.build, "server_pid": self.server_pid}


def exit_with_parent(parent: int) -> None:
    """End this worker when `parent`, the server process, dies, however it dies: granian stops
    its workers when it is stopped, but a server killed outright (SIGKILL, the OOM killer)
    would leave them serving the port, and a restart would find it taken. On Linux, the
    kernel sends SIGKILL (prctl PR_SET_PDEATHSIG: the fork came from the server's main thread,
    which lives as long as it does); elsewhere a thread watches for a new parent."""
    if PRCTL is None or PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it died before the line above: nobody will signal
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


class MockControlError(RuntimeError):
    """A test control was used on a mock that cannot honour it (started without its admin
    API): raised rather than silently doing nothing."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs the mock's test controls, but this mock was started without its "
            "admin API (admin=False / no MOCK_ENTRA_ADMIN_KEY): it would ignore the change. "
            "Start it with MockEntra.start(admin=True), as the pytest fixtures do."
        )


class _NoControlsClock(OffsetClock):
    """The clock of a mock without test controls: reads the wall clock, refuses to move."""

    def now(self) -> float:
        return time.time()

    def advance(self, seconds: float) -> None:
        raise MockControlError("clock.advance()")


def public_host(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "") else host


@dataclass
class MockEntra(MockControls):
    """A running mock (a `mock-entra serve` process on an ephemeral port) and its state.

    Example::

        with MockEntra.start() as mock:
            app = msal.ConfidentialClientApplication(
                mock.info()["client_id"], authority=mock.authority,
                client_credential=mock.info()["client_secret"], instance_discovery=False)
    """

    config: MockConfig
    paths: StatePaths
    base_url: str
    admin_key: str | None
    process: subprocess.Popen | None = None
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)
    # `serve --managed-identity-port`: the plain-HTTP port of the managed identity endpoints.
    managed_identity_port: int | None = None
    # `serve --store`: where the store is (default: the SQLite file in the state dir).
    store_location: StoreLocation = field(default_factory=StoreLocation)

    def __post_init__(self) -> None:
        self.store = self.store_location.open(self.paths.store, time.time)
        self.clock: OffsetClock = (
            OffsetClock(self.store) if self.admin_key else _NoControlsClock(self.store)
        )
        self.store.set_clock(self.clock.now)

    def _require_controls(self, what: str) -> None:
        if not self.admin_key:
            raise MockControlError(what)

    # -- what clients need ------------------------------------------------------------------

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant_id}"

    @property
    def graph_endpoint(self) -> str:
        return f"{self.base_url}/v1.0"

    @property
    def ca_file(self) -> str:
        return str(self.paths.ca_cert)

    @property
    def ca_bundle(self) -> str:
        return str(self.paths.ca_bundle)

    def url_for(self, path: str) -> str:
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def info(self) -> dict[str, Any]:
        config_file = str(self.paths.root / "config.json")  # what `start` wrote
        return info(
            self.config,
            self.paths,
            self.base_url,
            self.admin_key,
            config_file=config_file,
            admin_api=self.admin_key is not None,
            managed_identity=self.managed_identity,
            store=self.store_location.shown(self.paths.store),
        )

    @property
    def managed_identity(self) -> ManagedIdentityInfo | None:
        """Where the managed identity endpoints answer (`start(managed_identity=True)`)."""
        header = read_identity_header(self.paths.root)
        if not self.managed_identity_port or not header:
            return None
        host = urlsplit(self.base_url).hostname or "localhost"
        return ManagedIdentityInfo.of(host, self.managed_identity_port, header)

    # The test controls (`requests`, `reset`, `scenario`, ...) are inherited from
    # `MockControls`: straight to the store the worker processes share.

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        config: MockConfig = DEFAULT_CONFIG,
        *,
        state_dir: str | Path | None = None,
        admin: bool = True,
        host: str = "127.0.0.1",
        workers: int = 1,
        access_log: bool = False,
        timeout: float = 20,
        managed_identity: bool = False,
        store: str | None = None,
    ) -> MockEntra:
        """Start `mock-entra serve` on an ephemeral port and wait until it answers; with
        `managed_identity`, its managed identity endpoints too (`mock.managed_identity`);
        with `store` (a postgresql:// URL), on that store instead of the state dir's file."""
        location = StoreLocation.parse(store)
        tmp = None
        if state_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix="mock-entra-")
            state_dir = tmp.name
        paths = ensure_state(state_dir)
        config_file = paths.root / "config.json"
        config_file.write_text(json.dumps(config_to_dict(config)))
        admin_key = secrets.token_urlsafe(24) if admin else None
        # The store is this call's alone (the handle opens the same one), by environment: a
        # password on the command line would show in `ps`.
        env = {
            **os.environ,
            "MOCK_ENTRA_ADMIN_KEY": admin_key or "",
            "MOCK_ENTRA_STORE": location.url or "",
        }
        for attempt in range(3):  # the free port may be taken before the server binds it
            port = free_port(host)
            command = [
                sys.executable,
                "-m",
                "mock_entra",
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                "--state-dir",
                str(paths.root),
                "--config",
                str(config_file),
                "--workers",
                str(workers),
                "--access-log" if access_log else "--no-access-log",
            ]
            mi_port = free_port(host) if managed_identity else None
            if mi_port:
                command += ["--managed-identity-port", str(mi_port)]
            process = subprocess.Popen(command, env=env)
            base_url = f"https://{public_host(host)}:{port}"
            mock = cls(config, paths, base_url, admin_key, process, tmp, mi_port, location)
            try:
                mock.wait_ready(timeout)
            except RuntimeError:
                mock.stop(cleanup=False)
                if attempt == 2:
                    mock.stop()
                    raise
                continue
            except BaseException:
                mock.stop()
                raise
            return mock
        raise AssertionError("unreachable")

    def wait_ready(self, timeout: float) -> None:
        import requests  # here: `mock-entra serve` itself never needs it

        url = f"{self.authority}/v2.0/.well-known/openid-configuration"
        deadline = time.monotonic() + timeout
        with requests.Session() as session:
            session.trust_env = False
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"mock-entra exited with code {self.process.returncode}")
                with contextlib.suppress(requests.RequestException):
                    if session.get(url, verify=self.ca_file, timeout=2).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"mock-entra did not answer on {url}")
                time.sleep(0.05)

    def stop(self, *, cleanup: bool = True) -> None:
        self.store.close()
        if self.process is not None:
            terminate(self.process, grace=10)
        if cleanup and self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> MockEntra:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
