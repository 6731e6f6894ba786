"""Every error the mock sends, built here and only here, without Flask: Entra's JSON body,
the error redirect's parameters, Graph's JSON body, an HTTP-level error (unknown path, method
not allowed, body too large) and the unexpected error. `front.Front`, `rsgi.BufferedWSGI` and
the Flask app's handlers (`errors`) all send what these functions return, so an endpoint's
error has the same bytes whichever side answers it. The one other error rendering, Entra's
HTML error page, needs a template and is `errors.error_page`.

Entra's error description ends with "Trace ID / Correlation ID / Timestamp" lines, in the
JSON body and in the redirect alike (`entra_description`; the shape as Entra sends it, Learn,
"Microsoft identity platform and OAuth 2.0 authorization code flow", "Error response").
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from mock_entra.core.errors import EntraError, GraphError
from mock_entra.core.grants.managed_identity import PlatformError
from mock_entra.core.store.records import AuthorizeResponse
from mock_entra.web.wire import (
    JSON_TYPE,
    NO_STORE,
    SECURITY_HEADERS,
    base_url_of,
    client_request_id,
    correlation_for,
    entra_timestamp,
)

Headers = tuple[tuple[str, str], ...]
REASONS = {status.value: status.phrase for status in HTTPStatus}
# werkzeug's descriptions, which the Flask app's errors carried first
NOT_ALLOWED = "The method is not allowed for the requested URL."
TOO_LARGE = "The data value transmitted exceeds the capacity limit."


@dataclass(frozen=True)
class Answer:
    """An error as sent: status, body, and the headers of this kind of error (the sender adds
    Content-Length, the security headers and `x-ms-request-id`)."""

    status: int
    body: bytes
    headers: Headers = ()
    content_type: str = JSON_TYPE

    def header_list(self, trace_id: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        """Every header of the answer on the wire (`front`, `rsgi`)."""
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            *self.headers,
            *extra,
            *SECURITY_HEADERS,
            ("x-ms-request-id", trace_id),
        ]

    def send(
        self, start_response: Callable[..., Any], trace_id: str, *extra: tuple[str, str]
    ) -> Iterable[bytes]:
        """Send it from a WSGI app."""
        status = f"{self.status} {REASONS.get(self.status, 'Error')}"
        start_response(status, self.header_list(trace_id, *extra))
        return [self.body]


@dataclass(frozen=True)
class ErrorIds:
    """What an Entra error quotes: its trace id, the correlation id (the caller's
    client-request-id when it sent a GUID), the timestamp, and the base URL of `error_uri`."""

    trace_id: str
    correlation_id: str
    timestamp: str
    base_url: str

    @classmethod
    def of(cls, environ: dict, trace_id: str, now: float) -> ErrorIds:
        return cls(
            trace_id,
            correlation_for(client_request_id(environ), trace_id),
            entra_timestamp(now),
            base_url_of(environ),
        )


def compact_json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def entra_description(error: EntraError, ids: ErrorIds) -> str:
    """The one place Entra's error description is written."""
    return (
        f"{error.description}\r\nTrace ID: {ids.trace_id}\r\n"
        f"Correlation ID: {ids.correlation_id}\r\nTimestamp: {ids.timestamp}"
    )


def entra_error_json(error: EntraError, ids: ErrorIds) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": error.entry.error,
        "error_description": entra_description(error, ids),
        "error_codes": [error.entry.code],
        "timestamp": ids.timestamp,
        "trace_id": ids.trace_id,
        "correlation_id": ids.correlation_id,
        "error_uri": f"{ids.base_url}/error?code={error.entry.code}",
    }
    if error.entry.suberror:
        body["suberror"] = error.entry.suberror
    return body


def entra_error(
    error: EntraError, ids: ErrorIds, *, status: int | None = None, headers: Headers = ()
) -> Answer:
    """Entra's error JSON (token, discovery, JWKS, device code, and every JSON endpoint of the
    Flask app); `status` and `headers` for a fault scenario's answer (429 with Retry-After)."""
    return Answer(
        error.entry.status if status is None else status,
        compact_json(entra_error_json(error, ids)),
        (*NO_STORE, *headers),
    )


def entra_error_redirect(error: EntraError, ids: ErrorIds) -> AuthorizeResponse:
    """The redirect that carries an error back to a trusted redirect URI (with `state`)."""
    assert error.redirect_uri is not None
    params = [("error", error.entry.error)]
    if error.error_subcode:
        params.append(("error_subcode", error.error_subcode))
    params.append(("error_description", entra_description(error, ids)))
    params.append(("error_uri", f"{ids.base_url}/error?code={error.entry.code}"))
    if error.state is not None:
        params.append(("state", error.state))
    return AuthorizeResponse(error.redirect_uri, error.response_mode, params)


def graph_error(
    error: GraphError, *, request_id: str, client_request_id: str, now: float
) -> Answer:
    """Graph's error JSON, with the error's headers (Retry-After, WWW-Authenticate)."""
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }
    headers = {**error.headers, "request-id": request_id}
    return Answer(error.status, compact_json(body), tuple(headers.items()))


def http_error(status: int, description: str, trace_id: str, headers: Headers = ()) -> Answer:
    """An HTTP-level error (unknown path, method not allowed, body too large, too slow)."""
    body = {
        "error": "not_found" if status == 404 else "invalid_request",
        "error_description": description,
        "trace_id": trace_id,
    }
    return Answer(status, compact_json(body), headers)


def unexpected(trace_id: str) -> Answer:
    """An error the mock did not expect (logged by `errorlog`): Entra's 500, no traceback."""
    body = {
        "error": "server_error",
        "error_description": f"AADSTS90000: An unexpected error occurred.\r\nTrace ID: {trace_id}",
        "error_codes": [90000],
        "trace_id": trace_id,
    }
    return Answer(500, compact_json(body))


def platform_error(error: PlatformError) -> dict[str, Any]:
    """A managed identity endpoint's error, in its platform's shape: App Service's (MSAL
    Python's msal/managed_identity.py reads `statusCode` and `message`) or IMDS's OAuth-style
    body (Azure/azure-rest-api-specs, IMDS examples)."""
    if error.platform == "app_service":
        return {
            "statusCode": error.status,
            "message": error.message,
            "correlationId": str(uuid.uuid4()),
        }
    return {"error": error.error, "error_description": error.message}
