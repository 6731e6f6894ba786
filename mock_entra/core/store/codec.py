"""One (de)serialiser for every record the store keeps: frozen dataclasses to compact JSON
and back, walked through `dataclasses.fields` and `typing.get_type_hints` (as the config
checker, `config.load`, walks the config), so a field added to a record is stored with no
change here.

Types: str, int, float, bool, None, enums (by value), `X | None`, `tuple[X, ...]`,
`frozenset[X]` (a sorted list), nested dataclasses, and *references*: a value of the config
(an app registration) is stored by its key and found again in the config when read
(`REFERENCES`). A field may be stored under another name (`field(metadata={STORED_AS:
"name"})`, for what earlier versions wrote). A missing key takes the field's default.

`decode` raises `Unreadable` when the text does not fit the record (written by another
version, or it names an app the config no longer has): `repos.Repo` then answers None, and
the caller sees an unknown code, token or ctx, as it would with Entra.

Each record's plan (an encoder and a decoder per field) is made once per type and kept.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mock_entra.core.config import AppRegistration, MockConfig

T = TypeVar("T")
STORED_AS = "stored_as"  # field metadata: the JSON key, when it is not the field's name

Encode = Callable[[Any], Any]
Decode = Callable[[Any, MockConfig], Any]


class Unreadable(ValueError):
    """Stored text that does not make the record (another version's, or the config changed)."""


@dataclass(frozen=True)
class Reference:
    """A type stored by key: what it is called, and how the config finds it again."""

    key: Callable[[Any], str]
    find: Callable[[MockConfig, str], Any]  # None when the config has no such entry


def _find_app(config: MockConfig, client_id: str) -> AppRegistration | None:
    found = config.find_app(client_id)
    return found[1] if found is not None else None


REFERENCES: dict[type, Reference] = {
    AppRegistration: Reference(lambda app: app.client_id, _find_app),
}

_ENCODERS: dict[Any, Encode | None] = {}  # None: the value is already JSON
_DECODERS: dict[Any, Decode] = {}


def encode(record: Any) -> str:
    """The record as compact JSON text."""
    encoder = _encoder(type(record))
    return json.dumps(encoder(record) if encoder else record, separators=(",", ":"))


def decode(cls: type[T], text: str, config: MockConfig) -> T:
    """The record of type `cls` that `text` holds; `Unreadable` when it does not fit."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise Unreadable(str(error)) from error
    return _decoder(cls)(data, config)


def check(cls: type) -> None:
    """Make `cls`'s plan now: a type the codec cannot store is a TypeError at start."""
    _encoder(cls)
    _decoder(cls)


# -- plans ------------------------------------------------------------------------------------


def _encoder(hint: Any) -> Encode | None:
    try:
        return _ENCODERS[hint]
    except KeyError:
        found = _ENCODERS[hint] = _make_encoder(hint)
        return found


def _decoder(hint: Any) -> Decode:
    try:
        return _DECODERS[hint]
    except KeyError:
        found = _DECODERS[hint] = _make_decoder(hint)
        return found


def _fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if f.init]


def _optional(hint: Any) -> Any | None:
    """X for `X | None`; None for any other type."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"the store keeps one type or None, not {hint!r}")
        return rest[0]
    return None


def _make_encoder(hint: Any) -> Encode | None:
    if hint in (str, int, float, bool, type(None)):
        return None
    inner = _optional(hint)
    if inner is not None:
        plain = _encoder(inner)
        return None if plain is None else (lambda v: None if v is None else plain(v))
    if isinstance(hint, type) and hint in REFERENCES:
        return REFERENCES[hint].key
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return lambda v: v.value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _encoder(args[0])
        return list if item is None else (lambda v: [item(x) for x in v])
    if origin is frozenset and len(args) == 1:
        item = _encoder(args[0])
        return lambda v: sorted(v) if item is None else sorted(item(x) for x in v)
    if dataclasses.is_dataclass(hint):
        plan = [(f.name, f.metadata.get(STORED_AS, f.name), _encoder(h)) for f, h in _fields(hint)]

        def record(value: Any) -> dict[str, Any]:
            out = {}
            for name, key, enc in plan:
                v = getattr(value, name)
                out[key] = v if enc is None else enc(v)
            return out

        return record
    raise TypeError(f"the store cannot keep a {hint!r}")


def _unreadable(expected: str, value: Any) -> Unreadable:
    return Unreadable(f"expected {expected}, got {type(value).__name__}")


def _scalar(kind: type) -> Decode:
    def read(value: Any, config: MockConfig) -> Any:
        # bool is an int to Python, not to JSON's writers: True is no count.
        if type(value) is kind or (kind is float and type(value) is int):
            return kind(value) if kind is float else value
        raise _unreadable(kind.__name__, value)

    return read


def _make_decoder(hint: Any) -> Decode:
    if hint in (str, int, float, bool):
        return _scalar(hint)
    inner = _optional(hint)
    if inner is not None:
        plain = _decoder(inner)
        return lambda v, c: None if v is None else plain(v, c)
    if isinstance(hint, type) and hint in REFERENCES:
        ref = REFERENCES[hint]
        read_key = _scalar(str)

        def referenced(value: Any, config: MockConfig) -> Any:
            found = ref.find(config, read_key(value, config))
            if found is None:  # removed from the config since
                raise Unreadable(f"no {hint.__name__} {value!r} in the config")
            return found

        return referenced
    if isinstance(hint, type) and issubclass(hint, enum.Enum):

        def member(value: Any, config: MockConfig) -> Any:
            try:
                return hint(value)
            except ValueError as error:
                raise Unreadable(str(error)) from error

        return member
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if (origin is tuple and len(args) == 2 and args[1] is Ellipsis) or (
        origin is frozenset and len(args) == 1
    ):
        item, build = _decoder(args[0]), tuple if origin is tuple else frozenset
        exact, _ = _exact(args[0])

        def sequence(value: Any, config: MockConfig) -> Any:
            if type(value) is not list:
                raise _unreadable("a list", value)
            for x in value:  # strings (scopes, accounts' hashes): taken as they are
                if type(x) is not exact:
                    return build(item(x, config) for x in value)
            return build(value)

        return sequence
    if dataclasses.is_dataclass(hint):
        # A value of a field's exact scalar type (or None where allowed) is taken as it is,
        # without a call: most fields are strings and numbers, and this is every request's.
        plan = [
            (f.name, f.metadata.get(STORED_AS, f.name), *_exact(h), _decoder(h), _has_default(f))
            for f, h in _fields(hint)
        ]

        def record(value: Any, config: MockConfig) -> Any:
            if type(value) is not dict:
                raise _unreadable("an object", value)
            args = {}
            for name, key, exact, nullable, dec, optional in plan:
                if key in value:
                    v = value[key]
                    args[name] = (
                        v if type(v) is exact or (v is None and nullable) else dec(v, config)
                    )
                elif not optional:
                    raise Unreadable(f"{hint.__name__}: no {key!r}")
            try:
                return hint(**args)
            except (TypeError, ValueError) as error:  # the record's own checks
                raise Unreadable(str(error)) from error

        return record
    raise TypeError(f"the store cannot keep a {hint!r}")


class _Never:
    """A type no JSON value has."""


def _exact(hint: Any) -> tuple[type, bool]:
    """The scalar type a field's JSON value may be taken as, and whether None may be."""
    inner = _optional(hint)
    plain = hint if inner is None else inner
    return (plain if plain in (str, int, bool) else _Never), inner is not None


def _has_default(f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
