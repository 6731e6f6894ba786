"""Records what clients send, for tests to assert on, with secrets and tokens redacted."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from mock_entra.web.context import runtime

SENSITIVE = {
    "client_secret",
    "passwd",
    "password",
    "code",
    "code_verifier",
    "refresh_token",
    "access_token",
    "id_token",
    "client_assertion",
    "authorization",
    "cookie",
    "x-admin-key",
    "ctx",
}
HEADERS = (
    "Authorization",
    "Content-Type",
    "client-request-id",
    "x-client-sku",
    "x-client-ver",
    "X-AnchorMailbox",
    "User-Agent",
    "Cookie",
)


def _redact(name: str, value: str) -> str:
    return f"<redacted {len(value)} chars>" if name.lower() in SENSITIVE else value


def _multi(source) -> dict[str, list[str]]:
    return {k: [_redact(k, v) for v in vs] for k, vs in source.to_dict(flat=False).items()}


def _form() -> dict[str, list[str]]:
    if request.mimetype != "application/x-www-form-urlencoded":
        return {}
    try:
        return _multi(request.form)
    except HTTPException:  # an oversized or malformed body: already answered with an error
        return {}


def record(response: Response) -> Response:
    if request.path.startswith("/_admin"):
        return response
    rt = runtime()
    rt.store.log(
        {
            "time": rt.clock.now(),
            "method": request.method,
            "path": request.path,
            "query": _multi(request.args),
            "form": _form(),
            "headers": {h: _redact(h, request.headers[h]) for h in HEADERS if h in request.headers},
            "status": response.status_code,
        }
    )
    return response


def install(app: Flask) -> None:
    app.after_request(record)
