"""`create_app`: one mock instance = one Flask app with its own runtime state."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, request

from mock_entra.core.clock import Clock
from mock_entra.core.config import DEFAULT_CONFIG, MockConfig
from mock_entra.core.runtime import Runtime, open_runtime
from mock_entra.web import admin, discovery, errors, graph_views, landing, requestlog, signin, token
from mock_entra.web.context import EXTENSION, trace_id
from mock_entra.web.tenant import bp as identity_bp
from mock_entra.web.wire import SECURITY_HEADERS

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
    """Build a mock as a Flask app (tests and the in-process interceptor use it; `mock-entra
    serve` runs `front.serving_app`). Example::

        app = create_app(DEFAULT_CONFIG, state_dir=".mock-entra", admin_key="s3cret")

    The request log is on when the admin API is, unless `log_requests` says otherwise.
    """
    runtime = open_runtime(config, state_dir=state_dir, clock=clock, admin_key=admin_key)
    logging_on = log_requests if log_requests is not None else admin_key is not None
    return flask_app(runtime, log_requests=logging_on)


def flask_app(runtime: Runtime, *, log_requests: bool | None = None) -> Flask:
    """The Flask app over an existing runtime (the request log on with the admin API)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions[EXTENSION] = runtime
    app.register_blueprint(identity_bp)
    app.register_blueprint(graph_views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(landing.bp)
    errors.register(app)
    if runtime.admin_key is not None if log_requests is None else log_requests:
        requestlog.install(app)

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
