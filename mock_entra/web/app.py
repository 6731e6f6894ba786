"""`flask_app`: the Flask part of a mock (sign-in pages, logout, Graph, instance discovery,
the admin API), behind `front.Front` in `wsgi.MockApp`."""

from __future__ import annotations

import logging

from flask import Flask, Response, request

from mock_entra.core.runtime import Runtime
from mock_entra.web import admin, discovery, errors, graph_views, landing, logout, signin
from mock_entra.web.context import EXTENSION, trace_id
from mock_entra.web.request import EntraRequest
from mock_entra.web.tenant import bp as identity_bp
from mock_entra.web.wire import MAX_BODY_BYTES, SECURITY_HEADERS

_ = (discovery, logout, signin)  # their routes register on the identity blueprint on import
log = logging.getLogger("mock_entra")


def flask_app(runtime: Runtime) -> Flask:
    """The Flask app over an existing runtime (`wsgi.create_app` builds the whole mock)."""
    app = Flask(__name__)
    app.request_class = EntraRequest  # forms read as `Front` reads them (`http_rules`)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[EXTENSION] = runtime
    app.register_blueprint(identity_bp)
    app.register_blueprint(graph_views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(landing.bp)
    app.register_blueprint(signin.device_bp)
    errors.register(app)

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
