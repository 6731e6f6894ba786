"""`RequestLog`: a WSGI middleware that records what clients send, for tests to assert on,
with secrets and tokens redacted. It wraps the whole mock (`wsgi.MockApp`), so requests
answered by `Front` and by Flask are logged alike; the admin API itself is not logged.

An entry is bounded (values cut at `MAX_VALUE` characters, at most `MAX_ENTRY` characters of
values in all): the store keeps 2,000 entries, and whole 1 MiB bodies would have made that
gigabytes."""

from __future__ import annotations

import io
from collections.abc import Iterable

from mock_entra.core.errors import EntraError
from mock_entra.core.runtime import Runtime
from mock_entra.web import http_rules
from mock_entra.web.front import StartResponse, WSGIApp
from mock_entra.web.wire import MAX_BODY_BYTES, path_of

SENSITIVE = {
    "client_secret",
    "passwd",
    "password",
    "code",
    "code_verifier",
    "refresh_token",
    "access_token",
    "id_token",
    "id_token_hint",
    "assertion",
    "client_assertion",
    "authorization",
    "cookie",
    "x-admin-key",
    "ctx",
}
HEADERS = (
    "Authorization",
    "Origin",  # a browser's cross-origin request (a SPA's token requests)
    "Content-Type",
    "client-request-id",
    "x-client-sku",
    "x-client-ver",
    "X-AnchorMailbox",
    "User-Agent",
    "Cookie",
)
_ENVIRON_HEADERS = {name: "HTTP_" + name.upper().replace("-", "_") for name in HEADERS}
_ENVIRON_HEADERS["Content-Type"] = "CONTENT_TYPE"


def redact(name: str, value: str) -> str:
    return f"<redacted {len(value)} chars>" if name.lower() in SENSITIVE else value


MAX_VALUE = 1024  # characters of one value (a header's, a parameter's, the path)
MAX_ENTRY = 8 * 1024  # characters of parameter names and values in one entry
LEFT_OUT = "<left out>"


def _redacted(pairs: dict[str, list[str]], budget: list[int]) -> dict[str, list[str]]:
    """Redacted, long values cut, and nothing more once `budget` (shared by the entry's
    query and form) is spent: then `LEFT_OUT` says how many values were dropped."""
    kept: dict[str, list[str]] = {}
    flat = [(name, value) for name, values in pairs.items() for value in values]
    for index, (name, value) in enumerate(flat):
        if budget[0] <= 0:
            kept[LEFT_OUT] = [f"{len(flat) - index} more values"]
            break
        value = _cut(redact(name, value))
        budget[0] -= len(name) + len(value)
        kept.setdefault(_cut(name), []).append(value)
    return kept


def _cut(value: str) -> str:
    return value if len(value) <= MAX_VALUE else f"{value[:MAX_VALUE]}...<{len(value)} chars>"


def _parse(text: str) -> dict[str, list[str]]:
    try:
        return http_rules.parse_form(text)
    except EntraError:  # too many fields: the endpoint answers that; the log keeps none
        return {}


def _form(environ: dict) -> dict[str, list[str]]:
    """The form fields, read from the body and put back for the app (bounded: a body over
    the limit is left for the app to refuse, unread)."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not http_rules.is_form(environ) or not length.isdigit():
        return {}
    if int(length) > MAX_BODY_BYTES:
        return {}
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    return _parse(body.decode("utf-8", "replace"))


class RequestLog:
    """Records method, path, query, form and some headers (redacted) and the status."""

    def __init__(self, app: WSGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = path_of(environ)
        if path.startswith("/_admin"):
            return self.app(environ, start_response)
        budget = [MAX_ENTRY]
        record = {
            "time": self.runtime.clock.now(),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": _cut(path),
            "query": _redacted(_parse(environ.get("QUERY_STRING", "")), budget),
            "form": _redacted(_form(environ), budget),
            "headers": {
                name: _cut(redact(name, environ[key]))
                for name, key in _ENVIRON_HEADERS.items()
                if key in environ
            },
            "status": 500,  # unless the app answers
        }

        def recording_start_response(status: str, headers: list, *exc_info: object):
            record["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            self.runtime.store.log(record)
