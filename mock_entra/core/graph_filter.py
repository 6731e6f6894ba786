"""`$filter` for directory objects, with Graph's split between what works by default and
what needs the advanced query parameters (`ConsistencyLevel: eventual` and `$count=true`).

Supported: `eq`, `ne`, `not`, `ge`, `le`, `gt`, `lt`, `in`, `startsWith`, `endsWith`, `and`,
`or`, parentheses, `null`, and `any` over collections (`otherMails/any(m:startswith(m,'a'))`).
Matching is case-insensitive, as the directory is.

Learn: "Advanced query capabilities on Microsoft Entra ID objects" (the per-property table of
operators for users, the errors below), "Use the $filter query parameter".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_entra.core.aadsts import GraphError

DEFAULT, ADVANCED = "default", "advanced"
# user property -> operator -> DEFAULT | ADVANCED (absent: not supported at all).
# "null" is `eq null`; ne/not are advanced wherever eq is supported ("All properties that
# support the eq operator also support the ne or not operators"); endsWith is advanced on
# mail, otherMails, userPrincipalName and proxyAddresses only.
_D, _A = DEFAULT, ADVANCED
USER_FILTERS: dict[str, dict[str, str]] = {
    "accountEnabled": {"eq": _D, "ge": _A, "le": _A, "in": _D},
    "businessPhones": {"eq": _D},
    "city": {"eq": _D, "ge": _D, "in": _D, "startsWith": _D, "null": _A},
    "companyName": {op: _A for op in ("eq", "ge", "le", "in", "startsWith", "null")},
    "country": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "null": _A},
    "createdDateTime": {"eq": _D, "ge": _D, "le": _D, "in": _A},
    "department": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "null": _A},
    "displayName": {"eq": _D, "in": _D, "startsWith": _D, "null": _A},
    "employeeId": {"eq": _D, "le": _A, "startsWith": _D, "null": _A},
    "employeeType": {op: _A for op in ("eq", "ge", "le", "in", "startsWith")},
    "givenName": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "null": _A},
    "id": {"eq": _D},
    "identities": {"eq": _D},
    "imAddresses": {"eq": _D, "ge": _D, "le": _D, "startsWith": _D},
    "jobTitle": {"eq": _D, "ge": _D, "le": _D, "in": _D, "null": _A},
    "mail": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "endsWith": _A},
    "mailNickname": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "null": _A},
    "mobilePhone": {op: _A for op in ("eq", "ge", "le", "in", "startsWith", "null")},
    "officeLocation": {op: _A for op in ("eq", "ge", "le", "in", "startsWith", "null")},
    "onPremisesImmutableId": {op: _A for op in ("eq", "ge", "le", "in")},
    "onPremisesSamAccountName": {op: _A for op in ("eq", "ge", "le", "in", "startsWith")},
    "onPremisesSyncEnabled": {"eq": _D, "ge": _A, "le": _A, "in": _D},
    "otherMails": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "endsWith": _A},
    "postalCode": {op: _A for op in ("eq", "ge", "le", "in", "startsWith", "null")},
    "preferredLanguage": {op: _A for op in ("eq", "ge", "le", "in", "startsWith", "null")},
    "proxyAddresses": {"eq": _D, "ge": _D, "le": _D, "startsWith": _D, "endsWith": _A},
    "state": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "null": _A},
    "streetAddress": {op: _A for op in ("eq", "ge", "le", "in", "startsWith", "null")},
    "surname": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D, "null": _A},
    "usageLocation": {"eq": _D, "ge": _D, "le": _D, "in": _D, "startsWith": _D},
    "userPrincipalName": {"eq": _D, "le": _D, "in": _D, "startsWith": _D, "endsWith": _A},
    "userType": {"eq": _D, "in": _D, "null": _A},
}
GROUP_FILTERS: dict[str, dict[str, str]] = {
    "displayName": {"eq": _D, "in": _D, "startsWith": _D, "null": _A},
    "id": {"eq": _D},
    "mail": {"eq": _D, "in": _D, "startsWith": _D, "null": _A},
    "mailEnabled": {"eq": _D},
    "securityEnabled": {"eq": _D, "in": _D},
}
_SAME_AS = {"ne": "eq", "not": "eq", "gt": "ge", "lt": "le"}

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class FilterContext:
    """What the parser checks names and operators against."""

    entity: str  # "microsoft.graph.user", for messages
    resource: str  # "User", for messages
    names: Mapping[str, str]  # lower-case name -> Graph's spelling (every property)
    support: Mapping[str, Mapping[str, str]]
    advanced: bool  # ConsistencyLevel: eventual and $count=true


# How deeply parentheses, `not` and `any(...)` may nest. Graph's parser (OData's
# UriQueryExpressionParser) counts every grammar level it enters against a limit and answers
# "Recursion depth exceeded allowed limit." (OData/odata.net,
# src/Microsoft.OData.Core/Microsoft.OData.Core.txt, UriQueryExpressionParser_TooDeep);
# Graph prefixes its filter errors with "Invalid filter clause: ". OData's default limit is 800
# recursion steps (ODataUriParserSettings.DefaultFilterLimit, OData/odata.net#957), each
# nesting level costing several; the mock counts nesting levels and allows 64. Real filters
# nest a few levels; without a limit ~340 parentheses overflowed the recursive parser (a 500).
MAX_NESTING = 64
_TOO_DEEP = "Invalid filter clause: Recursion depth exceeded allowed limit."


def _syntax(text: str, position: int) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"Invalid filter clause: Syntax error at position {position} in '{text[:500]}'.",
    )


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
      | (?P<date>\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_$][A-Za-z0-9_]*(?:/[A-Za-z_$][A-Za-z0-9_]*)*)
      | (?P<punct>[(),:])
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise _syntax(text, len(text[:pos]) - len(text[:pos].lstrip()) + pos)
        kind = match.lastgroup or ""
        raw = match.group(kind)
        start = match.start(kind)
        value: Any = raw
        if kind == "str":
            value = raw[1:-1].replace("''", "'")
        elif kind == "num":
            value = float(raw) if "." in raw else int(raw)
        out.append((kind, value, start))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str, ctx: FilterContext) -> None:
        self.text = text
        self.ctx = ctx
        self.toks = _tokens(text)
        self.i = 0
        self.lambda_of: str | None = None  # inside `prop/any(x: ...)`: prop, and x
        self.lambda_var: str | None = None
        self.depth = 0  # parentheses, `not` and `any(` entered and not yet left

    def enter(self) -> None:
        """One level deeper (a parenthesis, `not`, `any(`): Graph's 400 past `MAX_NESTING`."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise GraphError(400, "BadRequest", _TOO_DEEP)

    # --- token helpers
    def peek(self) -> tuple[str, Any, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def word(self) -> str | None:
        tok = self.peek()
        return tok[1].lower() if tok and tok[0] == "name" else None

    def take(self, kind: str, value: str | None = None) -> Any:
        tok = self.peek()
        if tok is None:
            raise _syntax(self.text, len(self.text))
        if tok[0] != kind or (value is not None and str(tok[1]).lower() != value):
            raise _syntax(self.text, tok[2])
        self.i += 1
        return tok[1]

    # --- grammar
    def parse(self) -> Predicate:
        if not self.toks:
            raise _syntax(self.text, 0)
        pred = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise _syntax(self.text, tok[2])
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.word() == "or":
            self.i += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.word() == "and":
            self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        if self.word() == "not":
            self.i += 1
            self.enter()
            inner = self.unary()
            self.depth -= 1
            self.require_advanced("not")
            return lambda r: not inner(r)
        tok = self.peek()
        if tok is not None and tok[0] == "punct" and tok[1] == "(":
            self.i += 1
            self.enter()
            inner = self.or_expr()
            self.take("punct", ")")
            self.depth -= 1
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        tok = self.peek()
        if tok is None:
            raise _syntax(self.text, len(self.text))
        name = self.take("name")
        func = name.lower()
        nxt = self.peek()
        if func in ("startswith", "endswith", "contains") and nxt and nxt[1] == "(":
            self.i += 1
            prop = self.resolve(self.take("name"))
            self.take("punct", ",")
            value = self.literal()
            self.take("punct", ")")
            op = {"startswith": "startsWith", "endswith": "endsWith"}.get(func, func)
            self.check(prop, op)
            return _string_test(prop, op, value)
        if "/" in name and name.lower().endswith("/any"):
            return self.any_lambda(name[: -len("/any")])
        prop = self.resolve(name)
        op_word = self.word()
        if op_word in ("eq", "ne", "ge", "le", "gt", "lt"):
            self.i += 1
            value = self.literal()
            self.check(prop, "null" if value is None and op_word == "eq" else op_word)
            return _compare(prop, op_word, value)
        if op_word == "in":
            self.i += 1
            self.take("punct", "(")
            values = [self.literal()]
            while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                self.i += 1
                values.append(self.literal())
            self.take("punct", ")")
            self.check(prop, "in")
            return lambda r: any(_equal(r.get(prop), v) for v in values)
        nxt = self.peek()
        raise _syntax(self.text, nxt[2] if nxt else len(self.text))

    def any_lambda(self, collection: str) -> Predicate:
        """`prop/any(x: <expression over x>)`; on a collection of objects `x/field` names a
        field (`identities/any(c:c/issuerAssignedId eq 'j' and c/issuer eq 'contoso')`)."""
        prop = self.resolve(collection)
        if self.lambda_of is not None:
            raise _syntax(self.text, self.peek()[2] if self.peek() else len(self.text))
        self.take("punct", "(")
        var = str(self.take("name")).lower()
        self.take("punct", ":")
        self.lambda_of, self.lambda_var = prop, var
        self.enter()
        try:
            body = self.or_expr()
        finally:
            self.lambda_of = self.lambda_var = None
        self.take("punct", ")")
        self.depth -= 1

        def item_record(item: Any) -> dict[str, Any]:
            record = {"_": item}
            if isinstance(item, Mapping):
                record.update({f"_/{k.lower()}": v for k, v in item.items()})
            return record

        return lambda r: any(body(item_record(item)) for item in (r.get(prop) or ()))

    def resolve(self, name: str) -> str:
        lowered = name.lower()
        if self.lambda_var is not None and lowered.split("/")[0] == self.lambda_var:
            field = lowered.partition("/")[2]
            return f"_/{field}" if field else "_"
        known = self.ctx.names.get(lowered)
        if known is None:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{name[:100]}' on type '{self.ctx.entity}'.",
            )
        return known

    def literal(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise _syntax(self.text, len(self.text))
        kind, value, start = tok
        self.i += 1
        if kind in ("str", "num", "guid", "date"):
            return value
        if kind == "name" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if kind == "name" and value.lower() == "null":
            return None
        raise _syntax(self.text, start)

    # --- Graph's support table
    def check(self, prop: str, op: str) -> None:
        if prop.startswith("_") and self.lambda_of is not None:
            prop = self.lambda_of  # inside any(): the collection's own support applies
        table = self.ctx.support.get(prop, {})
        mode = table.get(_SAME_AS.get(op, op))
        if op in ("ne", "not") and mode is not None:
            mode = ADVANCED
        if mode is None:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"Unsupported or invalid query filter clause specified for property '{prop}' "
                f"of resource '{self.ctx.resource}'.",
            )
        if mode == ADVANCED:
            self.require_advanced(op)

    def require_advanced(self, op: str) -> None:
        if not self.ctx.advanced:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"Operator '{op}' is not supported because the required parameters might be "
                "missing. Try adding $count=true query parameter and ConsistencyLevel:eventual "
                "header. Refer to https://aka.ms/graph-docs/advanced-queries for more "
                "information",
            )


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _equal(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):  # a collection matches when one item does
        return any(_norm(item) == _norm(wanted) for item in actual)
    return _norm(actual) == _norm(wanted)


def _compare(prop: str, op: str, value: Any) -> Predicate:
    if op == "eq":
        return lambda r: _equal(r.get(prop), value)
    if op == "ne":
        return lambda r: not _equal(r.get(prop), value)

    def ordered(r: Record) -> bool:
        actual = r.get(prop)
        if actual is None or value is None or isinstance(actual, list):
            return False
        a, b = _norm(actual), _norm(value)
        try:
            return {"ge": a >= b, "le": a <= b, "gt": a > b, "lt": a < b}[op]
        except TypeError:
            return False

    return ordered


def _string_test(prop: str, op: str, value: Any) -> Predicate:
    wanted = str(value).lower()

    def one(item: Any) -> bool:
        if not isinstance(item, str):
            return False
        text = item.lower()
        return text.startswith(wanted) if op == "startsWith" else text.endswith(wanted)

    def test(r: Record) -> bool:
        actual = r.get(prop)
        return any(one(i) for i in actual) if isinstance(actual, list) else one(actual)

    return test


def parse_filter(text: str, ctx: FilterContext) -> Predicate:
    """A predicate over property mappings, or Graph's error for the expression."""
    if len(text) > 2000:
        raise _syntax(text, 2000)
    return _Parser(text, ctx).parse()
