"""The hot endpoints, answered ahead of Flask when the request log is off.

Discovery and JWKS never change for a given host and path, and clients fetch them often
(every MSAL app construction reads discovery), so after the first 200 they come from a
small table without routing, request objects or JSON encoding. Token requests run the same
grants as the Flask route (`token.exchange`) without Flask's per-request machinery, which
costs more than building the token's claims.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wsgi import get_host

from mock_entra.core.aadsts import AADSTS9002313, EntraError
from mock_entra.core.runtime import Runtime
from mock_entra.web.context import correlation_for, entra_timestamp
from mock_entra.web.errors import entra_error_json, unexpected_error_json
from mock_entra.web.respond import JSON_TYPE, NO_STORE, SECURITY_HEADERS
from mock_entra.web.token import exchange

_CACHEABLE = re.compile(
    r"^/[^/]+/(v2\.0/\.well-known/openid-configuration|\.well-known/openid-configuration|"
    r"discovery/v2\.0/keys|discovery/keys)$"
)
MAX_ENTRIES = 256  # bounded: the Host header is the client's to choose

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]
log = logging.getLogger(__name__)


class PrecomputedGets:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.table: dict[tuple[str, str, str], tuple[list[tuple[str, str]], bytes]] = {}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or not _CACHEABLE.match(path)
        ):
            return self.app(environ, start_response)
        key = (environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""), path)
        hit = self.table.get(key)
        if hit is not None:
            headers, body = hit
            start_response("200 OK", [*headers, ("x-ms-request-id", str(uuid.uuid4()))])
            return [body]
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = b"".join(self.app(environ, capture))
        if seen.get("status", "").startswith("200") and len(self.table) < MAX_ENTRIES:
            kept = [(k, v) for k, v in seen["headers"] if k.lower() != "x-ms-request-id"]
            self.table[key] = (kept, body)
        return [body]


_TOKEN_PATH = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
MAX_FORM_BYTES = 1024 * 1024  # as the Flask app's MAX_CONTENT_LENGTH
MAX_FIELDS = 200


class TokenFastPath:
    """POST /{tenant}/oauth2/v2.0/token without Flask; anything unusual (no length, an
    oversized body, another method) goes on to the Flask app, which answers it as Entra."""

    def __init__(self, app: WSGIApp, runtime: Runtime) -> None:
        self.app, self.runtime = app, runtime

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        match = _TOKEN_PATH.match(environ.get("PATH_INFO", ""))
        length = environ.get("CONTENT_LENGTH") or ""
        if (
            match is None
            or environ.get("REQUEST_METHOD") != "POST"
            or not length.isdigit()
            or int(length) > MAX_FORM_BYTES
        ):
            return self.app(environ, start_response)
        trace = str(uuid.uuid4())
        base_url = f"{environ.get('wsgi.url_scheme', 'https')}://{get_host(environ)}"
        try:
            body = environ["wsgi.input"].read(int(length))
            form = self._form(environ, body)
            status, payload = (
                200,
                exchange(
                    self.runtime,
                    match.group(1),
                    form,
                    authorization=environ.get("HTTP_AUTHORIZATION"),
                    base_url=base_url,
                ),
            )
        except EntraError as error:
            status = error.entry.status
            payload = entra_error_json(
                error,
                trace_id=trace,
                correlation_id=correlation_for(environ.get("HTTP_CLIENT_REQUEST_ID", ""), trace),
                timestamp=entra_timestamp(self.runtime.clock.now()),
                base_url=base_url,
            )
        except Exception:
            log.exception("unexpected error in the mock (trace id %s)", trace)
            status, payload = 500, unexpected_error_json(trace)
        data = json.dumps(payload, separators=(",", ":")).encode()
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [
                ("Content-Type", JSON_TYPE),
                ("Content-Length", str(len(data))),
                *NO_STORE,
                *SECURITY_HEADERS,
                ("x-ms-request-id", trace),
            ],
        )
        return [data]

    @staticmethod
    def _form(environ: dict, body: bytes) -> dict[str, list[str]]:
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return {}  # as Flask's empty request.form: the grant then misses its parameters
        try:
            return parse_qs(
                body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS
            )
        except ValueError:  # too many fields
            raise EntraError(AADSTS9002313) from None


_REASONS = {status.value: status.phrase for status in HTTPStatus}
