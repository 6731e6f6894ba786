"""The store in a Postgres database (`mock-entra serve --store postgresql://...`), so that
replicas on several machines share sign-ins, SSO sessions, single-use codes, the clock, the
request log and the scenarios. The same contract as `sqlite.SqliteStore` (`backend`), kept the
same way: statements that are atomic on their own, and an advisory lock where SQLite's single
writer made a read-modify-write atomic.

- Single use: `consume` is one `UPDATE ... WHERE kind = %s ... RETURNING`: of two replicas
  redeeming one code at once, the second waits on the row's lock, then finds it moved to the
  tombstone kind and takes nothing (READ COMMITTED re-checks the WHERE on the new row).
- `transaction` (smart lockout's count), the scenario cap and the maintenance pass take a
  transaction-scoped advisory lock, keyed by the schema, so that they never interleave across
  replicas; a replica that finds the maintenance lock taken skips its pass (another is
  purging).
- The tables are named `mock_entra_*` in the first schema of the connection's search_path
  (`?options=-csearch_path%3Dname` in the URL keeps several mocks in one database), created
  and migrated at start under a lock, with their version in `mock_entra_schema`.
- Keys are stored as their SHA-256, as in SQLite: the database holds no live code or token.

One connection per thread and process (never used across a fork: psycopg does not close an
inherited connection when it is collected, so the parent's stays usable), in autocommit mode.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

from mock_entra.core.store.backend import (
    CONSUMED,
    DEFAULT_GRACE,
    Limits,
    StoreError,
    shown_url,
)
from mock_entra.core.store.sql import SqlItems

# Each entry migrates the schema from the version before it; the tables' version is their
# count. Append, never edit: a database written by an earlier mock is brought forward.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE mock_entra_items (
        seq BIGSERIAL PRIMARY KEY,
        kind TEXT NOT NULL,
        key BYTEA NOT NULL,
        family TEXT,
        value TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        UNIQUE (kind, key)
    );
    CREATE INDEX mock_entra_items_by_kind ON mock_entra_items (kind, seq);
    CREATE INDEX mock_entra_items_by_expiry ON mock_entra_items (expires_at);
    CREATE INDEX mock_entra_items_by_family ON mock_entra_items (kind, family, seq)
        WHERE family IS NOT NULL;
    CREATE TABLE mock_entra_request_log (id BIGSERIAL PRIMARY KEY, entry TEXT NOT NULL);
    CREATE TABLE mock_entra_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE mock_entra_scenarios (
        id BIGSERIAL PRIMARY KEY, entry TEXT NOT NULL, remaining INTEGER
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# Advisory locks, one per purpose, per schema (two mocks in one database do not wait on each
# other): `hashtext(current_schema() || name)`.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || %s))"
_TRY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || %s))"
_CONNECT_TIMEOUT = 10  # seconds: a replica that cannot reach its store says so, soon


class PostgresStore(SqlItems):
    """The `backend.StoreBackend` in a Postgres database: items with expiry, atomic consume,
    caps, a request log, settings and scenarios, shared by every replica that opens it."""

    PREFIX = "mock_entra_"
    PLACEHOLDER = "%s"
    # A new `seq` on replace too: the item is then the newest of its kind and family, as
    # SQLite's INSERT OR REPLACE makes it.
    UPSERT = (
        "INSERT INTO mock_entra_items (kind, key, family, value, expires_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (kind, key) DO UPDATE SET"
        " seq = DEFAULT, family = EXCLUDED.family, value = EXCLUDED.value,"
        " expires_at = EXCLUDED.expires_at"
    )

    def __init__(self, url: str, now: Callable[[], float], limits: Limits | None = None) -> None:
        self.url = url
        self._now = now
        self.limits = limits or Limits()
        self._local = threading.local()
        # Every thread's connection, so that `close` reaches them all and a thread that ended
        # does not leave its connection open until collected.
        self._opened: list[tuple[threading.Thread, int, psycopg.Connection]] = []
        self._opened_lock = threading.Lock()
        self._writes = 0
        self._next_maintenance = -math.inf
        try:
            self._migrate()
        except psycopg.Error as error:
            raise StoreError(shown_url(url), error) from error

    def _conn(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or self._local.pid != os.getpid():
            # A new one: the first in this thread, after a fork, or after the server went away.
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT)
            self._local.conn = conn
            self._local.pid = os.getpid()
            with self._opened_lock:
                self._close_where(lambda thread, pid: not thread.is_alive() or pid != os.getpid())
                self._opened.append((threading.current_thread(), os.getpid(), conn))
        return conn

    def _close_where(self, which: Callable[[threading.Thread, int], bool]) -> None:
        """Close this process's connections that `which` picks; forget those of other
        processes (a parent's, inherited over a fork: the parent still uses it)."""
        kept = []
        for thread, pid, conn in self._opened:
            if not which(thread, pid):
                kept.append((thread, pid, conn))
            elif pid == os.getpid():
                conn.close()
        self._opened = kept

    def close(self) -> None:
        """Close this process's connections (a later call opens one again)."""
        with self._opened_lock:
            self._close_where(lambda thread, pid: True)

    def _migrate(self) -> None:
        """Create or bring forward the tables, once, whichever replica starts first."""
        conn = self._conn()
        with conn.transaction():
            conn.execute(_LOCK, ("schema",))
            conn.execute("CREATE TABLE IF NOT EXISTS mock_entra_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM mock_entra_schema").fetchone()
            version = (row[0] if row else None) or 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    shown_url(self.url),
                    f"its schema is version {version}, written by a newer mock-entra "
                    f"(this one knows {SCHEMA_VERSION})",
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                conn.execute(MIGRATIONS[number - 1])
                conn.execute("INSERT INTO mock_entra_schema (version) VALUES (%s)", (number,))

    def set_clock(self, now: Callable[[], float]) -> None:
        self._now = now
        self._next_maintenance = -math.inf

    # -- items ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction, serialised with every other `transaction` of this store (in any
        replica) by an advisory lock: READ COMMITTED alone would let two read-modify-writes
        (two wrong passwords at once) interleave and count one."""
        conn = self._conn()
        with conn.transaction():
            conn.execute(_LOCK, ("transaction",))
            yield

    # -- maintenance ------------------------------------------------------------------------

    def maintain(self) -> None:
        """Purge what expired (past its grace), then drop the oldest beyond each cap, in one
        transaction; skipped when another replica's pass holds the lock (two passes deleting
        the same rows in another order could deadlock, and one is enough)."""
        now = self._now()
        self._writes = 0
        self._next_maintenance = now + self.limits.every_seconds
        conn = self._conn()
        graced = {k: g for kind, g in self.limits.grace.items() for k in (kind, CONSUMED + kind)}
        with conn.transaction():
            row = conn.execute(_TRY_LOCK, ("maintain",)).fetchone()
            if not (row and row[0]):
                return
            conn.execute(
                "DELETE FROM mock_entra_items WHERE expires_at < %s AND NOT (kind = ANY(%s))",
                (now - DEFAULT_GRACE, list(graced)),
            )
            for kind, grace in graced.items():
                conn.execute(
                    "DELETE FROM mock_entra_items WHERE kind = %s AND expires_at < %s",
                    (kind, now - grace),
                )
            self._drop_beyond_caps(conn)
        # The space freed is reused by later writes; autovacuum returns it (no file to shrink).

    # -- request log ------------------------------------------------------------------------

    def log(self, entry: dict[str, Any]) -> None:
        self._conn().execute(
            "INSERT INTO mock_entra_request_log (entry) VALUES (%s)", (json.dumps(entry),)
        )
        self._wrote(self._now())

    # -- settings ---------------------------------------------------------------------------

    def set_setting(self, name: str, value: str) -> None:
        self._conn().execute(
            "INSERT INTO mock_entra_settings (name, value) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            (name, value),
        )

    # -- fault scenarios --------------------------------------------------------------------

    def add_scenario(self, entry: str, remaining: int | None) -> int | None:
        """The new scenario's id; None at the cap (counted under a lock: two replicas adding
        at once cannot both pass it)."""
        conn = self._conn()
        with conn.transaction():
            conn.execute(_LOCK, ("scenarios",))
            return self._insert_scenario(conn, entry, remaining)

    def reset(self) -> None:
        """Forget everything, in one transaction (a replica never sees half a reset)."""
        conn = self._conn()
        with conn.transaction():
            for table in ("items", "request_log", "scenarios", "settings"):
                conn.execute(f"DELETE FROM mock_entra_{table}")
            self._bump_scenarios()
