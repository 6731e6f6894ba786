"""Discovery and JWKS bytes served ahead of Flask once built.

They never change for a given host and path, and clients fetch them often (every MSAL app
construction reads discovery), so after the first 200 the WSGI layer answers from a small
table without routing, request objects or JSON encoding.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

_CACHEABLE = re.compile(
    r"^/[^/]+/(v2\.0/\.well-known/openid-configuration|\.well-known/openid-configuration|"
    r"discovery/v2\.0/keys|discovery/keys)$"
)
MAX_ENTRIES = 256  # bounded: the Host header is the client's to choose

StartResponse = Callable[..., Any]


class PrecomputedGets:
    def __init__(self, app: Callable[[dict, StartResponse], Iterable[bytes]]) -> None:
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
