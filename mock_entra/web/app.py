"""`create_app`: one mock instance = one Flask app with its own runtime state."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, request

from mock_entra.core.clock import Clock, OffsetClock, SystemClock
from mock_entra.core.config import DEFAULT_CONFIG, MockConfig
from mock_entra.core.keys import KeySet
from mock_entra.core.pki import ensure_state
from mock_entra.core.runtime import Runtime
from mock_entra.core.store import Store
from mock_entra.web import admin, discovery, errors, graph_views, requestlog, signin, token
from mock_entra.web.context import EXTENSION, trace_id
from mock_entra.web.fastpath import PrecomputedGets, TokenFastPath
from mock_entra.web.respond import SECURITY_HEADERS
from mock_entra.web.tenant import bp as identity_bp

_ = (discovery, signin, token)  # their routes register on the identity blueprint on import
log = logging.getLogger("mock_entra")


def create_app(
    config: MockConfig = DEFAULT_CONFIG,
    *,
    state_dir: str | Path,
    clock: Clock | None = None,
    admin_key: str | None = None,
    log_requests: bool | None = None,
) -> Flask:
    """Build a mock. Example::

        app = create_app(DEFAULT_CONFIG, state_dir=".mock-entra", admin_key="s3cret")

    `clock` defaults to the wall clock plus an offset kept in the shared store (moved by the
    admin API or `MockEntra.clock`); the request log is on when the admin API is.
    """
    paths = ensure_state(state_dir)
    store = Store(paths.store, now=lambda: 0.0)
    if clock is None:
        # Only a mock with its admin API on can have its clock moved; the others never pay
        # for reading the shared offset.
        clock = OffsetClock(store) if admin_key is not None else SystemClock()
    the_clock: Clock = clock
    store.set_clock(the_clock.now)
    runtime = Runtime(
        config=config, keys=KeySet.load(paths), store=store, clock=the_clock, admin_key=admin_key
    )

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions[EXTENSION] = runtime
    app.register_blueprint(identity_bp)
    app.register_blueprint(graph_views.bp)
    app.register_blueprint(admin.bp)
    errors.register(app)
    logging_on = log_requests if log_requests is not None else admin_key is not None
    if logging_on:
        requestlog.install(app)
    else:  # every request must reach the log when it is on
        app.wsgi_app = TokenFastPath(PrecomputedGets(app.wsgi_app), runtime)  # type: ignore[method-assign]

    @app.get("/error")
    def error_info() -> Response:
        code = request.args.get("code", "")[:12]
        return Response(
            f"AADSTS{code}: see https://login.microsoftonline.com/error?code={code}",
            content_type="text/plain; charset=utf-8",
        )

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name, value)
        response.headers.setdefault("x-ms-request-id", trace_id())
        return response

    return app
