"""The Graph calls apps make on the directory, as plain functions: resolve the path the way
Graph does (a 400 naming the first segment it does not know), check the permission each call
needs, and build the JSON body.

Served (v1.0): `/me`, `/users`, `/users/$count`, `/users/{id|upn}`, and under `/me` or
`/users/{id|upn}`: `manager`, `memberOf`, `transitiveMemberOf` (and their `/$count`),
`photo`, `photo/$value`, `getMemberObjects`, `getMemberGroups` (POST).

Learn pages, per call: "Get user", "List users", "List manager", "List a user's direct
memberships", "List a user's memberships (direct and transitive)", "Get member objects",
"Get member groups", "Get profilePhoto"; errors: "Microsoft Graph error responses".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mock_entra.core import graph_photo
from mock_entra.core.aadsts import GraphError
from mock_entra.core.config import Group, Tenant, TestUser
from mock_entra.core.graph import (
    FULL_USERS,
    FULL_USERS_DELEGATED,
    READ_GROUPS,
    READ_GROUPS_DELEGATED,
    READ_SELF,
    READ_USERS,
    READ_USERS_DELEGATED,
    Caller,
    granted,
    require,
)
from mock_entra.core.graph_filter import GROUP_FILTERS, USER_FILTERS
from mock_entra.core.graph_query import (
    EntityType,
    Query,
    matches_search,
    page,
    parse_collection_query,
    parse_entity_query,
)
from mock_entra.core.graph_users import (
    DEFAULT_PROPERTIES,
    GROUP_PROPERTY_NAMES,
    USER_PROPERTY_NAMES,
    USER_TYPE,
    group_object,
    group_values,
    unknown_group,
    user_object,
    user_values,
)
from mock_entra.core.json_input import JsonInputError, parse_json

USERS = EntityType(
    USER_TYPE,
    "User",
    USER_PROPERTY_NAMES,
    USER_FILTERS,
    orderby_default=frozenset({"displayName", "userPrincipalName"}),
    orderby_advanced=frozenset({"createdDateTime"}),
)
DIRECTORY_OBJECTS = EntityType(
    "microsoft.graph.directoryObject",
    "DirectoryObject",
    GROUP_PROPERTY_NAMES,
    GROUP_FILTERS,
    orderby_advanced=frozenset({"displayName"}),
)
_NO_EMPTY = frozenset()


@dataclass(frozen=True)
class GraphRequest:
    """What the web layer hands over: the path after `/v1.0/`, the query, the body."""

    method: str
    segments: tuple[str, ...]
    params: tuple[tuple[str, str], ...]
    base: str  # e.g. https://graph.microsoft.com/v1.0
    eventual: bool = False  # ConsistencyLevel: eventual
    body: bytes = b""


@dataclass(frozen=True)
class GraphResult:
    """A 200 answer: JSON (`body` a dict), or bytes/text with their content type."""

    body: dict[str, Any] | bytes | str
    content_type: str | None = None  # None: Graph's JSON
    headers: dict[str, str] = field(default_factory=dict)


def not_found_segment(segment: str) -> GraphError:
    """Learn: "Microsoft Graph error responses" (the sample body of a mistyped segment)."""
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment[:200]}'.")


def method_not_allowed() -> GraphError:
    return GraphError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def resource_not_found(key: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key[:200]}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


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


# --- the calls -------------------------------------------------------------------------------


def handle(request: GraphRequest, authenticate: Callable[[], Caller]) -> GraphResult:
    """Route, authenticate, authorize and answer one Graph request."""
    route = resolve(request.method, request.segments)
    caller = authenticate()
    if route.call == "users":
        return list_users(caller, request)
    if route.call == "users_count":
        return count_users(caller, request)
    target, is_self = _subject(caller, route.subject or "me")
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


def _found(target: TestUser | None, request: GraphRequest) -> TestUser:
    if target is None:
        raise resource_not_found(request.segments[1] if len(request.segments) > 1 else "")
    return target


def _basic_only(caller: Caller, is_self: bool) -> bool:
    """User.ReadBasic.All alone reads the basic profile of others (permissions reference)."""
    if is_self:
        return False
    return not granted(caller, FULL_USERS_DELEGATED, FULL_USERS)


def _require_read_user(caller: Caller, is_self: bool) -> None:
    if is_self:
        require(caller, READ_SELF, _NO_EMPTY)
    else:
        require(caller, READ_USERS_DELEGATED, READ_USERS)


def _context(request: GraphRequest, entity_set: str, select: tuple[str, ...] | None) -> str:
    chosen = f"({','.join(select)})" if select else ""
    return f"{request.base}/$metadata#{entity_set}{chosen}"


def get_user(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    query = parse_entity_query(request.params, USERS)
    _require_read_user(caller, is_self)
    user = _found(target, request)
    select = query.select or DEFAULT_PROPERTIES
    body = {
        "@odata.context": _context(request, "users", query.select) + "/$entity",
        **user_object(user, caller.tenant, select, basic_only=_basic_only(caller, is_self)),
    }
    if query.expand_manager is not None:
        body["manager"] = _expanded_manager(caller, user, query, is_self)
    return GraphResult(body)


def list_users(caller: Caller, request: GraphRequest) -> GraphResult:
    query = parse_collection_query(
        request.params, USERS, eventual=request.eventual, user_type=USERS
    )
    require(caller, READ_USERS_DELEGATED, READ_USERS)
    users = _matching_users(caller.tenant, query)
    chunk, next_link = page(users, query, base=request.base, path="users")
    basic = _basic_only(caller, False)
    select = query.select or DEFAULT_PROPERTIES
    values = []
    for user in chunk:
        item = user_object(user, caller.tenant, select, basic_only=basic)
        if query.expand_manager is not None:
            item["manager"] = _expanded_manager(caller, user, query, False)
        values.append(item)
    body: dict[str, Any] = {"@odata.context": _context(request, "users", query.select)}
    if query.count and query.offset == 0:  # Graph counts on the first page only
        body["@odata.count"] = len(users)
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = values
    return GraphResult(body)


def count_users(caller: Caller, request: GraphRequest) -> GraphResult:
    """`/users/$count`: an error without `ConsistencyLevel: eventual`, else text/plain."""
    if not request.eventual:
        raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
    query = parse_collection_query(request.params, USERS, eventual=True, user_type=USERS)
    require(caller, READ_USERS_DELEGATED, READ_USERS)
    return GraphResult(str(len(_matching_users(caller.tenant, query))), "text/plain")


def _matching_users(tenant: Tenant, query: Query) -> list[TestUser]:
    users = list(tenant.users)
    if query.where is not None or query.search:
        users = [
            u
            for u in users
            if (values := user_values(u, tenant))
            and (query.where is None or query.where(values))
            and matches_search(values, query.search)
        ]
    if query.orderby is not None:
        prop, descending = query.orderby
        users.sort(
            key=lambda u: str(user_values(u, tenant)[prop] or "").lower(), reverse=descending
        )
    return users


def _manager_of(tenant: Tenant, user: TestUser) -> TestUser | None:
    return tenant.user_by_id(user.manager) if user.manager else None


def _manager_json(tenant: Tenant, manager: TestUser, select: tuple[str, ...] | None) -> dict:
    names = select or ("id", *(p for p in DEFAULT_PROPERTIES if p != "id"))
    return {"@odata.type": f"#{USER_TYPE}", **user_object(manager, tenant, names)}


def _require_manager_read(caller: Caller) -> None:
    # Learn, "List manager": User.Read.All is the least privileged (delegated and app).
    require(caller, FULL_USERS_DELEGATED, FULL_USERS)


def _expanded_manager(caller: Caller, user: TestUser, query: Query, is_self: bool) -> Any:
    _require_manager_read(caller)
    manager = _manager_of(caller.tenant, user)
    if manager is None:
        return None
    select = query.expand_manager.select if query.expand_manager else None
    return _manager_json(caller.tenant, manager, select)


def get_manager(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    query = parse_entity_query(request.params, USERS)
    _require_manager_read(caller)
    user = _found(target, request)
    manager = _manager_of(caller.tenant, user)
    if manager is None:
        raise resource_not_found("manager")
    body = {
        "@odata.context": f"{request.base}/$metadata#directoryObjects/$entity",
        **_manager_json(caller.tenant, manager, query.select),
    }
    return GraphResult(body)


# --- memberships -----------------------------------------------------------------------------


def _group(tenant: Tenant, group_id: str) -> Group:
    return tenant.group(group_id) or unknown_group(group_id)


def direct_groups(tenant: Tenant, user: TestUser) -> list[Group]:
    return [_group(tenant, gid) for gid in dict.fromkeys(user.groups)]


def transitive_groups(tenant: Tenant, user: TestUser) -> list[Group]:
    """The user's groups and every group they are nested in (breadth first, no repeats)."""
    return [_group(tenant, gid) for gid in tenant.transitive_group_ids(user)]


