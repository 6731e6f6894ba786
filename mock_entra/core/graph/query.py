"""OData query options as Graph reads them for directory objects: `$select`, `$top`,
`$filter`, `$count`, `$orderby`, `$search`, `$expand=manager`, `$skiptoken` paging, and
Graph's errors for what it refuses.

Learn: "Use query parameters to customize responses", "Paging Microsoft Graph data in your
app" (`@odata.nextLink` carries a `$skiptoken`), "Advanced query capabilities on Microsoft
Entra ID objects" (`$count` is silently ignored without `ConsistencyLevel: eventual`,
`$search` needs it, `$filter` with `$orderby` needs it), "List users" ($top is 1-999,
`$skip` is not supported).
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from mock_entra.core.errors import GraphError
from mock_entra.core.graph.filter import FilterContext, Predicate, parse_filter

MAX_TOP = 999
DEFAULT_PAGE = 100
_KNOWN = {
    "$select",
    "$top",
    "$filter",
    "$count",
    "$orderby",
    "$search",
    "$expand",
    "$skiptoken",
    "$skip",
    "$format",
}
_TOKEN_PREFIX = b"DSpt"  # real directory skip tokens start with "RFNwdA" (base64 of this)


@dataclass(frozen=True)
class EntityType:
    """What the options are checked against: one entity set (users, directoryObjects)."""

    name: str  # microsoft.graph.user
    resource: str  # User (Graph's filter messages)
    properties: Mapping[str, str]  # lower-case -> Graph's spelling
    filters: Mapping[str, Mapping[str, str]]
    orderby_default: frozenset[str] = frozenset()
    orderby_advanced: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Expand:
    """`$expand=manager` (optionally with a nested `$select`)."""

    select: tuple[str, ...] | None


@dataclass(frozen=True)
class Query:
    select: tuple[str, ...] | None = None  # None: the default property set
    top: int | None = None
    where: Predicate | None = None
    count: bool = False  # return @odata.count (only with ConsistencyLevel: eventual)
    offset: int = 0  # from $skiptoken
    expand_manager: Expand | None = None
    orderby: tuple[str, bool] | None = None  # (property, descending)
    search: tuple[tuple[str, str], ...] = ()  # (property, term) pairs, OR-ed
    params: tuple[tuple[str, str], ...] = ()  # as sent, to build @odata.nextLink


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def unsupported(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def _one(params: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k.lower() == name]
    if len(values) > 1:
        raise bad_request(
            f"Query option '{name}' was specified more than once, but it must be specified "
            "at most once."
        )
    return values[0] if values else None


def parse_select(raw: str | None, entity: EntityType) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        known = entity.properties.get(name.lower())
        if known is None:
            raise bad_request(
                f"Could not find a property named '{name[:100]}' on type '{entity.name}'.",
                "Request_BadRequest",
            )
        names.append(known)
    return tuple(dict.fromkeys(names)) or None


_EXPAND = re.compile(r"^\s*(?P<nav>[A-Za-z]+)\s*(?:\((?P<opts>.*)\))?\s*$", re.DOTALL)


def parse_expand(raw: str | None, user_type: EntityType) -> Expand | None:
    if raw is None or not raw.strip():
        return None
    match = _EXPAND.match(raw)
    nav = match.group("nav") if match else raw.split("(")[0].strip()
    if match is None or nav.lower() != "manager":
        raise bad_request(
            f"Could not find a property named '{nav[:100]}' on type '{user_type.name}'.",
            "Request_BadRequest",
        )
    select = None
    for option in (match.group("opts") or "").split(";"):
        key, _, value = option.partition("=")
        if key.strip().lower() == "$select":
            select = parse_select(value, user_type)
        elif key.strip().lower() not in ("", "$levels"):
            raise bad_request(f"The query parameter '{key.strip()[:50]}' is not supported.")
    return Expand(select)


def parse_top(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\s*\d{1,9}\s*", raw):
        raise bad_request(
            f"Invalid value '{raw[:50]}' for $top query option found. The $top query option "
            "requires a non-negative integer value."
        )
    top = int(raw)
    if not 1 <= top <= MAX_TOP:
        raise unsupported(
            f"Invalid page size specified: '{top}'. Must be between 1 and {MAX_TOP} inclusive."
        )
    return top


def parse_count(raw: str | None) -> bool:
    if raw is None:
        return False
    if raw.strip().lower() not in ("true", "false"):
        raise bad_request(f"'{raw[:50]}' is not a valid count option.")
    return raw.strip().lower() == "true"


def skiptoken(offset: int) -> str:
    raw = base64.urlsafe_b64encode(_TOKEN_PREFIX + struct.pack(">I", offset))
    return raw.decode().rstrip("=")


def parse_skiptoken(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        if len(data) != 8 or not data.startswith(_TOKEN_PREFIX):
            raise ValueError(raw)
        return struct.unpack(">I", data[4:])[0]
    except ValueError:
        raise GraphError(
            400,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in "
            "your request.",
        ) from None


_SEARCH = re.compile(r'"(?P<prop>[A-Za-z]+):(?P<term>[^"]*)"')


def parse_search(raw: str | None, entity: EntityType) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    clauses = []
    rest = _SEARCH.sub("", raw)
    if re.sub(r"\b(?:AND|OR)\b", "", rest).strip():
        raise bad_request(f"Syntax error: character '{rest.strip()[:1]}' is not valid.")
    for match in _SEARCH.finditer(raw):
        prop = entity.properties.get(match.group("prop").lower())
        if prop is None:
            raise bad_request(
                f"Could not find a property named '{match.group('prop')[:100]}' on type "
                f"'{entity.name}'.",
                "Request_BadRequest",
            )
        clauses.append((prop, match.group("term").lower()))
    return tuple(clauses)


def parse_orderby(raw: str | None, entity: EntityType, advanced: bool, has_filter: bool):
    if raw is None:
        return None
    name, _, direction = raw.strip().partition(" ")
    prop = entity.properties.get(name.lower())
    if prop is None:
        raise bad_request(
            f"Could not find a property named '{name[:100]}' on type '{entity.name}'.",
            "Request_BadRequest",
        )
    if direction.strip().lower() not in ("", "asc", "desc"):
        raise bad_request(f"Syntax error at position {len(name) + 1} in '{raw[:200]}'.")
    allowed = entity.orderby_default | (entity.orderby_advanced if advanced else frozenset())
    if prop not in allowed or (has_filter and not advanced):
        raise unsupported("Sorting not supported for current query.")
    return prop, direction.strip().lower() == "desc"


def parse_collection_query(
    params: Sequence[tuple[str, str]],
    entity: EntityType,
    *,
    eventual: bool,
    user_type: EntityType | None = None,
) -> Query:
    """The options of a GET on a directory collection. `eventual`: the request carries
    `ConsistencyLevel: eventual`."""
    _reject_unknown(params)
    if _one(params, "$skip") is not None:
        raise bad_request("'$skip' is not supported by the service.", "Request_BadRequest")
    count = parse_count(_one(params, "$count"))
    advanced = eventual and count
    search_raw = _one(params, "$search")
    if search_raw is not None and not eventual:
        raise unsupported(
            "Request with $search query parameter only works through MSGraph with a special "
            "request header: 'ConsistencyLevel: eventual'"
        )
    filter_raw = _one(params, "$filter")
    where = None
    if filter_raw is not None:
        ctx = FilterContext(
            entity.name, entity.resource, entity.properties, entity.filters, advanced
        )
        where = parse_filter(filter_raw, ctx)
    return Query(
        select=parse_select(_one(params, "$select"), entity),
        top=parse_top(_one(params, "$top")),
        where=where,
        count=count and eventual,  # silently ignored without the header
        offset=parse_skiptoken(_one(params, "$skiptoken")),
        expand_manager=parse_expand(_one(params, "$expand"), user_type or entity)
        if user_type is not None
        else _no_expand(_one(params, "$expand"), entity),
        orderby=parse_orderby(_one(params, "$orderby"), entity, advanced, where is not None),
        search=parse_search(search_raw, entity),
        params=tuple(params),
    )


def parse_entity_query(params: Sequence[tuple[str, str]], entity: EntityType) -> Query:
    """The options of a GET on one user: `$select` and `$expand=manager`."""
    _reject_unknown(params)
    return Query(
        select=parse_select(_one(params, "$select"), entity),
        expand_manager=parse_expand(_one(params, "$expand"), entity),
    )


def _no_expand(raw: str | None, entity: EntityType) -> None:
    if raw is not None and raw.strip():
        nav = raw.split("(")[0].strip()
        raise bad_request(
            f"Could not find a property named '{nav[:100]}' on type '{entity.name}'.",
            "Request_BadRequest",
        )


def _reject_unknown(params: Iterable[tuple[str, str]]) -> None:
    for key, _ in params:
        if key.startswith("$") and key.lower() not in _KNOWN:
            raise bad_request(f"The query parameter '{key[:50]}' is not supported.")


def matches_search(record: Mapping[str, Any], search: tuple[tuple[str, str], ...]) -> bool:
    """`$search="displayName:wa"`: a word of the value starts with the term (tokenized)."""
    for prop, term in search:
        value = record.get(prop)
        words = re.split(r"[\s@._-]+", value.lower()) if isinstance(value, str) else []
        if any(w.startswith(term) for w in words) or (
            isinstance(value, str) and value.lower().startswith(term)
        ):
            return True
    return not search


def page(
    items: Sequence[Any], query: Query, *, base: str, path: str
) -> tuple[Sequence[Any], str | None]:
    """One page of `items` and the `@odata.nextLink` to the next one (None on the last)."""
    size = query.top or DEFAULT_PAGE
    chunk = items[query.offset : query.offset + size]
    if query.offset + size >= len(items):
        return chunk, None
    kept = [(k, v) for k, v in query.params if k.lower() != "$skiptoken"]
    kept.append(("$skiptoken", skiptoken(query.offset + size)))
    qs = "&".join(f"{quote(k, safe='$')}={quote(v, safe=',()$:/@')}" for k, v in kept)
    return chunk, f"{base}/{path}?{qs}"
