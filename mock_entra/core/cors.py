"""CORS as Entra and Graph answer it, as header lists (the web layer adds them).

Entra serves its metadata (discovery, JWKS, instance discovery) to any origin
(`Access-Control-Allow-Origin: *` with `GET, OPTIONS`, as recorded from
login.microsoftonline.com, with or without an `Origin`), and its token and device
authorization endpoints to any origin too, but only to a browser: an answer to a request
with no `Origin` (a server-side client) carries no `Access-Control-*` header, as every
recorded token and device code answer shows (Azure/azure-sdk-for-js@07ea93a:
sdk/identity/identity/recordings/node/devicecodecredential/
recording_authenticates_with_provided_values.json). Who may redeem cross-origin is decided
by the grant (`grants.request.check_platform`: only a code or refresh token of a `spa`
redirect URI, else AADSTS9002326), and the browser must be able to read that error.
Except for the password grant (ROPC), which is never for a browser: Entra answers it without
CORS headers (MicrosoftDocs/azure-docs#75699), so a web page cannot read whether a password
was right (`token_headers`).
Graph allows CORS from any origin for bearer-token calls (no cookies: no credentials mode).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

Headers = tuple[tuple[str, str], ...]

DOCUMENTS: Headers = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, OPTIONS"),
)
TOKEN: Headers = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, OPTIONS"),
)
GRAPH: Headers = (
    ("Access-Control-Allow-Origin", "*"),
    # What a browser app may read of Graph's answers (its request ids, paging, throttling).
    ("Access-Control-Expose-Headers", "request-id, client-request-id, Location, Retry-After"),
)
GRAPH_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "86400"
_TOKEN_LIST = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$")
MAX_REQUESTED_HEADERS = 1024


def token_headers(origin: str | None, form: Mapping[str, Sequence[str]] | None = None) -> Headers:
    """The CORS headers of a token (or device authorization) endpoint answer to a request
    from `origin` with this form: none without an `Origin` (not a browser), none for a
    password grant."""
    if not origin or (form is not None and "password" in form.get("grant_type", ())):
        return ()
    return TOKEN


def preflight(methods: str, requested_headers: str | None, base: Headers) -> Headers:
    """The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`): the
    methods, and the request headers the browser asked for when they are a plain list of
    header names (anything else is not echoed)."""
    headers = [*(h for h in base if h[0] != "Access-Control-Allow-Methods")]
    headers.append(("Access-Control-Allow-Methods", methods))
    asked = (requested_headers or "").strip()
    if asked and len(asked) <= MAX_REQUESTED_HEADERS and _TOKEN_LIST.match(asked):
        headers.append(("Access-Control-Allow-Headers", asked))
    headers.append(("Access-Control-Max-Age", PREFLIGHT_MAX_AGE))
    return tuple(headers)
