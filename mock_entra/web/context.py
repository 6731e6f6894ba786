"""Request-scoped helpers for the views: the runtime, ids for errors, the caller's base URL."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from flask import current_app, g, request

from mock_entra.core.runtime import Runtime

EXTENSION = "mock_entra"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]


def base_url() -> str:
    """scheme://host[:port] as the client called it: the host in issuers and endpoints."""
    return request.host_url.rstrip("/")


def trace_id() -> str:
    if "trace_id" not in g:
        g.trace_id = str(uuid.uuid4())
    return g.trace_id


def correlation_id() -> str:
    # Entra echoes the caller's client-request-id as the correlation id (entra-fidelity §5.1).
    sent = request.headers.get("client-request-id", "") or request.args.get("client-request-id", "")
    return sent if _GUID.match(sent) else trace_id()


def timestamp() -> str:
    """Entra's error timestamp: `2023-08-17 04:54:12Z` (no `T`)."""
    now = dt.datetime.fromtimestamp(runtime().clock.now(), dt.UTC)
    return now.strftime("%Y-%m-%d %H:%M:%SZ")
