"""Request-scoped helpers for the views: the runtime, the trace id, the caller's base URL."""

from __future__ import annotations

import uuid

from flask import current_app, g, request

from mock_entra.core.runtime import Runtime
from mock_entra.web.wire import base_url_of

EXTENSION = "mock_entra"


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]


def base_url() -> str:
    """scheme://host[:port] in issuers and endpoints (`wire.base_url_of`)."""
    return base_url_of(request.environ)


def trace_id() -> str:
    if "trace_id" not in g:
        g.trace_id = str(uuid.uuid4())
    return g.trace_id
