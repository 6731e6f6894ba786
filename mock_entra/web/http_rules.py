"""The HTTP rules every endpoint follows, written once for both sides of the mock (`front.Front`
and the Flask app, see `front.FAST_ROUTES` for which side owns which path): the answer to a
preflight, 405 with `Allow`, the body limit (413) and how a form body is read. No Flask.

Entra reads request parameters from `application/x-www-form-urlencoded` bodies only; a
repeated or over-numerous parameter is AADSTS9002313 (Learn, "Microsoft Entra authentication
and authorization error codes").
"""

from __future__ import annotations

from urllib.parse import parse_qs

from mock_entra.core import cors
from mock_entra.core.aadsts import AADSTS9002313
from mock_entra.core.errors import EntraError
from mock_entra.web import error_bodies
from mock_entra.web.error_bodies import NOT_ALLOWED, TOO_LARGE, Answer
from mock_entra.web.wire import MAX_BODY_BYTES

MAX_FIELDS = 200
FORM_TYPE = "application/x-www-form-urlencoded"


def preflight(environ: dict, allow: str, cors_methods: str, base: cors.Headers) -> Answer:
    """The answer to `OPTIONS`: 200, empty, `Allow`, and the CORS preflight headers."""
    requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
    headers = cors.preflight(cors_methods, requested, base)
    return Answer(200, b"", (("Allow", allow), *headers))


def not_allowed(allow: str, trace_id: str, headers: cors.Headers = ()) -> Answer:
    """405 for a method the path does not take, with `Allow` (RFC 9110 §15.5.6)."""
    return error_bodies.http_error(405, NOT_ALLOWED, trace_id, (("Allow", allow), *headers))


def too_large(trace_id: str) -> Answer:
    """413 for a body over `MAX_BODY_BYTES`."""
    return error_bodies.http_error(413, TOO_LARGE, trace_id)


def read_body(environ: dict) -> bytes | None:
    """The request body, or None when it is over `MAX_BODY_BYTES` (Content-Length, else the
    whole stream when the server marks it terminated)."""
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length.isdigit():
        size = int(length)
        return None if size > MAX_BODY_BYTES else stream.read(size) if size else b""
    if environ.get("wsgi.input_terminated"):
        body = stream.read(MAX_BODY_BYTES + 1)
        return None if len(body) > MAX_BODY_BYTES else body
    return b""


def is_form(environ: dict) -> bool:
    content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    return content_type == FORM_TYPE


def parse_form(text: str) -> dict[str, list[str]]:
    """A urlencoded form's fields (AADSTS9002313 past `MAX_FIELDS`)."""
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:  # too many fields
        raise EntraError(AADSTS9002313) from None


def form(environ: dict, body: bytes) -> dict[str, list[str]]:
    """The form of a request whose body was read: empty unless it is urlencoded (Entra
    reads forms only: the endpoint then misses its parameters)."""
    return parse_form(body.decode("utf-8", "replace")) if is_form(environ) else {}
