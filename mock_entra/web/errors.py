"""The Flask app's error handlers: each error leaves through the one function that renders
its kind (`error_bodies` for every body and the error redirect, `error_page` for Entra's page).

`EntraError` → Entra's JSON, a redirect back to a trusted redirect URI, or Entra's error
page; `GraphError` → Graph's JSON. Anything else becomes a generic error of the same shape,
never a traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from mock_entra.core.aadsts import AADSTS9002313
from mock_entra.core.errors import EntraError, GraphError
from mock_entra.web import error_bodies, http_rules
from mock_entra.web.context import runtime, trace_id
from mock_entra.web.errorlog import log_unexpected
from mock_entra.web.page import html_page
from mock_entra.web.respond import authorize_redirect

log = logging.getLogger(__name__)

# Endpoints a browser is sent to: their errors are pages (or redirects), not JSON.
_BROWSER_ENDPOINTS = {
    "identity.authorize",
    "identity.login",
    "identity.logout",
    "identity.logout_v1",
}


def flask_response(answer: error_bodies.Answer) -> Response:
    """An `error_bodies.Answer` as Flask's response (`app` adds the security headers)."""
    response = Response(answer.body, answer.status, content_type=answer.content_type)
    response.headers.extend(answer.headers)
    return response


def error_ids() -> error_bodies.ErrorIds:
    return error_bodies.ErrorIds.of(request.environ, trace_id(), runtime().clock.now())


def render_entra_error(error: EntraError) -> Response:
    if request.endpoint in _BROWSER_ENDPOINTS:
        if error.redirectable:
            return authorize_redirect(error_bodies.entra_error_redirect(error, error_ids()))
        return error_page(error)
    return flask_response(error_bodies.entra_error(error, error_ids()))


def error_page(error: EntraError) -> Response:
    """Entra's own error page: 200, the AADSTS message and troubleshooting details."""
    ids = error_ids()
    config = {
        "pgid": "ConvergedError",
        "iErrorCode": error.entry.code,
        "sErrorCode": str(error.entry.code),
        "strServiceExceptionMessage": error.description,
    }
    html = render_template(
        "signin.html",
        view="error",
        message=error.description,
        code=error.entry.code,
        trace_id=ids.trace_id,
        correlation_id=ids.correlation_id,
        timestamp=ids.timestamp,
        config=config,
    )
    return html_page(html)


def render_graph_error(error: GraphError) -> Response:
    request_id = trace_id()
    answer = error_bodies.graph_error(
        error,
        request_id=request_id,
        client_request_id=request.headers.get("client-request-id", request_id),
        now=runtime().clock.now(),
    )
    return flask_response(answer)


def _is_graph() -> bool:
    return request.path.startswith(("/v1.0/", "/beta/", "/oidc/"))


def render_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if _is_graph():
        code = {404: "Request_ResourceNotFound", 405: "Request_BadRequest"}.get(
            status, "BadRequest"
        )
        return render_graph_error(GraphError(status, code, error.description or error.name))
    if status == 400:  # e.g. a malformed form body
        return render_entra_error(EntraError(AADSTS9002313))
    if status == 405:  # as `Front` answers it, with `Allow`
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
        return flask_response(http_rules.not_allowed(allowed, trace_id()))
    if status == 413:
        return flask_response(http_rules.too_large(trace_id()))
    answer = error_bodies.http_error(status, error.description or "", trace_id())
    return flask_response(answer)


def render_unexpected(error: Exception) -> Response:
    log_unexpected(log, trace_id())
    if _is_graph():
        return render_graph_error(
            GraphError(500, "generalException", "An unexpected error occurred.")
        )
    return flask_response(error_bodies.unexpected(trace_id()))


def register(app: Flask) -> None:
    app.register_error_handler(EntraError, render_entra_error)
    app.register_error_handler(GraphError, render_graph_error)
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(Exception, render_unexpected)
