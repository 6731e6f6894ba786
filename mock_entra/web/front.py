"""`Front`: the WSGI app `mock-entra serve` runs. It imports no Flask.

The endpoints clients hit most are answered here: discovery and JWKS (bytes built once
per host and path) and the token endpoint (the same `grants.exchange` as the Flask route,
without Flask's per-request machinery, which costs more than the token's claims). The rest
(sign-in pages, Graph, logout) goes to the Flask app, built on first use: importing Flask is
most of a cold start, and a client's first requests are discovery and JWKS.

With the admin API on, everything goes to Flask, whose hooks keep the request log.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from mock_entra.core.aadsts import AADSTS9002313, EntraError
from mock_entra.core.clock import Clock
from mock_entra.core.config import MockConfig
from mock_entra.core.discovery import jwks_issuer, metadata
from mock_entra.core.grants import exchange
from mock_entra.core.runtime import Runtime, open_runtime
from mock_entra.core.tenants import tenant_of
from mock_entra.web.wire import (
    JSON_TYPE,
    NO_STORE,
    SECURITY_HEADERS,
    base_url_of,
    correlation_for,
    entra_error_json,
    entra_timestamp,
    unexpected_error_json,
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]
log = logging.getLogger(__name__)

_DOCUMENT = re.compile(
    r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|\.well-known/openid-configuration|"
    r"discovery/v2\.0/keys|discovery/keys)$"
)
_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
MAX_FORM_BYTES = 1024 * 1024  # the Flask app's MAX_CONTENT_LENGTH
MAX_FIELDS = 200
MAX_DOCUMENTS = 256  # bounded: the Host header is the client's to choose
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_DAY = ("Cache-Control", "max-age=86400, private")


class Front:
    def __init__(self, runtime: Runtime, build_flask: Callable[[Runtime], WSGIApp]) -> None:
        self.runtime = runtime
        self._build_flask = build_flask
        self._flask: WSGIApp | None = None
        self._lock = threading.Lock()
        self._documents: dict[tuple[str, str], bytes] = {}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if method == "GET" and not environ.get("QUERY_STRING"):
            match = _DOCUMENT.match(path)
            if match is not None:
                body = self._document(environ, match.group(1), match.group(2))
                if body is not None:
                    return self._send(start_response, 200, body, _DAY, str(uuid.uuid4()))
        elif method == "POST":
            match = _TOKEN.match(path)
            length = environ.get("CONTENT_LENGTH") or ""
            if match is not None and length.isdigit() and int(length) <= MAX_FORM_BYTES:
                return self._token(environ, start_response, match.group(1), int(length))
        return self.flask(environ, start_response)

    @property
    def flask(self) -> WSGIApp:
        if self._flask is None:
            with self._lock:
                if self._flask is None:
                    self._flask = self._build_flask(self.runtime)
        return self._flask

    # -- discovery and JWKS ------------------------------------------------------------------

    def _document(self, environ: dict, segment: str, which: str) -> bytes | None:
        """The bytes of a discovery document or JWKS; None leaves the answer (an unknown
        tenant's error, say) to Flask."""
        base = base_url_of(environ)
        key = (base, f"{segment}/{which}")
        body = self._documents.get(key)
        if body is not None:
            return body
        try:
            tenant = tenant_of(self.runtime.config, segment)
        except EntraError:
            return None
        if which == "discovery/v2.0/keys":
            body = self.runtime.keys.jwks_bytes(jwks_issuer(base, tenant))
        elif which == "discovery/keys":
            body = self.runtime.keys.jwks_bytes(None)
        else:
            version = "v2" if which.startswith("v2.0/") else "v1"
            document = metadata(version, base, tenant, segment)
            body = json.dumps(document, separators=(",", ":")).encode()
        if len(self._documents) < MAX_DOCUMENTS:
            self._documents[key] = body
        return body

    # -- token -------------------------------------------------------------------------------

    def _token(
        self, environ: dict, start_response: StartResponse, segment: str, length: int
    ) -> Iterable[bytes]:
        trace = str(uuid.uuid4())
        base = base_url_of(environ)
        try:
            form = _form(environ, environ["wsgi.input"].read(length))
            authorization = environ.get("HTTP_AUTHORIZATION")
            status = 200
            payload = exchange(
                self.runtime, segment, form, authorization=authorization, base_url=base
            )
        except EntraError as error:
            status = error.entry.status
            payload = entra_error_json(
                error,
                trace_id=trace,
                correlation_id=correlation_for(environ.get("HTTP_CLIENT_REQUEST_ID", ""), trace),
                timestamp=entra_timestamp(self.runtime.clock.now()),
                base_url=base,
            )
        except Exception:
            log.exception("unexpected error in the mock (trace id %s)", trace)
            status, payload = 500, unexpected_error_json(trace)
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self._send(start_response, status, body, None, trace, *NO_STORE)

    @staticmethod
    def _send(
        start_response: StartResponse,
        status: int,
        body: bytes,
        cache: tuple[str, str] | None,
        trace: str,
        *headers: tuple[str, str],
    ) -> Iterable[bytes]:
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [
                ("Content-Type", JSON_TYPE),
                ("Content-Length", str(len(body))),
                *((cache,) if cache else ()),
                *headers,
                *SECURITY_HEADERS,
                ("x-ms-request-id", trace),
            ],
        )
        return [body]


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


def _flask_app(runtime: Runtime) -> WSGIApp:
    from mock_entra.web.app import flask_app  # imported here: Flask only when needed

    return flask_app(runtime)


def serving_app(
    config: MockConfig,
    *,
    state_dir: str | Path,
    admin_key: str | None = None,
    clock: Clock | None = None,
) -> WSGIApp:
    """What `mock-entra serve` runs: `Front` before a lazily built Flask app, or, with the
    admin API on, the Flask app itself (every request must reach the log)."""
    runtime = open_runtime(config, state_dir=state_dir, clock=clock, admin_key=admin_key)
    if admin_key is not None:
        return _flask_app(runtime)
    return Front(runtime, _flask_app)
