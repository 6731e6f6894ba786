"""JSON from outside the mock (request parameters and bodies, config files), parsed with
explicit limits: the one parser every endpoint that reads JSON uses.

Python's `json` has no depth limit of its own: a few thousand nested brackets end in a
`RecursionError` deep in the decoder (a 500 and a long traceback per request), and hundreds
are accepted and then walked by whatever reads the value. Here the input is refused, as one
`JsonInputError`, when it is larger than `max_size`, nested deeper than `max_depth` (an object
or array counts one level; the top level is 1), not JSON, or uses the `NaN` / `Infinity`
constants Python accepts and JSON (RFC 8259) does not. Callers turn the error into their
endpoint's own 400 (Entra's AADSTS code or Graph's error body).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 32  # Entra's `claims` request needs 4 levels, a config file 5
MAX_SIZE = 64 * 1024  # bytes (characters for a str); the admin API's bodies need a few hundred


class JsonInputError(ValueError):
    """JSON input refused: too large, too deep or not JSON (the message says which)."""


def parse_json(
    data: str | bytes,
    *,
    max_size: int = MAX_SIZE,
    max_depth: int = MAX_DEPTH,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """The value `data` holds, or `JsonInputError`."""
    if len(data) > max_size:
        raise JsonInputError(f"larger than {max_size // 1024} KiB")
    try:
        value = json.loads(data, parse_constant=_refuse, object_pairs_hook=object_pairs_hook)
    except RecursionError:  # thousands of levels: the decoder gave up before we could look
        raise JsonInputError(f"nested more than {max_depth} levels deep") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the hook's refusal
        raise JsonInputError(f"not valid JSON: {str(exc)[:200]}") from None
    if depth_exceeds(value, max_depth):
        raise JsonInputError(f"nested more than {max_depth} levels deep")
    return value


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether dicts and lists nest deeper than `limit` in `value` (walked without recursion,
    so any depth the parser let through can be measured)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children if isinstance(item, dict | list) else ():
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")
