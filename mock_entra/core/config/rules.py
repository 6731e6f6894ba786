"""The rules a config value must follow, carried on the fields' types (`Annotated[str,
GuidRule()]`) and checked for every value, by the dataclasses themselves and by the file
checker (`load`), plus the one error type of a config (`ConfigError`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from mock_entra.core.config import redirects

EXAMPLE_GUID = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"  # the embedded tenant's id, as an example


class ConfigError(ValueError):
    """A config file or value that the mock cannot use; the message names the file (when
    there is one) and the field path. `problems` lists (field path, message) pairs: the
    path relative to the object that raised it, joined onto the file's path by the checker
    (`load`), so every line of a file's error reads `file: tenants[0].apps[1].x: ...`."""

    def __init__(self, message: str, problems: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems

    @classmethod
    def of(cls, problems: Iterable[tuple[str, str]]) -> ConfigError:
        """One error listing every (path, message) problem, a line each."""
        found = tuple(problems)
        return cls("\n".join(f"{p}: {m}" if p else m for p, m in found), found)


# --- rules on single values, checked wherever a config is built ------------------------------
# A rule rides on a field's type (`Annotated[int, Bounds(...)]`, `Guid`): a config file's
# checker (`load`) applies it to the value it reads, reporting every problem with its
# path; the dataclasses' `__post_init__` apply it to configs built in Python.


@dataclass(frozen=True)
class Bounds:
    """Inclusive limits of a number field."""

    low: int
    high: int
    unit: str = ""

    def accepts(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (self.low <= value <= self.high)
        )

    def problem(self, value: object) -> str | None:
        """None when `value` is fine; else why not, beyond `describe` ("": nothing to add)."""
        return None if self.accepts(value) else ""

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"a whole number of{unit} from {self.low} to {self.high}"


_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class GuidRule:
    """Entra's ids are GUIDs: tenant ids, object ids (users, groups, service principals) and
    application (client) ids (Learn: "Application and service principal objects")."""

    empty_ok: bool = False  # `service_principal_id`: "" means "derive one"

    def problem(self, value: object) -> str | None:
        if isinstance(value, str) and (_GUID.match(value) or (self.empty_ok and value == "")):
            return None
        return ""

    def describe(self) -> str:
        return f"a GUID, e.g. {EXAMPLE_GUID}"


@dataclass(frozen=True)
class RedirectRule:
    """A redirect URI Entra would let be registered on this platform (`redirects.problem`)."""

    platform: Literal["web", "spa", "public"]

    def problem(self, value: object) -> str | None:
        return redirects.problem(value, self.platform) if isinstance(value, str) else ""

    def describe(self) -> str:
        names = {"web": "web", "spa": "single-page application", "public": "public client"}
        return f"a {names[self.platform]} redirect URI"


@dataclass(frozen=True)
class CertificateRule:
    """A certificate whose key may sign client assertions (`credentials.parse_key_credential`)."""

    def problem(self, value: object) -> str | None:
        from mock_entra.core.config.credentials import (
            parse_key_credential,  # cryptography only when used
        )

        if not isinstance(value, str):
            return ""
        try:
            parse_key_credential(value)
        except ValueError as exc:
            return str(exc)
        return None

    def describe(self) -> str:
        return "a PEM certificate"


FieldRule = Bounds | GuidRule | RedirectRule | CertificateRule
Guid = Annotated[str, GuidRule()]


MAX_SECONDS = 10 * 365 * 24 * 3600  # ten years: far beyond any Entra lifetime, and no overflow
Seconds = Annotated[int, Bounds(1, MAX_SECONDS, "seconds")]

# Marks the field that identifies an entry of a list (`tenants`, `users`, `apps`, `groups`): two
# entries may not share it, and `extends = "defaults"` merges an entry into the default one that
# has it.
KEY: Mapping[str, bool] = {"key": True}


def rule_of(hint: Any) -> FieldRule | None:
    """The rule an `Annotated` type carries, if any."""
    return next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, FieldRule)), None)


def _ruled_fields(cls: type) -> list[tuple[str, FieldRule, bool]]:
    """(field, rule, whether the field is a tuple of ruled values) for each ruled field."""
    found = _RULED.get(cls)
    if found is None:
        found = []
        for name, hint in get_type_hints(cls, include_extras=True).items():
            # `Seconds`, `Seconds | None`, `tuple[Guid, ...]`, `tuple[Guid, ...] | None`
            for part in (hint, *get_args(hint)):
                rule = rule_of(part)
                if rule is not None:
                    found.append((name, rule, False))
                    break
                items = get_args(part) if get_origin(part) is tuple else ()
                if items and rule_of(items[0]) is not None:
                    found.append((name, rule_of(items[0]), True))  # type: ignore[arg-type]
                    break
        _RULED[cls] = found
    return found


_RULED: dict[type, list[tuple[str, FieldRule, bool]]] = {}


def rule_problems(obj: Any) -> list[tuple[str, str]]:
    """Every value of `obj`'s ruled fields that breaks its rule, as (path, message)."""
    found = []
    for name, rule, many in _ruled_fields(type(obj)):
        value = getattr(obj, name)
        for path, item in (
            ((f"{name}[{i}]", v) for i, v in enumerate(value)) if many else ((name, value),)
        ):
            reason = None if item is None else rule.problem(item)
            if reason is not None:
                text = f"expected {rule.describe()}, got {item!r:.80}"
                found.append((path, f"{text}: {reason}" if reason else text))
    return found


class RuleChecked:
    """A config dataclass whose ruled fields are checked as it is made, however it is built
    (a file reports the same problems with their field paths)."""

    def __post_init__(self) -> None:
        problems = rule_problems(self)
        if problems:
            raise ConfigError.of(problems)
