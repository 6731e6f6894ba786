"""Reading and checking config files (`mock-entra serve --config FILE`); `write` writes them.

The checker is generic: it walks `dataclasses.fields` and `typing.get_type_hints` of the
config dataclasses (`model`), so a field added there is checked here with no change.
A small walker rather than a library (pydantic, cattrs): the schema is four frozen
dataclasses of strings, integers, booleans, tuples and one mapping, and the walker gives the
messages this project wants (file, field path, expected type, "did you mean") in ~200 lines
with no dependency in the mock's cold start.

Every problem is collected (up to `MAX_PROBLEMS`) and raised as one `ConfigError`, each
line naming the file and the field's path in one style (`tenants[0].apps[1].redirect_uris[2]`),
including the problems a dataclass's own checks find (their paths are joined onto its path):

    mock.toml: tenants[0].users[1].object_id: required, but missing (expected a GUID, e.g. ...)
    mock.toml: code_lifetime: expected a whole number of seconds from 1 to 315360000, got 'ten'

Rules on single values (GUIDs, bounds, redirect URIs) ride on the fields' types
(`rules.FieldRule`) and are checked here for every value, so that a bad tenant id does not
hide a bad redirect URI further down.

A file is refused before parsing when larger than `MAX_FILE_BYTES`, and after parsing when
nested deeper than `MAX_DEPTH` (the schema needs five levels).

`extends = "defaults"` at the top of a file merges it onto `DEFAULT_CONFIG` instead of
replacing it: top-level values replace the defaults'; a list entry (tenant, user, app) whose
key (`tenant_id`, `username`, `client_id`: the fields marked `KEY`) matches a default entry
updates that entry field by field, any other entry is added; other lists and tables replace.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mock_entra.core.config.defaults import DEFAULT_CONFIG
from mock_entra.core.config.model import MockConfig
from mock_entra.core.config.rules import ConfigError, FieldRule, rule_of
from mock_entra.core.config.write import BARE_KEY
from mock_entra.core.json_input import MAX_DEPTH, JsonInputError, depth_exceeds, parse_json

MAX_FILE_BYTES = 1024 * 1024
MAX_PROBLEMS = 20  # one screen
EXTENDS = "extends"
EXTENDS_VALUES = ("defaults",)

_BAD: Any = object()  # a value that failed its check (the problem is already recorded)


# --- reading -----------------------------------------------------------------------------------


def load_config(path: str | Path) -> MockConfig:
    """Read and check a TOML or JSON (by the `.json` suffix) config file; any problem is one
    `ConfigError` whose lines start with the file name."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # never more: the file may be huge or endless
    except OSError as exc:
        hint = ""
        if exc.errno == errno.ENOENT and "=" in str(path):
            hint = " (to give the config itself, not a path: more than one line of TOML)"
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}{hint}") from None
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    return _parse(data, fmt, str(path), path.parent)


def config_text_format(value: str) -> str | None:
    """Whether a `--config` / `MOCK_ENTRA_CONFIG` value is the config itself rather than a
    file's path, and in which format: "json" when it starts with `{` (after white space),
    "toml" when it holds a line break, None (a path) otherwise. A container is configured by
    an environment variable as easily as by a mounted file (`MOCK_ENTRA_CONFIG="$(cat
    mock.toml)"`); no path starts with `{` or holds a line break in practice, and a
    one-line TOML text has at most one setting, so nothing useful is lost."""
    stripped = value.lstrip()
    if stripped.startswith("{"):
        return "json"
    if "\n" in value or "\r" in value:
        return "toml"
    return None


def load_config_value(value: str, *, source: str = "config text") -> MockConfig:
    """The config a `--config` / `MOCK_ENTRA_CONFIG` value gives: the text itself when
    `config_text_format` says it is text (messages name `source`), else the file it names."""
    fmt = config_text_format(value)
    if fmt is None:
        return load_config(value)
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # bytes the environment could not decode (surrogates)
        raise ConfigError(f"{source}: not valid UTF-8") from None
    return _parse(data, fmt, source, None)


