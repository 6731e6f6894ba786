"""The Graph calls on a user's groups: `memberOf`, `transitiveMemberOf` (and their
`/$count`), `getMemberObjects` and `getMemberGroups` (POST).

Learn pages, per call: "List a user's direct memberships", "List a user's memberships (direct
and transitive)", "Get member objects", "Get member groups".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_entra.core.config import Group, Tenant, TestUser
from mock_entra.core.errors import GraphError
from mock_entra.core.graph.gate import (
    FULL_USERS,
    FULL_USERS_DELEGATED,
    READ_GROUPS,
    READ_GROUPS_DELEGATED,
    READ_SELF,
    Caller,
    granted,
    require,
)
from mock_entra.core.graph.query import (
    matches_search,
    page,
    parse_collection_query,
)
from mock_entra.core.graph.request import (
    DIRECTORY_OBJECTS,
    NO_EMPTY,
    GraphRequest,
    GraphResult,
    context_url,
    found,
    path_of,
)
from mock_entra.core.graph.users import (
    group_object,
    group_values,
    unknown_group,
)
from mock_entra.core.json_input import JsonInputError, parse_json


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
        require(caller, READ_SELF | READ_GROUPS_DELEGATED, NO_EMPTY)
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
    user = found(target, request)
    groups = [
        g
        for g in groups_of(caller.tenant, user)
        if (query.where is None or query.where(group_values(g)))
        and matches_search(group_values(g), query.search)
    ]
    if query.orderby is not None:
        groups.sort(key=lambda g: g.display_name.lower(), reverse=query.orderby[1])
    chunk, next_link = page(groups, query, base=request.base, path=path)
    body: dict[str, Any] = {
        "@odata.context": context_url(request, "directoryObjects", query.select)
    }
    if query.count and query.offset == 0:
        body["@odata.count"] = len(groups)
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [group_object(g, query.select, limited=limited) for g in chunk]
    return GraphResult(body)


def member_of(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _memberships(caller, target, is_self, request, direct_groups, path_of(request))


def transitive_member_of(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    return _memberships(caller, target, is_self, request, transitive_groups, path_of(request))


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
    user = found(target, request)
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
        require(caller, READ_SELF, NO_EMPTY)
    else:
        require(caller, FULL_USERS_DELEGATED, FULL_USERS)
    user = found(target, request)
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
