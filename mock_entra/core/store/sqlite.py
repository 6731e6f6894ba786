"""Codes, refresh tokens, sign-in contexts, SSO sessions, consents and the request log, in
one SQLite file in the state dir, so that every server process (and the test process that
inspects it) sees the same state.

Single use is a property of the store: `consume` is the only way a code leaves it, and it is
one atomic UPDATE, so when many threads or processes redeem one code exactly one wins.

Bounded and private, because a mock is left running in CI and on laptops:
- every write counts towards a maintenance pass (every `Limits.every_writes` writes or
  `Limits.every_seconds` of the injected clock, and at start): expired items are purged
  (after a grace period, so that callers can still say *expired* rather than *unknown*), each
  kind is capped (oldest dropped) and the request log is capped;
- a `family` caps the items of one kind that belong together at each write (the refresh
  tokens of one sign-in);
- items are keyed by the SHA-256 of their key: the file holds no live code, token or ctx;
- at most `Limits.max_scenarios` fault scenarios at a time (the admin API's);
- space is given back: the file uses SQLite's incremental auto-vacuum, and a maintenance
  pass that leaves more than `Limits.reclaim_bytes` of free pages returns them to the file
  system (a purge after a flood shrinks the file instead of keeping its high-water mark);
- the file and its WAL and shared-memory files are created 0600.
Values are text; the typed records go through `store.repos` (`store.codec` writes them).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mock_entra.core.store.backend import (
    CONSUMED,
    DEFAULT_GRACE,
    Limits,
)
from mock_entra.core.store.sql import SqlItems

_SCHEMA = """
DROP TABLE IF EXISTS kv;
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key BLOB NOT NULL,
    family TEXT,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL,
    UNIQUE (kind, key)
);
CREATE INDEX IF NOT EXISTS items_by_kind ON items (kind, seq);
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (expires_at);
CREATE INDEX IF NOT EXISTS items_by_family ON items (kind, family, seq) WHERE family IS NOT NULL;
CREATE TABLE IF NOT EXISTS request_log (id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL,
    remaining INTEGER);
"""

_FILE_MODE = 0o600
_INCREMENTAL = 2  # PRAGMA auto_vacuum: free pages stay in the file until incremental_vacuum


def _private(path: str) -> None:
    """Create the database 0600 (and make an existing one and its WAL and SHM files 0600)
    before SQLite opens it: SQLite gives its WAL and SHM files the database file's mode."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE))
    for name in (path, path + "-wal", path + "-shm"):
        try:
            if os.stat(name).st_mode & 0o777 != _FILE_MODE:
                os.chmod(name, _FILE_MODE)
        except FileNotFoundError:
            pass


class SqliteStore(SqlItems):
    """The `backend.StoreBackend` in one SQLite file: a small key-value store with expiry,
    atomic consume, caps, a request log and settings."""

    PREFIX = ""
    PLACEHOLDER = "?"
    UPSERT = (
        "INSERT OR REPLACE INTO items (kind, key, family, value, expires_at) VALUES (?, ?, ?, ?, ?)"
    )

    def __init__(
        self, path: str | Path, now: Callable[[], float], limits: Limits | None = None
    ) -> None:
        self.path = str(path)
        self._now = now
        self.limits = limits or Limits()
        self._local = threading.local()
        self._writes = 0
        self._next_maintenance = -math.inf
        _private(self.path)
        conn = self._conn()
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != _INCREMENTAL:
            # Only settable before the first table, or by a VACUUM: a new file is empty, and a
            # file an older version wrote is rewritten once.
            conn.execute(f"PRAGMA auto_vacuum={_INCREMENTAL}")
            conn.execute("VACUUM")
        conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # never reuse one across a fork
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a mock: durability across crashes is moot
            conn.execute("PRAGMA busy_timeout=30000")
            # A checkpoint every ~1 MB of WAL, and the WAL file truncated back to 1 MB after it.
            conn.execute("PRAGMA wal_autocheckpoint=256")
            conn.execute("PRAGMA journal_size_limit=1048576")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def set_clock(self, now: Callable[[], float]) -> None:
        self._now = now
        self._next_maintenance = -math.inf

    def close(self) -> None:
        """Close this thread's connection (a later call opens one again); the file stays."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    # -- key-value -------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the reads and writes inside as one write transaction (`BEGIN IMMEDIATE`: other
        writers, in this process or another, wait), for a read-modify-write that must not
        interleave with another (counting failed sign-ins)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- maintenance -----------------------------------------------------------------------

    def maintain(self) -> None:
        """Purge what expired (past its grace), then drop the oldest beyond each cap. Cheap:
        every statement walks an index."""
        now = self._now()
        self._writes = 0
        self._next_maintenance = now + self.limits.every_seconds
        conn = self._conn()
        graced = {k: g for kind, g in self.limits.grace.items() for k in (kind, CONSUMED + kind)}
        marks = ",".join("?" * len(graced))
        conn.execute(
            f"DELETE FROM items WHERE expires_at < ? AND kind NOT IN ({marks})",
            (now - DEFAULT_GRACE, *graced),
        )
        for kind, grace in graced.items():
            conn.execute("DELETE FROM items WHERE kind = ? AND expires_at < ?", (kind, now - grace))
        self._drop_beyond_caps(conn)
        self._reclaim(self.limits.reclaim_bytes)

    def _reclaim(self, keep_bytes: int) -> None:
        """Give free pages beyond `keep_bytes` back to the file system. Pages freed by purges
        are reused by later writes, so a little slack saves churn; more than that is what a
        flood left behind. In WAL mode the file shrinks when the checkpoint that follows
        copies the vacuum in (a passive one: it never waits for readers)."""
        conn = self._conn()
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        if free * page <= keep_bytes:
            return
        # executescript: `execute` steps a statement without result columns only once, and
        # incremental_vacuum frees one page per step.
        pages = free - keep_bytes // page
        conn.executescript(f"PRAGMA incremental_vacuum({pages}); PRAGMA wal_checkpoint(PASSIVE);")

    # -- request log -----------------------------------------------------------------------

    def log(self, entry: dict[str, Any]) -> None:
        self._conn().execute("INSERT INTO request_log (entry) VALUES (?)", (json.dumps(entry),))
        self._wrote(self._now())

    # -- settings (clock offset, active key) -----------------------------------------------

    def set_setting(self, name: str, value: str) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value)
        )

    # -- fault scenarios (`faults`): rows, and a version that changes with every change ----

    def add_scenario(self, entry: str, remaining: int | None) -> int | None:
        """The new scenario's id; None when `Limits.max_scenarios` are already set (checked
        in the same statement, so racing processes cannot pass the cap together)."""
        return self._insert_scenario(self._conn(), entry, remaining)

    def reset(self) -> None:
        """Forget everything: codes, tokens, sessions, consents, the log, the clock offset,
        the scenarios set at run time."""
        conn = self._conn()
        conn.execute("DELETE FROM items")
        conn.execute("DELETE FROM request_log")
        conn.execute("DELETE FROM scenarios")
        conn.execute("DELETE FROM settings")
        self._bump_scenarios()
        self._reclaim(self.limits.reclaim_bytes)
