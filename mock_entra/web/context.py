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
    sent = request.headers.get("client-request-id", "") or request.args.get("client-request-id", "")
    return correlation_for(sent, trace_id())


def correlation_for(client_request_id: str, trace: str) -> str:
    # Entra echoes the caller's client-request-id as the correlation id (entra-fidelity §5.1).
    return client_request_id if _GUID.match(client_request_id) else trace


def timestamp() -> str:
    return entra_timestamp(runtime().clock.now())


def entra_timestamp(now: float) -> str:
    """Entra's error timestamp: `2023-08-17 04:54:12Z` (no `T`)."""
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
