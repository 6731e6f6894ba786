"""The admin API for tests: the request log, reset, the clock, the active signing key and
the fault scenarios (`core.faults`).

Off unless the mock was created with an admin key; every call must carry that key in the
`X-Admin-Key` header, so the browser-facing pages can never reach it by accident. Bodies are
read by `core.json_input` (size and depth bounded, like every JSON input of the mock); what
they set is bounded too (the clock offset, scenarios: `core.store`, `core.faults`), so a
key holder cannot grow the store or break the clock.
"""

from __future__ import annotations

import hmac
import math

from flask import Blueprint, Response, abort, request

from mock_entra.core import faults
from mock_entra.core.json_input import JsonInputError, parse_json
from mock_entra.core.runtime import fix_token_lifetime
from mock_entra.web.context import runtime
from mock_entra.web.respond import json_response

bp = Blueprint("admin", __name__, url_prefix="/_admin")


@bp.before_request
def require_key() -> None:
    key = runtime().admin_key
    sent = request.headers.get("X-Admin-Key", "")
    if not key or not hmac.compare_digest(sent.encode(), key.encode()):
        abort(404)  # indistinguishable from a mock without an admin API


def _body() -> object:
    """The JSON body (any content type), None when there is none; a 400 when it is refused
    (too large, too deep, not JSON), never read as "no body"."""
    data = request.get_data(cache=False)
    if not data.strip():
        return None
    try:
        return parse_json(data)
    except JsonInputError:
        abort(400)


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
    """`{"offset": s}` sets the offset, `{"advance": s}` adds to it: numbers only, and the
    result within `MAX_CLOCK_OFFSET` (NaN, Infinity or 1e300 would break every later token)."""
    rt = runtime()
    body = _body()
    if not isinstance(body, dict):
        abort(400)
    if "offset" in body:
        offset = _number(body["offset"])
    else:
        offset = rt.store.clock_offset() + _number(body.get("advance", 0))
    try:
        rt.store.set_clock_offset(offset)
    except ValueError:
        abort(400)
    return clock()


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        abort(400)
    try:
        seconds = float(value)  # an integer of 400 digits overflows (it was a 500)
    except OverflowError:
        abort(400)
    if not math.isfinite(seconds):
        abort(400)
    return seconds


@bp.post("/keys/active")
def set_active_key() -> Response:
    rt = runtime()
    body = _body()
    kid = body.get("kid") if isinstance(body, dict) else None
    if rt.keys.get(str(kid)) is None:
        abort(400)
    rt.store.set_setting("active_kid", str(kid))
    return json_response({"active_kid": kid})


@bp.post("/token-lifetime")
def set_token_lifetime() -> Response:
    """`{"seconds": 120}` fixes the lifetime of the next access tokens; `null` restores it."""
    body = _body()
    seconds = body.get("seconds") if isinstance(body, dict) else None
    try:
        fix_token_lifetime(runtime().store, seconds)
    except ValueError:
        abort(400)
    return json_response({"access_token_lifetime": seconds})


# -- fault scenarios ------------------------------------------------------------------------------


@bp.get("/scenarios")
def list_scenarios() -> Response:
    """The scenarios in force (config file and run time) and the catalogue."""
    rt = runtime()
    body = {"active": rt.faults.listing(), "catalogue": faults.catalogue_rows()}
    return json_response(body, no_store=True)


@bp.post("/scenarios")
def add_scenario() -> Response:
    """`{"name": "graph.throttled", "client_id"?, "user"?, "times"?, "seconds"?}`; an unknown
    name or a bad scope is a 400 that lists the catalogue's names."""
    rt = runtime()
    try:
        body = parse_json(request.get_data(cache=False))
    except JsonInputError as error:
        return _bad_scenario(f"the body: {error}")
    if not isinstance(body, dict):
        return _bad_scenario("expected a JSON object with a scenario `name`")
    unknown = set(body) - {"name", "client_id", "user", "times", "seconds"}
    if unknown:
        return _bad_scenario(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
    typed = {
        "name": str,
        "client_id": str,
        "user": str,
        "times": int,
        "seconds": (int, float),
    }
    for name, kind in typed.items():
        value = body.get(name)
        if (value is None and name != "name") or (
            isinstance(value, kind) and not isinstance(value, bool)
        ):
            continue
        return _bad_scenario(f"{name}: wrong type")
    try:
        activation = faults.Activation(**body, started=rt.clock.now())
        added = faults.add(rt.store, activation)  # refused past the store's scenario cap
    except faults.ScenarioError as error:
        return _bad_scenario(str(error))
    response = json_response(added.describe(added.times), no_store=True)
    response.status_code = 201
    return response


@bp.delete("/scenarios")
def clear_scenarios() -> Response:
    """Clear every scenario set at run time (the config file's stay)."""
    return json_response({"cleared": runtime().store.delete_scenarios()}, no_store=True)


@bp.delete("/scenarios/<int:scenario_id>")
def clear_scenario(scenario_id: int) -> Response:
    cleared = runtime().store.delete_scenarios(scenario_id)
    if not cleared:
        abort(404)
    return json_response({"cleared": cleared}, no_store=True)


def _bad_scenario(message: str) -> Response:
    names = [row["name"] for row in faults.catalogue_rows()]
    response = json_response({"error": message, "scenarios": names}, no_store=True)
    response.status_code = 400
    return response
