"""`Front`: the only implementation of discovery, JWKS and the token endpoint, without Flask.

These are the endpoints clients hit most: discovery and JWKS (bytes built once per host and
path) and the token endpoint (`grants.dispatch.exchange`, without Flask's per-request machinery,
which costs more than the token's claims; see README "Performance"). Every other path (sign-in
pages, Graph, logout, instance discovery, the admin API) goes to the Flask app, built on first
use: importing Flask is most of a cold start, and a client's first requests are discovery and
JWKS. `wsgi.MockApp` composes `Front` the same way in every mode.

The device authorization endpoint (`/oauth2/v2.0/devicecode`) is a form post answered with
JSON like the token endpoint, so it shares its handling. CORS (`core.cors`): discovery and
JWKS for any origin; the token endpoint for any origin too (for a browser: a request with an
`Origin`), the grant deciding who may redeem cross-origin (`grants.request.check_platform`),
except the password grant (`cors.token_headers`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mock_entra.core import cors
from mock_entra.core.aadsts import AADSTS900561
from mock_entra.core.config.tenants import tenant_of
from mock_entra.core.discovery import jwks_issuer, metadata
from mock_entra.core.errors import EntraError
from mock_entra.core.faults import FaultResponse, Hook, JwksFault, KeyRotation
from mock_entra.core.grants.dispatch import exchange
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin import device_code
from mock_entra.web import error_bodies, http_rules
from mock_entra.web.error_bodies import REASONS, ErrorIds
from mock_entra.web.errorlog import log_unexpected
from mock_entra.web.hosts import Hosts, check
from mock_entra.web.wire import (
    DEFER_ANSWER,
    JSON_TYPE,
    NO_STORE,
    SECURITY_HEADERS,
    base_url_of,
    path_of,
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FastRoute:
    """A path `Front` owns: its pattern (the first group is the tenant segment), the methods
    it takes (`Allow`) and the `Front` method that answers it."""

    name: str
    pattern: re.Pattern[str]
    allow: str
    handler: str


# The routing rule: `Front` owns exactly these paths, the ones a client (not a browser) calls
# with no session, answered with JSON: the OIDC documents, the JWKS, the token endpoint and
# the device authorization endpoint. Every other path is the Flask app's (pages, cookies,
# Graph, the admin API); a new endpoint goes there unless it is one of a client's JSON
# endpoints on the hot path. `tests/mock_entra/test_routing_rule.py` checks that no path is
# on both sides, and that preflight, 405, 413 and forms behave alike on both (`http_rules`).
FAST_ROUTES: tuple[FastRoute, ...] = (
    FastRoute(
        "documents",
        re.compile(
            r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|\.well-known/openid-configuration|"
            r"discovery/v2\.0/keys|discovery/keys)$"
        ),
        "GET, HEAD, OPTIONS",
        "_documents_endpoint",
    ),
    FastRoute(
        "token", re.compile(r"^/([^/]+)/oauth2/v2\.0/token$"), "OPTIONS, POST", "_token_endpoint"
    ),
    FastRoute(
        "devicecode",
        re.compile(r"^/([^/]+)/oauth2/(?:v2\.0/)?devicecode$"),
        "OPTIONS, POST",
        "_devicecode_endpoint",
    ),
)
MAX_DOCUMENTS = 256  # bounded: a public URL or a served host, by tenant segment and path
_DAY = (("Cache-Control", "max-age=86400, private"),)
_DOCUMENT_METHODS = "GET, HEAD, OPTIONS"
_FORM_METHODS = "OPTIONS, POST"


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
        for route in FAST_ROUTES:
            match = route.pattern.match(path)
            if match is not None:
                handler = getattr(self, route.handler)
                return handler(environ, start_response, method, *match.groups())
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
            answer = http_rules.preflight(
                environ, _DOCUMENT_METHODS, "GET, OPTIONS", cors.DOCUMENTS
            )
            return answer.send(start_response, trace)
        if method not in ("GET", "HEAD"):
            answer = http_rules.not_allowed(_DOCUMENT_METHODS, trace)
            return answer.send(start_response, trace, *cors.DOCUMENTS)
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
            body = self.runtime.keys.jwks_bytes(jwks_issuer(base, tenant, segment))
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
        if "keys" not in which or not rt.faults.any(Hook.JWKS):
            return None
        down = rt.faults.find(Hook.JWKS, kind=JwksFault)  # down wins over a rotation under way
        if down is not None:
            raise down.scenario.response(down.activation.seconds)
        fault = rt.faults.find(Hook.JWKS, kind=KeyRotation)
        if fault is None:
            return None
        act = fault.activation
        keys = fault.scenario.jwks_keys(rt.keys, act.started, rt.clock.now(), act.seconds)
        tenant = tenant_of(rt.config, segment)
        issuer = jwks_issuer(base, tenant, segment) if which == "discovery/v2.0/keys" else None
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
            answer = error_bodies.Answer(
                fault.status, fault.body or b"", fault.headers, fault.content_type
            )
        else:
            ids = ErrorIds.of(environ, trace, self.runtime.clock.now())
            answer = error_bodies.entra_error(
                fault.error, ids, status=fault.status, headers=fault.headers
            )
        return answer.send(start_response, trace, *extra)

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

    def _devicecode_endpoint(
        self, environ: dict, start_response: StartResponse, method: str, segment: str
    ) -> Iterable[bytes]:
        return self._token_endpoint(environ, start_response, method, segment, self._devicecode)

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
        origin = environ.get("HTTP_ORIGIN")
        headers = cors.token_headers(origin)  # until the form says which grant it is
        if method == "OPTIONS":  # a CORS preflight (msal-browser's requests are simple ones)
            answer = http_rules.preflight(environ, _FORM_METHODS, "POST, OPTIONS", cors.TOKEN)
            return answer.send(start_response, trace)
        try:
            if method != "POST":
                # "The endpoint only accepts POST, OPTIONS requests. Received a GET request."
                # (nbarbettini/oidc-debugger#87, BitySA/oauth2-auth-code-pkce#30)
                raise EntraError(AADSTS900561, method="POST, OPTIONS", received=method[:16])
            body = http_rules.read_body(environ)
            if body is None:
                return http_rules.too_large(trace).send(start_response, trace, *headers)
            form = http_rules.form(environ, body)
            headers = cors.token_headers(origin, form)
            payload = handler(environ, segment, form)
        except EntraError as error:
            return self._error(environ, start_response, error, trace, headers)
        except FaultResponse as fault:
            return self._fault(environ, start_response, fault, trace, headers)
        except Exception:
            log_unexpected(log, trace)
            return error_bodies.unexpected(trace).send(start_response, trace, *headers)
        return _send(start_response, 200, _json(payload), trace, *NO_STORE, *headers)

    def _error(
        self,
        environ: dict,
        start_response: StartResponse,
        error: EntraError,
        trace: str,
        extra: cors.Headers = (),
    ) -> Iterable[bytes]:
        """Entra's error JSON (`error_bodies.entra_error`, as the Flask app's handlers send it)."""
        ids = ErrorIds.of(environ, trace, self.runtime.clock.now())
        return error_bodies.entra_error(error, ids).send(start_response, trace, *extra)


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
        f"{status} {REASONS.get(status, 'Error')}",
        [
            ("Content-Type", JSON_TYPE),
            ("Content-Length", str(len(body))),
            *headers,
            *SECURITY_HEADERS,
            ("x-ms-request-id", trace),
        ],
    )
    return [] if head else [body]
