"""Writing a config: as the file schema's plain data (JSON), and as a TOML file that `load`
reads back to an equal config."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from mock_entra.core.config.model import MockConfig

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")  # a TOML key written without quotes


def config_to_dict(config: MockConfig) -> dict[str, Any]:
    """The JSON-able form of a config (the file schema)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)


def config_to_toml(config: MockConfig, *, header: str = "") -> str:
    """The config as a TOML file that `load_config` reads back to an equal config.

    Written here (no TOML writer in the standard library) for the shapes the schema has:
    strings, integers, booleans, lists, tables and lists of tables; `None` is left out.
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _table(config_to_dict(config), [], lines, array=False)
    return "\n".join(lines).strip("\n") + "\n"


def _table(table: Mapping[str, Any], prefix: list[str], lines: list[str], *, array: bool) -> None:
    if prefix:
        name = ".".join(_toml_key(p) for p in prefix)
        lines += ["", f"[[{name}]]" if array else f"[{name}]"]
    nested = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, Mapping) or _is_table_list(value):
            nested.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    # TOML: a table's own keys come before its sub-tables.
    for key, value in nested:
        if isinstance(value, Mapping):
            _table(value, [*prefix, key], lines, array=False)
        else:
            for item in value:
                _table(item, [*prefix, key], lines, array=True)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _toml_key(key: str) -> str:
    return key if BARE_KEY.match(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    raise TypeError(f"config_to_toml: cannot write {type(value).__name__}")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"


def _toml_string(text: str) -> str:
    # A TOML basic string: quote, backslash and control characters (DEL too) escaped.
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
