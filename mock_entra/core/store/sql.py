"""What the two SQL backends (`sqlite`, `postgres`) say alike: items read, deleted and trimmed
to their family's cap with the same statements, written with each database's placeholder and
table name. Keys are kept as their SHA-256 only, in both."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from mock_entra.core.store.backend import CONSUMED, MAX_CLOCK_OFFSET, Limits

_TABLES = ("items", "scenarios", "settings", "request_log")
SCENARIO_VERSION = "scenario_version"  # the settings row that changes with the scenarios


def hashed(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class SqlItems:
    """The item and scenario statements of a SQL backend; a subclass names its tables'
    `PREFIX`, its `PLACEHOLDER` and gives `_conn()`, `_now`, `limits` and `set_setting`."""

    PREFIX: ClassVar[str]
    UPSERT: ClassVar[str]  # insert or replace an item: a new `seq`, the newest of its kind
    PLACEHOLDER: ClassVar[str]
    limits: Limits
    _now: Callable[[], float]
    _writes: int
    _next_maintenance: float

    def _conn(self) -> Any:
        raise NotImplementedError

    def set_setting(self, name: str, value: str) -> None:
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        tables = {
            name: self.PREFIX + name for name in ("items", "scenarios", "settings", "request_log")
        }
        return statement.format(**tables).replace("?", self.PLACEHOLDER)

    def put(
        self, kind: str, key: str, value: str, ttl: float, *, family: str | None = None
    ) -> None:
        """Keep `value` (JSON text) under `key` for `ttl` seconds. With a `family`, only the
        newest `Limits.max_family[kind]` items of that family are kept."""
        now = self._now()
        conn = self._conn()
        conn.execute(self.UPSERT, (kind, hashed(key), family, value, now + ttl))
        self._trim_family(conn, kind, family)
        self._wrote(now)

    def _wrote(self, now: float) -> None:
        self._writes += 1
        if self._writes >= self.limits.every_writes or now >= self._next_maintenance:
            self.maintain()

    def maintain(self) -> None:
        raise NotImplementedError

    def _trim_family(self, conn: Any, kind: str, family: str | None) -> None:
        """Only the newest `Limits.max_family[kind]` items of `family` are kept."""
        keep = self.limits.max_family.get(kind)
        if family is not None and keep is not None:
            conn.execute(
                self._sql(
                    "DELETE FROM {items} WHERE kind = ? AND family = ? AND seq <= (SELECT seq"
                    " FROM {items} WHERE kind = ? AND family = ? ORDER BY seq DESC LIMIT 1"
                    " OFFSET ?)"
                ),
                (kind, family, kind, family, keep),
            )

    def consume(self, kind: str, key: str) -> tuple[str, float] | None:
        """Take an item (expired or not) in one statement, leaving a tombstone under
        `consumed:<kind>`: of concurrent takers (any process, any replica), exactly one gets
        it; None when it is not there (never issued, or already taken)."""
        row = (
            self._conn()
            .execute(
                self._sql(
                    "UPDATE {items} SET kind = ? WHERE kind = ? AND key = ?"
                    " RETURNING value, expires_at"
                ),
                (CONSUMED + kind, kind, hashed(key)),
            )
            .fetchone()
        )
        return None if row is None else (row[0], row[1])

    def was_consumed(self, kind: str, key: str) -> bool:
        row = (
            self._conn()
            .execute(
                self._sql("SELECT 1 FROM {items} WHERE kind = ? AND key = ?"),
                (CONSUMED + kind, hashed(key)),
            )
            .fetchone()
        )
        return row is not None

    def count(self, kind: str) -> int:
        row = (
            self._conn()
            .execute(self._sql("SELECT count(*) FROM {items} WHERE kind = ?"), (kind,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def _drop_beyond_caps(self, conn: Any) -> None:
        """The oldest items beyond each kind's cap (tombstones too), and log entries beyond
        the log's."""
        for kind, cap in self.limits.max_items.items():
            for k in (kind, CONSUMED + kind):
                conn.execute(
                    self._sql(
                        "DELETE FROM {items} WHERE kind = ? AND seq <= (SELECT seq FROM {items}"
                        " WHERE kind = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)"
                    ),
                    (k, k, cap),
                )
        conn.execute(
            self._sql(
                "DELETE FROM {request_log} WHERE id <= (SELECT max(id) FROM {request_log}) - ?"
            ),
            (self.limits.max_log,),
        )

    def get(self, kind: str, key: str) -> str | None:
        found = self.get_with_expiry(kind, key)
        if found is None or found[1] <= self._now():
            return None
        return found[0]

    def get_with_expiry(self, kind: str, key: str) -> tuple[str, float] | None:
        """The value even when expired (until purged), with its expiry, so callers can say
        *expired*."""
        row = (
            self._conn()
            .execute(
                self._sql("SELECT value, expires_at FROM {items} WHERE kind = ? AND key = ?"),
                (kind, hashed(key)),
            )
            .fetchone()
        )
        return None if row is None else (row[0], row[1])

    def delete(self, kind: str, key: str) -> None:
        self._conn().execute(
            self._sql("DELETE FROM {items} WHERE kind = ? AND key = ?"), (kind, hashed(key))
        )

    # -- request log and settings (clock offset, active key) -------------------------------

    def requests(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(self._sql("SELECT entry FROM {request_log} ORDER BY id"))
        return [json.loads(r[0]) for r in rows.fetchall()]

    def setting(self, name: str, default: str | None = None) -> str | None:
        row = (
            self._conn()
            .execute(self._sql("SELECT value FROM {settings} WHERE name = ?"), (name,))
            .fetchone()
        )
        return default if row is None else row[0]

    def clock_offset(self) -> float:
        try:
            offset = float(self.setting("clock_offset", "0") or 0)
        except ValueError:
            return 0.0
        return offset if math.isfinite(offset) and abs(offset) <= MAX_CLOCK_OFFSET else 0.0

    def set_clock_offset(self, seconds: float) -> None:
        """Raises ValueError unless `seconds` is finite and within `MAX_CLOCK_OFFSET`."""
        seconds = float(seconds)
        if not math.isfinite(seconds) or abs(seconds) > MAX_CLOCK_OFFSET:
            raise ValueError(f"clock offset out of range: {seconds!r}")
        self.set_setting("clock_offset", repr(seconds))

    # -- fault scenarios set at run time ----------------------------------------------------

    def scenario_version(self) -> str | None:
        """Changes whenever the scenarios do (a read of one small row: every request pays to
        know whether its process's copy of the scenarios is current)."""
        return self.setting(SCENARIO_VERSION)

    def _insert_scenario(self, conn: Any, entry: str, remaining: int | None) -> int | None:
        """The new scenario's id; None when `Limits.max_scenarios` are already set (counted
        in the same statement)."""
        row = conn.execute(
            self._sql(
                "INSERT INTO {scenarios} (entry, remaining) SELECT ?, ?"
                " WHERE (SELECT count(*) FROM {scenarios}) < ? RETURNING id"
            ),
            (entry, remaining, self.limits.max_scenarios),
        ).fetchone()
        if row is None:
            return None
        self._bump_scenarios()
        return int(row[0])

    def scenarios(self) -> list[tuple[int, str, int | None]]:
        rows = self._conn().execute(
            self._sql("SELECT id, entry, remaining FROM {scenarios} ORDER BY id")
        )
        return [(int(r[0]), r[1], r[2]) for r in rows.fetchall()]

    def delete_scenarios(self, scenario_id: int | None = None) -> int:
        """Clear one scenario (or all); how many went."""
        conn = self._conn()
        if scenario_id is None:
            count = conn.execute(self._sql("DELETE FROM {scenarios}")).rowcount
        else:
            count = conn.execute(
                self._sql("DELETE FROM {scenarios} WHERE id = ?"), (scenario_id,)
            ).rowcount
        self._bump_scenarios()
        return int(count)

    def take_scenario(self, scenario_id: int) -> bool:
        """Use one of a counted scenario's remaining requests in one statement: of concurrent
        takers, only as many as remained win; False when another took the last one."""
        conn = self._conn()
        row = conn.execute(
            self._sql(
                "UPDATE {scenarios} SET remaining = remaining - 1 WHERE id = ? AND remaining > 0"
                " RETURNING remaining"
            ),
            (scenario_id,),
        ).fetchone()
        if row is None:
            return False
        if row[0] == 0:
            conn.execute(self._sql("DELETE FROM {scenarios} WHERE id = ?"), (scenario_id,))
            self._bump_scenarios()
        return True

    def _bump_scenarios(self) -> None:
        # A random value, not a counter: after `reset` a counter could come back to a value a
        # process has cached, with other scenarios behind it.
        self.set_setting(SCENARIO_VERSION, uuid.uuid4().hex)
