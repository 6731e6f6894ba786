"""A Graph call as the core sees it: the request the web layer hands over, the answer, Graph's
routing errors, the entity types of the directory, and the checks every call shares (the
user a call reads, and the read permission it needs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_entra.core.config import TestUser
from mock_entra.core.errors import GraphError
from mock_entra.core.graph.filter import GROUP_FILTERS, USER_FILTERS
from mock_entra.core.graph.gate import (
    FULL_USERS,
    FULL_USERS_DELEGATED,
    READ_SELF,
    READ_USERS,
    READ_USERS_DELEGATED,
    Caller,
    granted,
    require,
)
from mock_entra.core.graph.query import EntityType
from mock_entra.core.graph.users import (
    GROUP_PROPERTY_NAMES,
    USER_PROPERTY_NAMES,
    USER_TYPE,
)

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


NO_EMPTY = frozenset()


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


def found(target: TestUser | None, request: GraphRequest) -> TestUser:
    if target is None:
        raise resource_not_found(request.segments[1] if len(request.segments) > 1 else "")
    return target


def basic_only(caller: Caller, is_self: bool) -> bool:
    """User.ReadBasic.All alone reads the basic profile of others (permissions reference)."""
    if is_self:
        return False
    return not granted(caller, FULL_USERS_DELEGATED, FULL_USERS)


def require_read_user(caller: Caller, is_self: bool) -> None:
    if is_self:
        require(caller, READ_SELF, NO_EMPTY)
    else:
        require(caller, READ_USERS_DELEGATED, READ_USERS)


def context_url(request: GraphRequest, entity_set: str, select: tuple[str, ...] | None) -> str:
    chosen = f"({','.join(select)})" if select else ""
    return f"{request.base}/$metadata#{entity_set}{chosen}"


def path_of(request: GraphRequest) -> str:
    return "/".join(request.segments)
