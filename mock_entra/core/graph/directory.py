"""The Graph calls apps make on the directory, as plain functions: resolve the path the way
Graph does (a 400 naming the first segment it does not know), then hand the call to its module
(`user_calls`, `membership_calls`), which checks the permission it needs and builds the body.

Served (v1.0): `/me`, `/users`, `/users/$count`, `/users/{id|upn}`, and under `/me` or
`/users/{id|upn}`: `manager`, `memberOf`, `transitiveMemberOf` (and their `/$count`),
`photo`, `photo/$value`, `getMemberObjects`, `getMemberGroups` (POST).

Learn pages, per call: "Get user", "List users", "List manager", "List a user's direct
memberships", "List a user's memberships (direct and transitive)", "Get member objects",
"Get member groups", "Get profilePhoto"; errors: "Microsoft Graph error responses".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mock_entra.core.config import PERSONAL_TENANT_ID, TestUser
from mock_entra.core.errors import GraphError
from mock_entra.core.graph import membership_calls, user_calls
from mock_entra.core.graph.gate import Caller
from mock_entra.core.graph.request import (
    GraphRequest,
    GraphResult,
    method_not_allowed,
    not_found_segment,
)
from mock_entra.core.graph.users import personal_id

# --- routing ---------------------------------------------------------------------------------

_SUBJECT_CALLS = {
    "manager": ("GET",),
    "memberof": ("GET",),
    "transitivememberof": ("GET",),
    "photo": ("GET",),
    "getmemberobjects": ("POST",),
    "getmembergroups": ("POST",),
}


_COUNTABLE = {"memberof", "transitivememberof"}


@dataclass(frozen=True)
class Route:
    call: str  # "user", "users", "users_count", or a _SUBJECT_CALLS key (+ "_count"/"_value")
    subject: str | None  # "me", a user id/UPN, or None for the collection


def resolve(method: str, segments: Sequence[str]) -> Route:
    """Graph's routing: the first unknown segment is a 400 naming it."""
    segs = [s for s in segments if s]
    if not segs:
        raise not_found_segment("")
    head = segs[0].lower()
    if head == "me":
        subject, rest = "me", segs[1:]
    elif head == "users":
        if len(segs) == 1:
            return _allow(method, ("GET",), Route("users", None))
        if segs[1].lower() == "$count" and len(segs) == 2:
            return _allow(method, ("GET",), Route("users_count", None))
        subject, rest = segs[1], segs[2:]
    else:
        raise not_found_segment(segs[0])
    if not rest:
        return _allow(method, ("GET",), Route("user", subject))
    call = rest[0].lower()
    if call not in _SUBJECT_CALLS:
        raise not_found_segment(rest[0])
    if len(rest) == 1:
        return _allow(method, _SUBJECT_CALLS[call], Route(call, subject))
    if len(rest) == 2 and call in _COUNTABLE and rest[1].lower() == "$count":
        return _allow(method, ("GET",), Route(call + "_count", subject))
    if len(rest) == 2 and call == "photo" and rest[1].lower() == "$value":
        return _allow(method, ("GET",), Route("photo_value", subject))
    raise not_found_segment(rest[1])


def _allow(method: str, methods: tuple[str, ...], route: Route) -> Route:
    if method.upper() not in methods:
        raise method_not_allowed()
    return route


def handle(request: GraphRequest, authenticate: Callable[[], Caller]) -> GraphResult:
    """Route, authenticate, authorize and answer one Graph request."""
    route = resolve(request.method, request.segments)
    caller = authenticate()
    if route.call == "users":
        return user_calls.list_users(caller, request)
    if route.call == "users_count":
        return user_calls.count_users(caller, request)
    target, is_self = _subject(caller, route.subject or "me")
    if route.call in _NOT_FOR_PERSONAL and caller.tenant.tenant_id == PERSONAL_TENANT_ID:
        raise _no_directory(caller, route.call)
    handler = _HANDLERS[route.call]
    return handler(caller, target, is_self, request)


def _subject(caller: Caller, key: str) -> tuple[TestUser | None, bool]:
    """The user a path names, and whether it is the caller (None: a 404 after the checks)."""
    if key == "me":
        if caller.user is None:
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        return caller.user, True
    target = caller.tenant.user_by_id(key) or caller.tenant.user_by_username(key)
    is_self = (
        target is not None and caller.user is not None and target.object_id == caller.user.object_id
    )
    return target, is_self


# A personal Microsoft account has no directory: Graph's permission tables mark these calls
# "Delegated (personal Microsoft account): Not supported" (microsoftgraph/
# microsoft-graph-docs-contrib@0273c463ba400fd1c477eb6800edb2eee57b1773:api-reference/v1.0/api/
# directoryobject-getmemberobjects.md, user-list-memberof.md, user-list-manager.md), and Graph
# answers `/me/memberOf` for one with a 404 from the consumer profile service, `code` empty
# (microsoftgraph/microsoft-graph-explorer-v4#1134).
_NOT_FOR_PERSONAL = frozenset(
    {
        "manager",
        "memberof",
        "transitivememberof",
        "memberof_count",
        "transitivememberof_count",
        "getmemberobjects",
        "getmembergroups",
    }
)


def _no_directory(caller: Caller, call: str) -> GraphError:
    cid = personal_id(caller.user.object_id) if caller.user else None
    name = call.removesuffix("_count")
    return GraphError(
        404,
        "",
        "No HTTP resource was found that matches the request URI 'https://outlook.office365.com"
        f":444/profile/v1.0/users('CID:{cid or ''}')/profile/{name}?api-version=AGSV1-internal'.",
    )


_HANDLERS: dict[str, Callable[..., GraphResult]] = {
    "user": user_calls.get_user,
    "manager": user_calls.get_manager,
    "memberof": membership_calls.member_of,
    "transitivememberof": membership_calls.transitive_member_of,
    "memberof_count": membership_calls.member_of_count,
    "transitivememberof_count": membership_calls.transitive_member_of_count,
    "getmemberobjects": membership_calls.get_member_objects,
    "getmembergroups": membership_calls.get_member_groups,
    "photo": user_calls.photo,
    "photo_value": user_calls.photo_value,
}
