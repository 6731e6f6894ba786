"""`Front`: the only implementation of discovery, JWKS and the token endpoint, without Flask.

These are the endpoints clients hit most: discovery and JWKS (bytes built once per host and
path) and the token endpoint (`grants.dispatch.exchange`, without Flask's per-request machinery,
which costs more than the token's claims; see README "Performance"). Every other path (sign-in
pages, Graph, logout, instance discovery, the admin API) goes to the Flask app, built on first
use: importing Flask is most of a cold start, and a client's first requests are discovery and
JWKS. `wsgi.MockApp` composes `Front` the same way in every mode.

The device authorization endpoint (`/oauth2/v2.0/devicecode`) is a form post answered with
JSON like the token endpoint, so it shares its handling. CORS (`core.cors`): discovery and
JWKS for any origin; the token endpoint for any origin too, the grant deciding who may redeem
cross-origin (`grants.request.check_platform`), except the password grant (`cors.token_headers`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from mock_entra.core import cors
from mock_entra.core.aadsts import AADSTS900561, AADSTS9002313
from mock_entra.core.config.tenants import tenant_of
from mock_entra.core.discovery import jwks_issuer, metadata
from mock_entra.core.errors import EntraError
from mock_entra.core.faults import FaultResponse, JwksFault, KeyRotation
from mock_entra.core.grants.dispatch import exchange
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin import device_code
from mock_entra.web.errorlog import log_unexpected
from mock_entra.web.hosts import Hosts, check
from mock_entra.web.wire import (
    DEFER_ANSWER,
    JSON_TYPE,
    MAX_BODY_BYTES,
    NO_STORE,
    SECURITY_HEADERS,
    base_url_of,
    client_request_id,
    correlation_for,
    entra_error_json,
    entra_timestamp,
    http_error_json,
    path_of,
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
_DEVICECODE = re.compile(r"^/([^/]+)/oauth2/(?:v2\.0/)?devicecode$")
MAX_FIELDS = 200
MAX_DOCUMENTS = 256  # bounded: a public URL or a served host, by tenant segment and path
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_DAY = (("Cache-Control", "max-age=86400, private"),)
_DOCUMENT_METHODS = "GET, HEAD, OPTIONS"
# werkzeug's descriptions, which the Flask app's errors carry too
_NOT_ALLOWED = "The method is not allowed for the requested URL."
_TOO_LARGE = "The data value transmitted exceeds the capacity limit."


class Front:
    """Discovery, JWKS and token requests answered here; the rest handed to `flask`."""

    def __init__(
        self,
        runtime: Runtime,
        build_flask: Callable[[Runtime], WSGIApp],
        hosts: Hosts | None = None,
    ) -> None:
        self.runtime = runtime
        self.hosts = hosts if hosts is not None else Hosts()
        self._build_flask = build_flask
        self._flask: WSGIApp | None = None
        self._lock = threading.Lock()
        self._documents: dict[tuple[str, str, str], bytes] = {}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        # Every request, whichever endpoint: a Host the mock does not answer gets 400 here.
        refused = check(self.hosts, environ, start_response)
        if refused is not None:
            return refused
        # The fault scenarios in force are read once per request, whichever hook asks.
        with self.runtime.faults.request() as faults:
            answer = self._route(environ, start_response)
        if faults.answer_delay:  # `token.timeout`: the answer is ready, and held back
            defer = environ.get(DEFER_ANSWER)
            if defer is not None:
                defer(faults.answer_delay)
            else:
                time.sleep(faults.answer_delay)
        return answer

    def _route(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = path_of(environ)
        method = environ.get("REQUEST_METHOD", "GET")
        match = _DOCUMENT.match(path)
        if match is not None:
            return self._documents_endpoint(environ, start_response, method, *match.groups())
        match = _TOKEN.match(path)
        if match is not None:
            return self._token_endpoint(environ, start_response, method, match.group(1))
        match = _DEVICECODE.match(path)
        if match is not None:
            return self._token_endpoint(
                environ, start_response, method, match.group(1), self._devicecode
            )
        return self.flask(environ, start_response)

    @property
    def flask(self) -> WSGIApp:
        if self._flask is None:
            with self._lock:
                if self._flask is None:
                    self._flask = self._build_flask(self.runtime)
        return self._flask

    # -- discovery and JWKS ------------------------------------------------------------------

    def _documents_endpoint(
        self, environ: dict, start_response: StartResponse, method: str, segment: str, which: str
    ) -> Iterable[bytes]:
        trace = str(uuid.uuid4())
        if method == "OPTIONS":  # a CORS preflight, or a plain OPTIONS
            headers = cors.preflight(
                "GET, OPTIONS", environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"), cors.DOCUMENTS
            )
            return _send(start_response, 200, b"", trace, ("Allow", _DOCUMENT_METHODS), *headers)
        if method not in ("GET", "HEAD"):
            body = _json(http_error_json(405, _NOT_ALLOWED, trace))
            return _send(
                start_response, 405, body, trace, ("Allow", _DOCUMENT_METHODS), *cors.DOCUMENTS
            )
        try:
            body = self._keys_fault(base_url_of(environ), segment, which)
            if body is None:
                body = self._document(base_url_of(environ), segment, which)
        except FaultResponse as fault:
            return self._fault(environ, start_response, fault, trace, cors.DOCUMENTS)
        except EntraError as error:
            return self._error(environ, start_response, error, trace, cors.DOCUMENTS)
        return _send(
            start_response, 200, body, trace, *_DAY, *cors.DOCUMENTS, head=method == "HEAD"
        )

    def _document(self, base: str, segment: str, which: str) -> bytes:
        """The bytes of a discovery document or JWKS, built once per host, tenant and path."""
        key = (base, segment, which)
        body = self._documents.get(key)
        if body is not None:
            return body
        tenant = tenant_of(self.runtime.config, segment)  # EntraError for an unknown tenant
        if which == "discovery/v2.0/keys":
            body = self.runtime.keys.jwks_bytes(jwks_issuer(base, tenant))
        elif which == "discovery/keys":
            body = self.runtime.keys.jwks_bytes(None)
        else:
            version = "v2" if which.startswith("v2.0/") else "v1"
            body = _json(metadata(version, base, tenant, segment))
        if len(self._documents) < MAX_DOCUMENTS:
            self._documents[key] = body
        return body

    def _keys_fault(self, base: str, segment: str, which: str) -> bytes | None:
        """The JWKS as a scenario in force has it (down, or a rotation under way), else None."""
        rt = self.runtime
        if "keys" not in which or not rt.faults.any("jwks"):
            return None
        down = rt.faults.find("jwks", kind=JwksFault)  # down wins over a rotation under way
        if down is not None:
            raise down.scenario.response(down.activation.seconds)
        fault = rt.faults.find("jwks", kind=KeyRotation)
        if fault is None:
            return None
        act = fault.activation
        keys = fault.scenario.jwks_keys(rt.keys, act.started, rt.clock.now(), act.seconds)
        tenant = tenant_of(rt.config, segment)
        issuer = jwks_issuer(base, tenant) if which == "discovery/v2.0/keys" else None
        return rt.keys.jwks_bytes(issuer, keys)

    def _fault(
        self,
        environ: dict,
        start_response: StartResponse,
        fault: FaultResponse,
        trace: str,
        extra: cors.Headers = (),
    ) -> Iterable[bytes]:
        """A scenario's answer: Entra's error JSON with its headers, or its raw body."""
        if fault.error is None:
            body = fault.body or b""
            start_response(
                f"{fault.status} {_REASONS.get(fault.status, 'Error')}",
                [
                    ("Content-Type", fault.content_type),
                    ("Content-Length", str(len(body))),
                    *fault.headers,
                    *extra,
                    ("x-ms-request-id", trace),
                ],
            )
            return [body]
        payload = entra_error_json(
            fault.error,
            trace_id=trace,
            correlation_id=correlation_for(client_request_id(environ), trace),
            timestamp=entra_timestamp(self.runtime.clock.now()),
            base_url=base_url_of(environ),
        )
        return _send(
            start_response, fault.status, _json(payload), trace, *NO_STORE, *fault.headers, *extra
        )

    # -- token -------------------------------------------------------------------------------

    def _exchange(self, environ: dict, segment: str, form: dict[str, list[str]]) -> Any:
        return exchange(
            self.runtime,
            segment,
            form,
            authorization=environ.get("HTTP_AUTHORIZATION"),
            base_url=base_url_of(environ),
            origin=environ.get("HTTP_ORIGIN"),  # cross-origin: only a spa's (grants)
        )

    def _devicecode(self, environ: dict, segment: str, form: dict[str, list[str]]) -> Any:
        v1 = "/v2.0/" not in environ.get("PATH_INFO", "")
        return device_code.start(self.runtime, segment, form, base_url=base_url_of(environ), v1=v1)

    def _token_endpoint(
        self,
        environ: dict,
        start_response: StartResponse,
        method: str,
        segment: str,
        handler: Callable[[dict, str, dict[str, list[str]]], Any] | None = None,
    ) -> Iterable[bytes]:
        """The token endpoint, and the device authorization endpoint (`handler`): form
        posts answered with JSON, Entra's errors, CORS for any origin."""
        handler = handler or self._exchange
        trace = str(uuid.uuid4())
        headers = cors.TOKEN  # until the form says which grant it is
        if method == "OPTIONS":  # a CORS preflight (msal-browser's requests are simple ones)
            headers = cors.preflight(
                "POST, OPTIONS", environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"), cors.TOKEN
            )
            return _send(start_response, 200, b"", trace, ("Allow", "OPTIONS, POST"), *headers)
        try:
            if method != "POST":
                raise EntraError(AADSTS900561, method="POST", received=method[:16])
            body = _read_body(environ)
            if body is None:
                return _send(
                    start_response,
                    413,
                    _json(http_error_json(413, _TOO_LARGE, trace)),
                    trace,
                    *headers,
                )
            form = _form(environ, body)
            headers = cors.token_headers(form)
            payload = handler(environ, segment, form)
        except EntraError as error:
            return self._error(environ, start_response, error, trace, headers)
        except FaultResponse as fault:
            return self._fault(environ, start_response, fault, trace, headers)
        except Exception:
            log_unexpected(log, trace)
            body = _json(unexpected_error_json(trace))
            return _send(start_response, 500, body, trace, *headers)
        return _send(start_response, 200, _json(payload), trace, *NO_STORE, *headers)

    def _error(
        self,
        environ: dict,
        start_response: StartResponse,
        error: EntraError,
        trace: str,
        extra: cors.Headers = (),
    ) -> Iterable[bytes]:
        """Entra's error JSON (the same body `errors.render_entra_error` gives Flask's routes)."""
        payload = entra_error_json(
            error,
            trace_id=trace,
            correlation_id=correlation_for(client_request_id(environ), trace),
            timestamp=entra_timestamp(self.runtime.clock.now()),
            base_url=base_url_of(environ),
        )
        return _send(start_response, error.entry.status, _json(payload), trace, *NO_STORE, *extra)


def _json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _send(
    start_response: StartResponse,
    status: int,
    body: bytes,
    trace: str,
    *headers: tuple[str, str],
    head: bool = False,
) -> Iterable[bytes]:
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [
            ("Content-Type", JSON_TYPE),
            ("Content-Length", str(len(body))),
            *headers,
            *SECURITY_HEADERS,
            ("x-ms-request-id", trace),
        ],
    )
    return [] if head else [body]


def _read_body(environ: dict) -> bytes | None:
    """The request body, or None when it is over `MAX_BODY_BYTES` (as werkzeug reads it:
    Content-Length, else the whole stream when the server marks it terminated)."""
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length.isdigit():
        size = int(length)
        return None if size > MAX_BODY_BYTES else stream.read(size) if size else b""
    if environ.get("wsgi.input_terminated"):
        body = stream.read(MAX_BODY_BYTES + 1)
        return None if len(body) > MAX_BODY_BYTES else body
    return b""


def _form(environ: dict, body: bytes) -> dict[str, list[str]]:
    content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}  # Entra reads forms only: the grant then misses its parameters
    try:
        return parse_qs(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS
        )
    except ValueError:  # too many fields
        raise EntraError(AADSTS9002313) from None