def _require_memberships(caller: Caller, is_self: bool) -> bool:
    """Check the permission; True when groups come back with limited information."""
    if is_self:
        require(caller, READ_SELF | READ_GROUPS_DELEGATED, _NO_EMPTY)
        return False
    require(caller, FULL_USERS_DELEGATED | READ_GROUPS_DELEGATED, FULL_USERS | READ_GROUPS)
    return not granted(caller, READ_GROUPS_DELEGATED, READ_GROUPS)


def _memberships(
    caller: Caller,
    target: TestUser | None,
    is_self: bool,
    request: GraphRequest,
    groups_of: Callable[[Tenant, TestUser], list[Group]],
    path: str,
) -> GraphResult:
    query = parse_collection_query(request.params, DIRECTORY_OBJECTS, eventual=request.eventual)
    limited = _require_memberships(caller, is_self)
    user = _found(target, request)
    groups = [
        g
        for g in groups_of(caller.tenant, user)
        if (query.where is None or query.where(group_values(g)))
        and matches_search(group_values(g), query.search)
    ]
    if query.orderby is not None:
        groups.sort(key=lambda g: g.display_name.lower(), reverse=query.orderby[1])
    chunk, next_link = page(groups, query, base=request.base, path=path)
    body: dict[str, Any] = {"@odata.context": _context(request, "directoryObjects", query.select)}
    if query.count and query.offset == 0:
        body["@odata.count"] = len(groups)
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [group_object(g, query.select, limited=limited) for g in chunk]
    return GraphResult(body)


