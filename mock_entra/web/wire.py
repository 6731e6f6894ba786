"""Entra's wire formats that need no Flask: headers, timestamps, the caller's base URL and
client-request-id, the body limit; shared by the Flask views, `front.Front` and the
middlewares. The error bodies are `error_bodies`."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl

JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024  # request bodies above it get 413 (Flask's MAX_CONTENT_LENGTH too)
NO_STORE = (("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache"), ("Expires", "-1"))
SECURITY_HEADERS = (
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
)
# The environ key of a server that can hold an answer back without holding a thread
# (`rsgi.BufferedWSGI`: its event loop waits): a callable taking the seconds to wait before
# sending. Under other servers (threads, in-process), the app's own thread waits.
DEFER_ANSWER = "mock_entra.defer_answer"
BASE_URL_KEY = "mock_entra.base_url"  # set by `hosts.check`, read by `base_url_of`
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def correlation_for(client_request_id: str, trace: str) -> str:
    # Entra echoes the caller's client-request-id (MSAL sends one) as the correlation id.
    return client_request_id if _GUID.match(client_request_id) else trace


def client_request_id(environ: dict) -> str:
    """The caller's client-request-id: the header, else the query parameter (MSAL.js and
    some SDKs send it in the query string)."""
    sent = environ.get("HTTP_CLIENT_REQUEST_ID", "")
    if not sent and "client-request-id" in environ.get("QUERY_STRING", ""):
        sent = dict(parse_qsl(environ["QUERY_STRING"])).get("client-request-id", "")
    return sent


def path_of(environ: dict) -> str:
    """The request path as werkzeug reads it: WSGI's latin-1 PATH_INFO as the UTF-8 it was."""
    path = environ.get("PATH_INFO", "")
    return path if path.isascii() else path.encode("latin-1").decode("utf-8", "replace")


def entra_timestamp(now: float) -> str:
    """Entra's error timestamp: `2023-08-17 04:54:12Z` (no `T`)."""
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def base_url_of(environ: dict) -> str:
    """scheme://host[:port] of every URL handed out for this request: the one `hosts.check`
    put in `environ` (the configured public URL, or the host the client called when the mock
    answers it), never the Host header as sent."""
    return environ[BASE_URL_KEY]
