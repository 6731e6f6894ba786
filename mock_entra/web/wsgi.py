"""`MockApp`: the mock as one WSGI app, composed the same way in every mode.

    [AccessLog] -> [RequestLog] -> Front (discovery, JWKS, token) -> Flask (everything else)

`mock-entra serve` (and so the pytest fixtures, the demo and the image, which all run it),
the in-process interceptor and the tests build it with `create_app`; only
the two optional middlewares differ, by option. This module imports no Flask: Flask is built
by `Front` on the first request that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mock_entra.core.clock import Clock
from mock_entra.core.config import DEFAULT_CONFIG, MockConfig
from mock_entra.core.runtime import Runtime, open_runtime
from mock_entra.core.store.location import StoreLocation
from mock_entra.web.accesslog import AccessLog
from mock_entra.web.front import Front, StartResponse, WSGIApp
from mock_entra.web.hosts import Hosts
from mock_entra.web.requestlog import RequestLog


def _flask_app(runtime: Runtime) -> WSGIApp:
    from mock_entra.web.app import flask_app  # imported here: Flask only when needed

    return flask_app(runtime)


class MockApp:
    """One mock instance: its runtime (keys, store, clock, config) and the composed app."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        request_log: bool,
        access_log: bool,
        hosts: Hosts | None = None,
    ) -> None:
        self.runtime = runtime
        self.front = Front(runtime, _flask_app, hosts)
        app: WSGIApp = self.front
        if request_log:
            app = RequestLog(app, runtime)
        if access_log:
            app = AccessLog(app)
        self.wsgi_app = app

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    def test_client(self) -> Any:
        """A werkzeug test client over the whole composed app (as Flask's `test_client`)."""
        from werkzeug.test import Client

        return Client(self)


def create_app(
    config: MockConfig = DEFAULT_CONFIG,
    *,
    state_dir: str | Path,
    clock: Clock | None = None,
    admin_key: str | None = None,
    log_requests: bool | None = None,
    access_log: bool = False,
    test_controls: bool | None = None,
    hosts: Hosts | None = None,
    store: StoreLocation | None = None,
) -> MockApp:
    """Build a mock as a WSGI app. Example::

        app = create_app(DEFAULT_CONFIG, state_dir=".mock-entra", admin_key="s3cret")

    The request log is on when the admin API is, unless `log_requests` says otherwise; the
    access log (one line per request to the `mock_entra.access` logger) when asked for.
    `hosts`: the Host values answered and the base URL handed out (`hosts.Hosts`); by
    default `localhost`, `127.0.0.1` and `[::1]` at any port, other hosts refused with 400.
    `store`: where the store is (default: the SQLite file in the state dir).
    """
    runtime = open_runtime(
        config,
        state_dir=state_dir,
        clock=clock,
        admin_key=admin_key,
        test_controls=test_controls,
        store=store,
    )
    logging_on = log_requests if log_requests is not None else admin_key is not None
    return MockApp(runtime, request_log=logging_on, access_log=access_log, hosts=hosts)