def _path(request: GraphRequest) -> str:
    return "/".join(request.segments)


def member_of(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _memberships(caller, target, is_self, request, direct_groups, _path(request))


def transitive_member_of(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _memberships(caller, target, is_self, request, transitive_groups, _path(request))


def _membership_count(
    caller: Caller,
    target: TestUser | None,
    is_self: bool,
    request: GraphRequest,
    groups_of: Callable[[Tenant, TestUser], list[Group]],
) -> GraphResult:
    if not request.eventual:
        raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
    _require_memberships(caller, is_self)
    user = _found(target, request)
    return GraphResult(str(len(groups_of(caller.tenant, user))), "text/plain")


def member_of_count(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _membership_count(caller, target, is_self, request, direct_groups)


def transitive_member_of_count(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _membership_count(caller, target, is_self, request, transitive_groups)


def _security_enabled_only(body: bytes) -> bool:
    if not body.strip():
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    try:
        payload = parse_json(body)  # bounded: deep or huge JSON is the same 400
    except JsonInputError:
        raise GraphError(
            400, "BadRequest", "Invalid JSON. A token was not recognized in the JSON content."
        ) from None
    if not isinstance(payload, dict):
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    value = payload.get("securityEnabledOnly", False)
    if not isinstance(value, bool):
        raise GraphError(
            400,
            "BadRequest",
            "Cannot convert the literal '"
            + str(value)[:50]
            + "' to the expected type 'Edm.Boolean'.",
        )
    return value


def _member_ids(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest, groups_only: bool
) -> GraphResult:
    """getMemberObjects / getMemberGroups: transitive ids (Learn: "This function is
    transitive"); `securityEnabledOnly` keeps the security groups. The mock's directory has
    groups only, so both return the same ids."""
    security_only = _security_enabled_only(request.body)
    if is_self:
        require(caller, READ_SELF, _NO_EMPTY)
    else:
        require(caller, FULL_USERS_DELEGATED, FULL_USERS)
    user = _found(target, request)
    del groups_only  # no directory roles or administrative units in the mock
    ids = [
        g.object_id
        for g in transitive_groups(caller.tenant, user)
        if g.security_enabled or not security_only
    ]
    return GraphResult(
        {"@odata.context": f"{request.base}/$metadata#Collection(Edm.String)", "value": ids}
    )


def get_member_objects(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _member_ids(caller, target, is_self, request, groups_only=False)


def get_member_groups(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _member_ids(caller, target, is_self, request, groups_only=True)


# --- photo -----------------------------------------------------------------------------------


def _photo_user(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> TestUser:
    _require_read_user(caller, is_self)
    user = _found(target, request)
    if not user.has_photo:
        # Learn "Get profilePhoto": 404 when there is none; the body as Graph sends it.
        raise GraphError(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' "
            "was thrown.",
        )
    return user


def photo_value(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    user = _photo_user(caller, target, is_self, request)
    return GraphResult(
        graph_photo.photo_png(user.object_id),
        graph_photo.CONTENT_TYPE,
        {"ETag": graph_photo.photo_etag(user.object_id)},
    )


def photo(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    user = _photo_user(caller, target, is_self, request)
    where = "me" if request.segments[0].lower() == "me" else f"users('{user.object_id}')"
    return GraphResult(
        {
            "@odata.context": f"{request.base}/$metadata#{where}/photo/$entity",
            "@odata.mediaContentType": graph_photo.CONTENT_TYPE,
            "@odata.mediaEtag": graph_photo.photo_etag(user.object_id),
            "id": f"{graph_photo.SIZE}X{graph_photo.SIZE}",
            "height": graph_photo.SIZE,
            "width": graph_photo.SIZE,
        }
    )


_HANDLERS: dict[str, Callable[..., GraphResult]] = {
    "user": get_user,
    "manager": get_manager,
    "memberof": member_of,
    "transitivememberof": transitive_member_of,
    "memberof_count": member_of_count,
    "transitivememberof_count": transitive_member_of_count,
    "getmemberobjects": get_member_objects,
    "getmembergroups": get_member_groups,
    "photo": photo,
    "photo_value": photo_value,
}
