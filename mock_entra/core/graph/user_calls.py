"""The Graph calls on a user: get and list users (`/me`, `/users`, `/users/$count`), the
user's `manager`, and the profile photo (`photo`, `photo/$value`).

Learn pages, per call: "Get user", "List users", "List manager", "Get profilePhoto".
"""

from __future__ import annotations

from typing import Any

from mock_entra.core.config import Tenant, TestUser
from mock_entra.core.errors import GraphError
from mock_entra.core.graph import photo as graph_photo
from mock_entra.core.graph.gate import (
    FULL_USERS,
    FULL_USERS_DELEGATED,
    READ_USERS,
    READ_USERS_DELEGATED,
    Caller,
    require,
)
from mock_entra.core.graph.query import (
    Query,
    matches_search,
    page,
    parse_collection_query,
    parse_entity_query,
)
from mock_entra.core.graph.request import (
    USERS,
    GraphRequest,
    GraphResult,
    basic_only,
    context_url,
    found,
    require_read_user,
    resource_not_found,
)
from mock_entra.core.graph.users import (
    DEFAULT_PROPERTIES,
    USER_TYPE,
    user_object,
    user_values,
)


def get_user(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> GraphResult:
    query = parse_entity_query(request.params, USERS)
    require_read_user(caller, is_self)
    user = found(target, request)
    select = query.select or DEFAULT_PROPERTIES
    body = {
        "@odata.context": context_url(request, "users", query.select) + "/$entity",
        **user_object(user, caller.tenant, select, basic_only=basic_only(caller, is_self)),
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
    basic = basic_only(caller, False)
    select = query.select or DEFAULT_PROPERTIES
    values = []
    for user in chunk:
        item = user_object(user, caller.tenant, select, basic_only=basic)
        if query.expand_manager is not None:
            item["manager"] = _expanded_manager(caller, user, query, False)
        values.append(item)
    body: dict[str, Any] = {"@odata.context": context_url(request, "users", query.select)}
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
    user = found(target, request)
    manager = _manager_of(caller.tenant, user)
    if manager is None:
        raise resource_not_found("manager")
    body = {
        "@odata.context": f"{request.base}/$metadata#directoryObjects/$entity",
        **_manager_json(caller.tenant, manager, query.select),
    }
    return GraphResult(body)


def _photo_user(
    caller: Caller, target: TestUser | None, is_self: bool, request: GraphRequest
) -> TestUser:
    require_read_user(caller, is_self)
    user = found(target, request)
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
    qualified = f"{user.object_id}@{caller.tenant.tenant_id}"
    return GraphResult(
        {
            "@odata.context": f"{request.base}/$metadata#{where}/photo/$entity",
            # The photo's own URL, the user named `{object id}@{tenant id}` (Learn, "Get
            # profilePhoto", example 3).
            "@odata.id": f"{request.base}/users('{qualified}')/photo",
            "@odata.mediaContentType": graph_photo.CONTENT_TYPE,
            "@odata.mediaEtag": graph_photo.photo_etag(user.object_id),
            "id": f"{graph_photo.SIZE}X{graph_photo.SIZE}",
            "height": graph_photo.SIZE,
            "width": graph_photo.SIZE,
        }
    )
