"""Seeing into the mock: a landing page at `/` and at the authority URLs (`/{tenant}`,
`/{tenant}/v2.0`) listing tenants, apps, users, endpoints and how to trust the CA; `/healthz`;
and the CA certificate at `/ca.pem`.

HTML (escaped by Jinja, under a CSP with no script and one hashed style) or JSON when the
client asks for `application/json`. Client secrets never appear; test users' passwords do:
they are the mock's test data, which `mock-entra info` and the demo print as well.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup, escape

from mock_entra.core.config.tenants import tenant_of
from mock_entra.core.pki.state import StatePaths
from mock_entra.info import overview
from mock_entra.web.context import base_url, runtime
from mock_entra.web.respond import json_response

bp = Blueprint("landing", __name__)

# URLs wrap only after a "/" (the `breakable` filter's <wbr>), never mid-word; what still does
# not fit scrolls sideways in its table's box instead of being cut anywhere.
STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}"
    "code{background:#f3f3f3;padding:0 .25rem;overflow-wrap:normal;word-break:normal}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@bp.app_template_filter("breakable")
def breakable(url: object) -> Markup:
    """`url` escaped, with a line-break opportunity after each "/" (and "?", "&")."""
    text = escape(url)
    for mark in ("/", "?", "&amp;"):
        text = text.replace(Markup(mark), Markup(f"{mark}<wbr>"))
    return text


@bp.get("/healthz")
def healthz() -> Response:
    """200 `{"status":"ok"}`: the process serves requests (no store or key access)."""
    response = json_response({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def home() -> Response:
    return _landing(None)


@bp.get("/<tenant>")
@bp.get("/<tenant>/")
@bp.get("/<tenant>/v2.0")
@bp.get("/<tenant>/v2.0/")
def authority(tenant: str) -> Response:
    # The authority URL `info` prints, opened in a browser; an unknown tenant is Entra's
    # AADSTS90002 (raised by tenant_of, rendered by the one error renderer).
    return _landing(tenant)


@bp.get("/favicon.ico")
def favicon() -> Response:
    return Response(status=204)  # not a tenant called favicon.ico


@bp.get("/ca.pem")
def ca_certificate() -> Response:
    """The CA certificate (public), for clients in another container or machine."""
    paths = _state_paths()
    if paths is None or not paths.ca_cert.is_file():
        return Response("no CA here\n", 404, content_type="text/plain; charset=utf-8")
    response = Response(paths.ca_cert.read_bytes(), content_type="application/x-pem-file")
    response.headers["Content-Disposition"] = 'attachment; filename="mock-entra-ca.pem"'
    return response


def _landing(segment: str | None) -> Response:
    config = runtime().config
    tenant = tenant_of(config, segment) if segment is not None else None
    data = overview(config, base_url(), _state_paths(), tenant)
    if _wants_json():
        response = json_response(data)
    else:
        html = render_template("landing.html", data=data, style=STYLE)
        response = Response(html, content_type="text/html; charset=utf-8")
    response.headers.update(_PAGE_HEADERS)
    response.headers["Vary"] = "Accept"
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _state_paths() -> StatePaths | None:
    # The store lives in the state dir, next to the CA (pki.StatePaths).
    store = getattr(runtime().store, "path", None)
    return StatePaths(Path(store).parent) if store else None
