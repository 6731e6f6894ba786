"""Every HTML page of the mock leaves through `html_page`: sign-in views, consent, picker,
error, signed-out and form_post pages.

Each page gets a Content-Security-Policy that allows nothing but its own inline `<style>` and
`<script>` blocks (by SHA-256 hash, computed from the page as rendered) and form posts to the
mock itself and to the client's redirect URI; framing is refused by `frame-ancestors 'none'`
and `X-Frame-Options: DENY` (login.microsoftonline.com refuses framing too). The redirect URI
is in `form-action` even for the sign-in views, whose forms post to the mock: the mock
answers the last post with a redirect to the client, and Chromium applies `form-action` to
the redirects that follow a form submission.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Response

_INLINE = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_SOURCE = re.compile(r"^[a-z][a-z0-9+.-]*://[A-Za-z0-9.\-\[\]:]+$")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def origin_source(uri: str) -> str | None:
    """A redirect URI's origin as a CSP source (`https://app.example:8443`), or None when it
    has none that CSP can name safely."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    source = f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2]}"
    return source if parts.netloc and _SOURCE.match(source) else None


def content_security_policy(html: str, form_targets: Iterable[str] = ()) -> str:
    scripts = [_hash(body) for tag, body in _INLINE.findall(html) if tag.lower() == "script"]
    styles = [_hash(body) for tag, body in _INLINE.findall(html) if tag.lower() == "style"]
    targets = [s for s in map(origin_source, form_targets) if s is not None]
    form_action = " ".join(dict.fromkeys(("'self'", *targets)))
    directives = [
        "default-src 'none'",
        f"script-src {' '.join(scripts)}" if scripts else "script-src 'none'",
        f"style-src {' '.join(styles)}" if styles else "style-src 'none'",
        f"form-action {form_action}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
    return "; ".join(directives)


def html_page(html: str, *, status: int = 200, form_targets: Iterable[str] = ()) -> Response:
    """An HTML response with the mock's page headers; `form_targets` are URIs (besides the
    mock itself) that the page's forms, or the redirects after them, may go to."""
    response = Response(html, status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = content_security_policy(html, form_targets)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store, no-cache"
    return response
