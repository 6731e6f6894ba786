"""A catalogue entry (`Aadsts`): the number, the OAuth `error`, the HTTP status, the message
template, and how long a caller's value it echoes may be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Aadsts:
    """One catalogue entry: the number, the OAuth `error`, the HTTP status, the message."""

    code: int
    error: str
    status: int
    message: str
    # Shown on Entra's own page and never redirected, even when a redirect URI is known.
    page_only: bool = False
    suberror: str | None = None

    def describe(self, **args: Any) -> str:
        return f"AADSTS{self.code}: " + self.message.format(
            **{name: _clip(value) for name, value in args.items()}
        )


MAX_ECHO = 256  # characters of a caller's value an error message repeats


def _clip(value: Any) -> Any:
    """Values the caller sent are echoed in messages, pages and redirects; a huge one (a 75 KB
    `client_id` in a Basic header) must not make a huge answer. Long enough for any real
    redirect URI or scope string."""
    if isinstance(value, str) and len(value) > MAX_ECHO:
        return value[:MAX_ECHO] + "..."
    return value
