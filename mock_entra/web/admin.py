"""The admin API for tests: the request log, reset, the clock and the active signing key.

Off unless the mock was created with an admin key; every call must carry that key in the
`X-Admin-Key` header, so the browser-facing pages can never reach it by accident.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, request

from mock_entra.web.context import runtime
from mock_entra.web.respond import json_response

bp = Blueprint("admin", __name__, url_prefix="/_admin")


@bp.before_request
def require_key() -> None:
    key = runtime().admin_key
    sent = request.headers.get("X-Admin-Key", "")
    if not key or not hmac.compare_digest(sent.encode(), key.encode()):
        abort(404)  # indistinguishable from a mock without an admin API


@bp.get("/requests")
def requests_log() -> Response:
    return json_response(runtime().store.requests(), no_store=True)


@bp.post("/reset")
def reset() -> Response:
    runtime().store.reset()
    return json_response({"reset": True}, no_store=True)


@bp.get("/clock")
def clock() -> Response:
    rt = runtime()
    return json_response({"now": rt.clock.now(), "offset": rt.store.clock_offset()})


@bp.post("/clock")
def move_clock() -> Response:
    rt = runtime()
    body = request.get_json(silent=True) or {}
    try:
        if "offset" in body:
            rt.store.set_clock_offset(float(body["offset"]))
        else:
            rt.store.set_clock_offset(rt.store.clock_offset() + float(body.get("advance", 0)))
    except (TypeError, ValueError):
        abort(400)
    return clock()


@bp.post("/keys/active")
def set_active_key() -> Response:
    rt = runtime()
    kid = (request.get_json(silent=True) or {}).get("kid")
    if rt.keys.get(str(kid)) is None:
        abort(400)
    rt.store.set_setting("active_kid", str(kid))
    return json_response({"active_kid": kid})


@bp.post("/token-lifetime")
def set_token_lifetime() -> Response:
    """`{"seconds": 120}` fixes the lifetime of the next access tokens; `null` restores it."""
    seconds = (request.get_json(silent=True) or {}).get("seconds")
    if seconds is not None and (not isinstance(seconds, int) or seconds <= 0):
        abort(400)
    runtime().store.set_setting("access_token_lifetime", str(seconds or ""))
    return json_response({"access_token_lifetime": seconds})
