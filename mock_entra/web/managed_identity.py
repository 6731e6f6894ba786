"""The managed identity endpoints over plain HTTP (`mock-entra serve --managed-identity-port`):
App Service's `/msi/token` and IMDS's `/metadata/identity/oauth2/token`, as a small WSGI app
(no Flask) served by the standard library's threading WSGI server in a process of its own.
The protocol (parameters, answers, errors, tokens) is `core.grants.managed_identity`.

Plain HTTP on loopback, as the platforms serve it (App Service's `IDENTITY_ENDPOINT` is
`http://localhost:PORT/msi/token`; IMDS is `http://169.254.169.254`): a client refuses a
managed identity endpoint it would have to trust a CA for, and azure-identity's IMDS client
speaks HTTP only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from mock_entra.core.grants.managed_identity import (
    APP_SERVICE_PATH,
    IMDS_PATH,
    PlatformError,
    app_service,
    imds,
)
from mock_entra.core.runtime import Runtime
from mock_entra.web.error_bodies import platform_error

StartResponse = Callable[..., Any]
MAX_QUERY = 8192


class ManagedIdentityApp:
    """The two endpoints; GET only, anything else 404/405 in the platform's shape."""

    def __init__(self, runtime: Runtime, *, identity_header: str, base_url: str) -> None:
        self.runtime = runtime
        self.identity_header = identity_header
        self.base_url = base_url  # the HTTPS mock's: the issuer of the tokens

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == IMDS_PATH + "/":
            # AAD Pod Identity's IMDS stand-in answers the path with a trailing slash too
            # (Azure/aad-pod-identity, pkg/nmi/server/server.go), and msal-node sends it so
            # when AZURE_POD_IDENTITY_AUTHORITY_HOST is set (its UrlString adds the slash).
            path = IMDS_PATH
        raw_query = environ.get("QUERY_STRING", "")
        if path not in (APP_SERVICE_PATH, IMDS_PATH):
            error = PlatformError(404, platform="imds", error="not_found", message=path)
            return _json(start_response, 404, platform_error(error))
        if environ.get("REQUEST_METHOD") != "GET":
            error = PlatformError(
                405, platform="imds", error="method_not_allowed", message="Not allowed"
            )
            return _json(start_response, 405, platform_error(error), [("Allow", "GET")])
        if len(raw_query) > MAX_QUERY:
            error = PlatformError(
                414, platform="imds", error="invalid_request", message="Query too long"
            )
            return _json(start_response, 414, platform_error(error))
        query = parse_qs(raw_query, keep_blank_values=True)
        try:
            if path == APP_SERVICE_PATH:
                body = app_service(
                    self.runtime,
                    query,
                    environ.get("HTTP_X_IDENTITY_HEADER"),
                    expected_header=self.identity_header,
                    base_url=self.base_url,
                )
            else:
                body = imds(
                    self.runtime, query, environ.get("HTTP_METADATA"), base_url=self.base_url
                )
        except PlatformError as error:
            return _json(start_response, error.status, platform_error(error))
        return _json(start_response, 200, body)


def _json(
    start_response: StartResponse,
    status: int,
    body: dict[str, Any],
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    data = json.dumps(body).encode()
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
    reasons |= {405: "Method Not Allowed", 414: "URI Too Long", 500: "Internal Server Error"}
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"),  # a token
        *(extra or []),
    ]
    start_response(f"{status} {reasons.get(status, '')}".strip(), headers)
    return [data]


# --- serving -------------------------------------------------------------------------------


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck client never holds the process at exit
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the HTTPS mock's access log is the one log; tokens never logged

    def address_string(self) -> str:
        return self.client_address[0]


def make_managed_identity_server(
    app: ManagedIdentityApp | None, host: str, port: int
) -> WSGIServer:
    """The listening server (bound now: a taken port fails here, before anything starts);
    `app` may be set later (`set_app`)."""
    return make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)  # type: ignore[arg-type]
