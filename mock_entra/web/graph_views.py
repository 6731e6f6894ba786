"""The fake Microsoft Graph over HTTP (`/v1.0/...`, see `core.graph.directory` for the
calls) and the OIDC userinfo endpoint that discovery advertises (on Graph, as Entra's is).

Every answer, errors included, carries Graph's `request-id`, `client-request-id` (the
caller's, else the request id), `OData-Version: 4.0` (JSON) and `x-ms-ags-diagnostic`
headers, as captured Graph responses do.
"""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, Response, request

from mock_entra.core import cors
from mock_entra.core.graph import directory, gate
from mock_entra.core.graph.request import GraphRequest
from mock_entra.web import errors, http_rules
from mock_entra.web.context import base_url, runtime, trace_id
from mock_entra.web.respond import json_response

bp = Blueprint("graph", __name__)
GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
_DIAGNOSTIC = json.dumps(
    {
        "ServerInfo": {
            "DataCenter": "Local",
            "Slice": "E",
            "Ring": "5",
            "ScaleUnit": "000",
            "RoleInstance": "ENTRA-LAB",
        }
    },
    separators=(",", ":"),
)


def _caller() -> gate.Caller:
    rt = runtime()
    return gate.authenticate(
        rt.config, rt.keys, request.headers.get("Authorization"), rt.clock.now(), rt.faults
    )


@bp.before_request
def cors_preflight() -> Response | None:
    """A browser's CORS preflight (Graph allows any origin; a bearer token, no cookies)."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        rule = request.url_rule
        allow = ", ".join(sorted(rule.methods or ())) if rule is not None else "OPTIONS"
        answer = http_rules.preflight(request.environ, allow, cors.GRAPH_METHODS, cors.GRAPH)
        return errors.flask_response(answer)
    return None


@bp.after_request
def graph_headers(response: Response) -> Response:
    """Graph's headers on every response of the blueprint, errors included."""
    for name, value in cors.GRAPH:
        response.headers.setdefault(name, value)
    response.headers["request-id"] = trace_id()
    response.headers["client-request-id"] = request.headers.get("client-request-id") or trace_id()
    response.headers.setdefault("x-ms-ags-diagnostic", _DIAGNOSTIC)
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "application/json" and request.path.startswith("/v1.0/"):
        response.headers["Content-Type"] = GRAPH_JSON
        response.headers["OData-Version"] = "4.0"
    return response


@bp.route("/v1.0/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def v1(rest: str) -> Response:
    """Every `/v1.0/...` path: Graph's own 400 for a segment it does not know, never a
    web-framework 404."""
    consistency = request.headers.get("ConsistencyLevel", "")
    result = directory.handle(
        GraphRequest(
            method=request.method,
            segments=tuple(rest.split("/")),
            params=tuple(request.args.items(multi=True)),
            base=f"{base_url()}/v1.0",
            eventual=consistency.strip().lower() == "eventual",
            body=request.get_data(cache=False)[:65536] if request.method == "POST" else b"",
        ),
        _caller,
    )
    if result.content_type is None:
        response = json_response(result.body)
        response.headers["Cache-Control"] = "private"
    else:
        response = Response(result.body, 200, content_type=result.content_type)
        response.headers["Cache-Control"] = "private"
    response.headers.update(result.headers)
    return response


@bp.route("/oidc/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    caller = _caller()
    if caller.user is None or "openid" not in caller.scopes:
        raise gate.denied()
    u = caller.user
    body = {
        "sub": caller.client_sub or str(uuid.uuid5(uuid.NAMESPACE_OID, u.object_id)),
        "name": u.display_name,
        "family_name": u.surname,
        "given_name": u.given_name,
        "picture": f"{base_url()}/v1.0/me/photo/$value",
    }
    if "email" in caller.scopes and u.mail:
        body["email"] = u.mail
    return json_response({k: v for k, v in body.items() if v is not None})
