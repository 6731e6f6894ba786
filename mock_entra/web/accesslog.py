"""`AccessLog`: a WSGI middleware that logs one line per request (client address, method,
path, query, status, duration) to the `mock_entra.access` logger.

Query values are shown only for parameters that carry no secret (`SHOWN`); every other
value (codes, tokens, secrets, assertions, hints, state, nonce) is replaced by `<redacted>`.
Bodies and headers are never logged. `mock-entra serve --access-log` turns it on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote

from mock_entra.web.front import StartResponse, WSGIApp
from mock_entra.web.wire import path_of

log = logging.getLogger("mock_entra.access")

# Parameters whose values say how a client called, not who it is or what it holds.
SHOWN = frozenset(
    {
        "client_id",
        "response_type",
        "response_mode",
        "scope",
        "redirect_uri",
        "post_logout_redirect_uri",
        "prompt",
        "code_challenge_method",
        "api-version",
        "authorization_endpoint",
        "client-request-id",
        "x-client-sku",
        "x-client-ver",
        "x-client-os",
        "x-client-cpu",
        "client_info",
        "claims",
        "$select",
        "$top",
        "$filter",
    }
)


def redacted_query(query: str) -> str:
    """The query string with every value outside `SHOWN` replaced by `<redacted>`."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=None)[:50]
    return "?" + "&".join(
        f"{quote(k, safe='')}={quote(v, safe=':/.') if k in SHOWN else '<redacted>'}"
        for k, v in pairs
    )


class AccessLog:
    def __init__(self, app: WSGIApp, logger: logging.Logger = log) -> None:
        self.app = app
        self.log = logger

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["-"]

        def noting_start_response(code: str, headers: list, *exc_info: object):
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *exc_info)

        try:
            return self.app(environ, noting_start_response)
        finally:
            self.log.info(
                '%s "%s %s%s" %s %.1f ms',
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD", "-"),
                path_of(environ)[:200],
                redacted_query(environ.get("QUERY_STRING", ""))[:500],
                status[0],
                1000 * (time.perf_counter() - started),
            )
