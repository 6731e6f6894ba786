"""The one place where errors become responses.

`EntraError` → Entra's JSON (token, discovery, keys), a redirect back to a trusted redirect
URI, or Entra's error page; `GraphError` → Graph's JSON. Anything else becomes a generic
error of the same shape, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from mock_entra.core.aadsts import AADSTS9002313, EntraError, GraphError
from mock_entra.core.authorize import error_response
from mock_entra.web.context import base_url, correlation_id, runtime, timestamp, trace_id
from mock_entra.web.errorlog import log_unexpected
from mock_entra.web.page import html_page
from mock_entra.web.respond import authorize_redirect, json_response
from mock_entra.web.wire import entra_error_json, http_error_json, unexpected_error_json

log = logging.getLogger(__name__)

# Endpoints a browser is sent to: their errors are pages (or redirects), not JSON.
_BROWSER_ENDPOINTS = {
    "identity.authorize",
    "identity.login",
    "identity.logout",
    "identity.logout_v1",
}


def entra_error_body(error: EntraError) -> dict:
    return entra_error_json(
        error,
        trace_id=trace_id(),
        correlation_id=correlation_id(),
        timestamp=timestamp(),
        base_url=base_url(),
    )


def render_entra_error(error: EntraError) -> Response:
    if request.endpoint in _BROWSER_ENDPOINTS:
        if error.redirectable:
            return authorize_redirect(
                error_response(
                    error,
                    trace_id=trace_id(),
                    correlation_id=correlation_id(),
                    timestamp=timestamp(),
                    base_url=base_url(),
                )
            )
        return error_page(error)
    status = error.entry.status
    return json_response(entra_error_body(error), status, no_store=True)


def error_page(error: EntraError) -> Response:
    """Entra's own error page: 200, the AADSTS message and troubleshooting details."""
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
        trace_id=trace_id(),
        correlation_id=correlation_id(),
        timestamp=timestamp(),
        config=config,
    )
    return html_page(html)


def render_graph_error(error: GraphError) -> Response:
    now = dt.datetime.fromtimestamp(runtime().clock.now(), dt.UTC)
    request_id = trace_id()
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": now.strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": request.headers.get("client-request-id", request_id),
            },
        }
    }
    response = json_response(body, error.status)
    response.headers.update(error.headers)
    response.headers["request-id"] = request_id
    return response


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
    return json_response(http_error_json(status, error.description or "", trace_id()), status)


def render_unexpected(error: Exception) -> Response:
    log_unexpected(log, trace_id())
    if _is_graph():
        return render_graph_error(
            GraphError(500, "generalException", "An unexpected error occurred.")
        )
    body = unexpected_error_json(trace_id())
    return json_response(body, 500)


def register(app: Flask) -> None:
    app.register_error_handler(EntraError, render_entra_error)
    app.register_error_handler(GraphError, render_graph_error)
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(Exception, render_unexpected)
