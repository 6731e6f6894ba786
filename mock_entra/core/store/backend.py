"""What the mock needs from a store backend: the `StoreBackend` protocol, and the `Limits` every
backend keeps. `sqlite.SqliteStore` (a file in the state dir, the default) and
`postgres.PostgresStore` (a database replicas share) implement it; `location.StoreLocation`
chooses one by URL, for `runtime.open_runtime` and the server's handle. Another goes next to
them, passes `tests/mock_entra/test_store_backend.py` (a factory in its `BACKENDS`) and gets a
scheme in `location`: no caller changes, since callers hold a `StoreBackend` (the typed
records go through `repos.Repo`).

The contract, as `SqliteStore` keeps it and the tests check it:
- items are text values under (kind, key), with an expiry on the backend's clock; `get`
  hides an expired item, `get_with_expiry` shows it (until purged) so callers can say
  *expired* rather than *unknown*;
- `consume` takes an item once, atomically across threads and processes, and leaves a
  tombstone that `was_consumed` sees (a code redeemed twice is AADSTS54005, not "unknown");
- bounded: `maintain` purges what expired past its grace and drops the oldest beyond
  `Limits.max_items`; a `family` caps the items that belong together at each write;
- keys are never stored in the clear (a leaked file holds no live code or token);
- `transaction` makes a read-modify-write atomic against every other writer;
- the request log, settings (clock offset, test controls) and the fault scenarios set at
  run time are shared by every process serving one state dir.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from mock_entra.core.config import MAX_SECONDS

CONSUMED = "consumed:"  # prefix of the kind a consumed item is moved to (the tombstone)
DEFAULT_GRACE = 3600.0
# Eleven years either way: the longest lifetime a config may set (`config.MAX_SECONDS`, ten
# years) and a year to step past it, enough for any expiry test. The mock's clock stays
# within that of the real one, so never before 1970 (a century back, allowed before, gave
# tokens a negative `iat`) and never near the year 9999 that Entra's timestamps can write.
MAX_CLOCK_OFFSET = float(MAX_SECONDS + 366 * 24 * 3600)


class StoreError(OSError):
    """The store cannot be opened (a database that does not answer, refuses the login, or was
    written by a newer mock): `mock-entra serve` prints it as one line and exits 2."""

    def __init__(self, where: str, error: BaseException | str) -> None:
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        super().__init__(f"store {where} is not usable: {cause}")


def shown_url(url: str) -> str:
    """A store URL as it may be shown (`info`, errors, logs): no password, no query (which
    may carry one, `?password=`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = (f"{parts.username}@" if parts.username else "") + host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Limits:
    """How big the store may grow. Caps on a kind apply to its tombstones too."""

    max_items: Mapping[str, int] = field(default_factory=dict)  # per kind, oldest dropped
    max_family: Mapping[str, int] = field(default_factory=dict)  # per kind and family
    grace: Mapping[str, float] = field(default_factory=dict)  # per kind, else DEFAULT_GRACE
    max_log: int = 2000  # request-log entries kept (the newest)
    every_writes: int = 500
    every_seconds: float = 60.0
    max_scenarios: int = 64  # fault scenarios set at run time, at once
    reclaim_bytes: int = 1024 * 1024  # free pages kept for reuse before the file is shrunk


class StoreBackend(Protocol):
    """Where one mock's state lives between requests (every process of one state dir shares
    it). Values are text; `repos.Repo` turns them into typed records."""

    limits: Limits

    def set_clock(self, now: Callable[[], float]) -> None: ...

    # -- items ------------------------------------------------------------------------------

    def put(
        self, kind: str, key: str, value: str, ttl: float, *, family: str | None = None
    ) -> None:
        """Keep `value` under `key` for `ttl` seconds; with a `family`, only the newest
        `Limits.max_family[kind]` items of that family are kept."""

    def get(self, kind: str, key: str) -> str | None:
        """The value, unless missing or expired."""

    def get_with_expiry(self, kind: str, key: str) -> tuple[str, float] | None:
        """The value even when expired (until purged), with its expiry."""

    def delete(self, kind: str, key: str) -> None: ...

    def consume(self, kind: str, key: str) -> tuple[str, float] | None:
        """Take the item once (expired or not), atomically, leaving a tombstone; None when it
        is not there (never issued, purged, or already taken)."""

    def was_consumed(self, kind: str, key: str) -> bool: ...

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """The reads and writes inside as one transaction that no other writer interleaves."""

    def count(self, kind: str) -> int: ...

    def maintain(self) -> None:
        """Purge what expired past its grace, then drop the oldest beyond each cap."""

    # -- request log ------------------------------------------------------------------------

    def log(self, entry: dict[str, Any]) -> None: ...

    def requests(self) -> list[dict[str, Any]]: ...

    # -- settings (clock offset, active key, token lifetime) --------------------------------

    def setting(self, name: str, default: str | None = None) -> str | None: ...

    def set_setting(self, name: str, value: str) -> None: ...

    def clock_offset(self) -> float: ...

    def set_clock_offset(self, seconds: float) -> None:
        """Raises ValueError unless `seconds` is finite and within `MAX_CLOCK_OFFSET`."""

    # -- fault scenarios set at run time ----------------------------------------------------

    def scenario_version(self) -> str | None:
        """Changes whenever a scenario is added, cleared or used up."""

    def add_scenario(self, entry: str, remaining: int | None) -> int | None:
        """The new scenario's id; None when `Limits.max_scenarios` are already set."""

    def scenarios(self) -> list[tuple[int, str, int | None]]: ...

    def delete_scenarios(self, scenario_id: int | None = None) -> int:
        """Clear one scenario (or all); how many went."""

    def take_scenario(self, scenario_id: int) -> bool:
        """Use one of a counted scenario's remaining requests, atomically; False when none
        was left."""

    def reset(self) -> None:
        """Forget everything: items, the log, the settings, the scenarios."""

    def close(self) -> None:
        """Let go of this process's connections or files (a later call opens them again)."""
