"""The local stack behind `--target mock`: `mock_entra` over HTTPS and `client_app` as a real
server (a `client-app` process), wired to each other exactly as a deployment would be.

`LocalStack.start` registers the app's ephemeral-port redirect and post-logout URIs on the
mock's default client, starts the mock (admin API on), then starts the app with the
environment from `mock.info()` and waits for `/healthz`. The same stack doubles as a stand-in
tenant for testing the live target (`conformance.targets.live_env`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from client_app.settings import ENV_VARIABLES
from conformance.targets import Target, User

if TYPE_CHECKING:
    from mock_entra import MockEntra

READY_TIMEOUT = 30.0
# The app's variables are cleared from the inherited environment, so a developer's shell
# (say, a leftover TRUST_PROXY) cannot change what the suites test.
APP_VARIABLES = ENV_VARIABLES


class StackError(RuntimeError):
    """The mock or the app did not come up; the message carries the app's log tail."""


@dataclass
class LocalStack:
    """A running mock and client app; use as a context manager or call `stop()`."""

    mock: MockEntra  # imported lazily: the plugin (and so this module) loads in every run
    app_url: str
    app_process: subprocess.Popen[bytes]
    app_log: Path
    app_env: dict[str, str]

    @classmethod
    def start(cls, workdir: Path) -> LocalStack:
        """Start the mock and the app under `workdir` (state, sessions, logs)."""
        from mock_entra import DEFAULT_CONFIG, MockEntra, with_redirect_uris
        from mock_entra.ports import free_port

        port = free_port()
        app_url = f"http://localhost:{port}"
        config = with_redirect_uris(DEFAULT_CONFIG, [f"{app_url}/getAToken"], [f"{app_url}/"])
        mock = MockEntra.start(config, state_dir=workdir / "mock-entra", admin=True)
        try:
            info = mock.info()
            env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
            app_env = {
                "TENANT_ID": info["tenant_id"],
                "CLIENT_ID": info["client_id"],
                "CLIENT_SECRET": info["client_secret"],
                "AUTHORITY": info["authority"],
                "REDIRECT_URI": f"{app_url}/getAToken",
                "GRAPH_ENDPOINT": info["graph_endpoint"],
                "CA_BUNDLE": info["ca_bundle"],
                "SECRET_KEY": secrets.token_urlsafe(32),
                "SESSION_DIR": str(workdir / "app-sessions"),
                "APP_ENV": "development",
                "LOG_LEVEL": "WARNING",
                # Short, so that the robustness suite's stalled token endpoint costs seconds.
                "HTTP_TIMEOUT": "3",
            }
            log = workdir / "client-app.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "client_app.cli",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                    ],
                    env={**env, **app_env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        except BaseException:
            mock.stop()
            raise
        stack = cls(mock, app_url, process, log, app_env)
        try:
            stack.wait_ready(READY_TIMEOUT)
        except BaseException:
            stack.stop()
            raise
        return stack

    def wait_ready(self, timeout: float) -> None:
        """Poll the app's `/healthz` until 200; fail with its log if it exits or hangs."""
        url = self.app_url.replace("localhost", "127.0.0.1") + "/healthz"
        deadline = time.monotonic() + timeout
        with requests.Session() as http:
            http.trust_env = False  # never send a loopback call through a proxy
            while True:
                if self.app_process.poll() is not None:
                    raise StackError(
                        f"client-app exited with {self.app_process.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(requests.RequestException):
                    if http.get(url, timeout=2).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise StackError(f"client-app did not answer {url}:\n{self.log_tail()}")
                time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the app's output."""
        try:
            text = self.app_log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def target(self) -> Target:
        """This stack as the `mock` target."""
        mock = self.mock
        info = mock.info()
        return Target(
            kind="mock",
            authority=info["authority"],
            tenant_id=info["tenant_id"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            app_url=self.app_url,
            redirect_uri=f"{self.app_url}/getAToken",
            graph_endpoint=info["graph_endpoint"],
            ca_bundle=info["ca_bundle"],
            users=tuple(
                User(u["username"], u["password"], u["display_name"]) for u in info["users"]
            ),
            mock=mock,
            **_api(mock),
        )

    def stop(self) -> None:
        """Stop the app (SIGINT, then SIGKILL) and the mock."""
        from mock_entra.processes import terminate

        # gunicorn's quick shutdown; SIGTERM waits out keep-alive connections (seconds).
        terminate(self.app_process, signal.SIGINT, grace=10)
        self.mock.stop()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _api(mock: MockEntra) -> dict[str, object]:
    """The sample API of the mock's config, when it has one: the API-token tests call it."""
    from mock_entra.core.config import DEFAULT_API_URI

    found = mock.config.resource_app(DEFAULT_API_URI)
    if found is None or not found[1].exposed_scopes:
        return {}
    api = found[1]
    return {
        "api_scope": f"{DEFAULT_API_URI}/{api.exposed_scopes[0]}",
        "api_token_version": api.token_version,
    }
