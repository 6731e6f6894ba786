"""Response builders shared by the views: Entra's JSON and the authorize redirects."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template

from mock_entra.core.config.redirects import reply_to
from mock_entra.core.store.records import AuthorizeResponse
from mock_entra.web.page import html_page
from mock_entra.web.wire import JSON_TYPE, NO_STORE

_PCT = re.compile(r"%[0-9A-F]{2}")


def json_response(
    body: Any, status: int = 200, *, no_store: bool = False, max_age: int | None = None
) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    response = Response(data, status, content_type=JSON_TYPE)
    if no_store:
        response.headers.update(NO_STORE)
    elif max_age is not None:
        response.headers["Cache-Control"] = f"max-age={max_age}, private"
    return response


def _dotnet_urlencode(params: list[tuple[str, str]]) -> str:
    # Entra's query redirects use .NET's encoding: '+' for space, lower-case escapes.
    return _PCT.sub(lambda m: m.group(0).lower(), urlencode(params))


def authorize_redirect(response: AuthorizeResponse) -> Response:
    """Send the authorization response back as `query`, `fragment` or `form_post`."""
    if response.response_mode == "form_post":
        html = render_template(
            "form_post.html", action=response.redirect_uri, fields=response.params
        )
        return html_page(html, form_targets=[response.redirect_uri])
    target = reply_to(response.redirect_uri)  # a URI without a path gets Entra's "/"
    if response.response_mode == "fragment":
        location = f"{target}#{_dotnet_urlencode(response.params)}"
    else:
        joiner = "&" if "?" in target else "?"
        location = f"{target}{joiner}{_dotnet_urlencode(response.params)}"
    r = Response(status=302)
    r.headers["Location"] = location
    r.headers["Cache-Control"] = "no-store, no-cache"
    return r
