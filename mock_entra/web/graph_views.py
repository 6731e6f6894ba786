"""The fake Microsoft Graph (`/v1.0/me`, `/v1.0/users/{id|upn}`) and the OIDC userinfo
endpoint that discovery advertises (on Graph, as Entra's is)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, request

from mock_entra.core import graph
from mock_entra.core.aadsts import GraphError
from mock_entra.web.context import base_url, runtime, trace_id
from mock_entra.web.respond import json_response

bp = Blueprint("graph", __name__)
GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


def _caller() -> graph.Caller:
    rt = runtime()
    return graph.authenticate(
        rt.config, rt.keys, request.headers.get("Authorization"), rt.clock.now()
    )


def _graph_response(body: dict) -> Response:
    response = json_response(body)
    response.headers["Content-Type"] = GRAPH_JSON
    response.headers["Cache-Control"] = "private"
    response.headers["request-id"] = trace_id()
    response.headers["client-request-id"] = request.headers.get("client-request-id", trace_id())
    return response


def _select() -> tuple[str, ...]:
    values = request.args.getlist("$select")
    if len(values) > 1:
        raise GraphError(
            400,
            "BadRequest",
            "Query option '$select' was specified more than once,"
            " but it must be specified at most once.",
        )
    return graph.parse_select(values[0] if values else None)


@bp.get("/v1.0/me")
def me() -> Response:
    select = _select()
    user = graph.me(_caller())
    return _graph_response(
        graph.user_json(user, select, context_base=f"{base_url()}/v1.0", path="me")
    )


@bp.get("/v1.0/users/<path:key>")
def user(key: str) -> Response:
    select = _select()
    target = graph.user_by_id_or_upn(_caller(), key)
    return _graph_response(
        graph.user_json(target, select, context_base=f"{base_url()}/v1.0", path="users")
    )


@bp.route("/oidc/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    caller = _caller()
    if caller.user is None or "openid" not in caller.scopes:
        raise graph.denied()
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