def _parse(data: bytes, fmt: str, source: str, folder: Path | None) -> MockConfig:
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{source}: larger than {MAX_FILE_BYTES // 1024} KiB; not a config file")
    if fmt == "json":
        try:
            raw = parse_json(data, max_size=MAX_FILE_BYTES, object_pairs_hook=_no_duplicate_keys)
        except JsonInputError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        return config_from_dict(_relative_to(raw, folder), source=source)
    import tomllib  # only a TOML config pays for it

    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except RecursionError:
        raise ConfigError(f"{source}: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    if depth_exceeds(raw, MAX_DEPTH):
        raise ConfigError(f"{source}: nested more than {MAX_DEPTH} levels deep")
    return config_from_dict(_relative_to(raw, folder), source=source)


def _relative_to(raw: Any, folder: Path | None) -> Any:
    """The file's `external_issuers[].jwks_file` paths made relative to the file's folder, as
    a reader of the file expects (not to wherever the mock was started). Config text has no
    folder: its paths stay relative to where the mock runs."""
    issuers = raw.get("external_issuers") if isinstance(raw, Mapping) else None
    if folder is None or not isinstance(issuers, list):
        return raw
    fixed = []
    for entry in issuers:
        if isinstance(entry, Mapping) and isinstance(entry.get("jwks_file"), str):
            entry = {**entry, "jwks_file": str(folder / entry["jwks_file"])}
        fixed.append(entry)
    return {**raw, "external_issuers": fixed}


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON would keep the last of two equal keys silently; TOML refuses them, so do we.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r:.60}")
        result[key] = value
    return result


def config_from_dict(raw: Any, *, source: str = "config") -> MockConfig:
    """A checked `MockConfig` from the file schema (what `config_to_dict` writes), plus the
    file-only key `extends`. `source` names the file in messages."""
    problems = _Problems()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: expected a table of settings, got {_got(raw)}")
    raw = dict(raw)
    base = None
    if EXTENDS in raw:
        extends = raw.pop(EXTENDS)
        if extends in EXTENDS_VALUES:
            base = DEFAULT_CONFIG
        else:
            wanted = " or ".join(f'"{v}"' for v in EXTENDS_VALUES)
            problems.add(EXTENDS, f"expected {wanted}, got {_got(extends)}")
    config = _build(MockConfig, raw, "", problems, base=base, extra_keys=(EXTENDS,))
    if problems.items or config is _BAD:
        raise problems.error(source)
    return config


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.more = 0

    def add(self, path: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append((path, message))
        else:
            self.more += 1

    def error(self, source: str) -> ConfigError:
        lines = [f"{source}: {p}: {m}" if p else f"{source}: {m}" for p, m in self.items]
        if self.more:
            lines.append(f"{source}: ... and {self.more} more problem(s)")
        return ConfigError("\n".join(lines), tuple(self.items))


# --- the walker --------------------------------------------------------------------------------


def _hints(cls: type) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls, include_extras=True)
    return found


_HINTS: dict[type, dict[str, Any]] = {}


def _key_field(cls: type) -> str | None:
    """The field marked `KEY` in `config.py`: what identifies an entry of a list."""
    return next((f.name for f in dataclasses.fields(cls) if f.metadata.get("key")), None)


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _build(
    cls: type,
    raw: Any,
    path: str,
    problems: _Problems,
    *,
    base: Any = None,
    extra_keys: tuple[str, ...] = (),
) -> Any:
    """An instance of the dataclass `cls` from a table; with `base`, the fields the table
    gives replace (or, for keyed lists, merge into) those of `base`."""
    if not isinstance(raw, Mapping):
        problems.add(path, f"expected {_describe(cls)}, got {_got(raw)}")
        return _BAD
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [key for key in raw if key not in fields]
    for key in unknown:
        problems.add(_join(path, str(key)), _unknown(str(key), [*fields, *extra_keys]))
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for name, f in fields.items():
        where = _join(path, name)
        if name in raw:
            current = getattr(base, name) if base is not None else None
            values[name] = _convert(hints[name], raw[name], where, problems, current)
            if values[name] == "" and _required(f):  # an empty UPN, object id, client id...
                problems.add(where, "required, but empty")
                values[name] = _BAD
        elif base is None and _required(f):
            problems.add(where, f"required, but missing (expected {_describe(hints[name])})")
            values[name] = _BAD
    if unknown or any(v is _BAD for v in values.values()):
        return _BAD  # problems are recorded; a partial object would only add noise
    try:
        return dataclasses.replace(base, **values) if base is not None else cls(**values)
    except ConfigError as exc:  # a rule across fields, from the dataclass's __post_init__
        for where, message in exc.problems or (("", str(exc)),):
            problems.add(_subpath(path, where), message)
        return _BAD


def _convert(hint: Any, value: Any, path: str, problems: _Problems, current: Any = None) -> Any:
    """`value` checked against the type hint (and converted: lists become tuples)."""
    hint, rule = _annotation(hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _convert(options[0], value, path, problems, current)
        for option in options:  # the first that accepts it, silently
            trial = _Problems()
            result = _convert(option, value, path, trial)
            if not trial.items:
                return result
        problems.add(path, f"expected {_describe(hint)}, got {_got(value)}")
        return _BAD
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path, problems)
    if origin is tuple:
        return _sequence(hint, args, value, path, problems, current)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            problems.add(path, f"expected {_describe(hint)}, got {_got(value)}")
            return _BAD
        converted = {
            _convert(args[0], k, _join(path, str(k)), problems): _convert(
                args[1], v, _join(path, str(k)), problems
            )
            for k, v in value.items()
        }
        return _BAD if _BAD in converted or _BAD in converted.values() else converted
    reason = ""
    if origin is typing.Literal:
        if value in args and type(value) in {type(a) for a in args}:
            return value
    elif _scalar_ok(hint, value):
        found = rule.problem(value) if rule is not None else None
        if found is None:
            return value
        reason = f": {found}" if found else ""
    problems.add(path, f"expected {_describe(hint, rule)}, got {_got(value)}{reason}")
    return _BAD


def _scalar_ok(hint: Any, value: Any) -> bool:
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:  # TOML and JSON booleans are not numbers here
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if hint is Any:
        return True
    raise TypeError(f"config_load: no rule for the type {hint!r}")  # a schema change to support


def _sequence(
    hint: Any, args: tuple, value: Any, path: str, problems: _Problems, current: Any
) -> Any:
    if not isinstance(value, list | tuple):
        problems.add(path, f"expected {_describe(hint)}, got {_got(value)}")
        return _BAD
    if not (len(args) == 2 and args[1] is Ellipsis):
        raise TypeError(f"config_load: only tuple[X, ...] is supported, not {hint!r}")
    item = args[0]
    key = _key_field(item) if dataclasses.is_dataclass(item) else None
    if key is None:
        items = tuple(_convert(item, v, f"{path}[{i}]", problems) for i, v in enumerate(value))
        return _BAD if _BAD in items else items
    # A list of keyed entries (tenants, users, apps): merged into `current` when extending.
    merged = list(current or ())
    index = {_norm(getattr(entry, key)): n for n, entry in enumerate(merged)}
    seen: dict[Any, int] = {}
    bad = False
    for i, raw in enumerate(value):
        where = f"{path}[{i}]"
        name = _norm(raw.get(key)) if isinstance(raw, Mapping) else None
        if name is not None and name in seen:
            problems.add(_join(where, key), f"{raw[key]!r:.80} is already {path}[{seen[name]}]")
            bad = True
            continue
        if name is not None:
            seen[name] = i
        if name is not None and name in index:
            built = _build(item, raw, where, problems, base=merged[index[name]])
            merged[index[name]] = built
        else:
            built = _build(item, raw, where, problems)
            merged.append(built)
            if name is not None:
                index[name] = len(merged) - 1
        bad = bad or built is _BAD
    return _BAD if bad else tuple(merged)


def _norm(key: Any) -> Any:
    # Keys compare as Entra compares them: GUIDs and UPNs are case-insensitive.
    return key.lower() if isinstance(key, str) else None


def _annotation(hint: Any) -> tuple[Any, FieldRule | None]:
    if getattr(hint, "__metadata__", None) is None:
        return hint, None
    return hint.__origin__, rule_of(hint)


# --- messages ----------------------------------------------------------------------------------


def _subpath(path: str, sub: str) -> str:
    """`sub` (a path such as `redirect_uris[2]`, from a dataclass's own check) under `path`."""
    if not sub:
        return path
    return f"{path}.{sub}" if path else sub


def _join(path: str, key: str) -> str:
    if BARE_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key[:80])}]"


def _unknown(key: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
    return f"unknown field{hint}"


_NAMES = {str: "a string", int: "an integer", bool: "true or false", float: "a number"}


def _describe(hint: Any, rule: FieldRule | None = None) -> str:
    """What a value of this type looks like, in the words of a config file."""
    hint, own = _annotation(hint)
    rule = rule or own
    if rule is not None:
        return rule.describe()
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        text = " or ".join(_describe(a) for a in options)
        return f"{text}, or leave it out" if type(None) in args else text
    if dataclasses.is_dataclass(hint):
        return f"a table ({hint.__name__})"
    if origin is tuple:
        inner = _describe(args[0])
        return f"a list of {inner.removeprefix('a ').removeprefix('an ')}s"
    if origin in (dict, Mapping):
        return f"a table of {_describe(args[1]).removeprefix('a ').removeprefix('an ')}s"
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(a) for a in args)
    return _NAMES.get(hint, getattr(hint, "__name__", str(hint)))


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else "a very large integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        shown = json.dumps(value[:40]) + ("..." if len(value) > 40 else "")
        return f"the string {shown}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
