"""Codes, refresh tokens, sign-in contexts, SSO sessions, consents and the request log, in
one SQLite file in the state dir, so that every server process (and the test process that
inspects it) sees the same state.

Single use is a property of the store: `consume` is the only way a code leaves it, and it is
one atomic UPDATE, so when many threads or processes redeem one code exactly one wins.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS request_log (id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

CONSUMED = "consumed:"  # prefix of the kind a consumed item is moved to (the tombstone)


class Store:
    """A small key-value store with expiry, atomic consume, a request log and settings."""

    def __init__(self, path: str | Path, now: Callable[[], float]) -> None:
        self.path = str(path)
        self._now = now
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # never reuse one across a fork
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a mock: durability across crashes is moot
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def set_clock(self, now: Callable[[], float]) -> None:
        self._now = now

    # -- key-value -------------------------------------------------------------------------

    def put(self, kind: str, key: str, value: dict[str, Any], ttl: float) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO kv (kind, key, value, expires_at) VALUES (?, ?, ?, ?)",
            (kind, key, json.dumps(value), self._now() + ttl),
        )

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = (
            self._conn()
            .execute("SELECT value, expires_at FROM kv WHERE kind = ? AND key = ?", (kind, key))
            .fetchone()
        )
        if row is None or row[1] <= self._now():
            return None
        return json.loads(row[0])

    def get_with_expiry(self, kind: str, key: str) -> tuple[dict[str, Any], float] | None:
        """The value even when expired, with its expiry, so callers can say *expired*."""
        row = (
            self._conn()
            .execute("SELECT value, expires_at FROM kv WHERE kind = ? AND key = ?", (kind, key))
            .fetchone()
        )
        return None if row is None else (json.loads(row[0]), row[1])

    def delete(self, kind: str, key: str) -> None:
        self._conn().execute("DELETE FROM kv WHERE kind = ? AND key = ?", (kind, key))

    def consume(self, kind: str, key: str) -> tuple[dict[str, Any], float] | None:
        """Atomically take an item (expired or not) and leave a tombstone under
        `consumed:<kind>`; None when it is not there (never issued, or already taken)."""
        row = (
            self._conn()
            .execute(
                "UPDATE kv SET kind = ? WHERE kind = ? AND key = ? RETURNING value, expires_at",
                (CONSUMED + kind, kind, key),
            )
            .fetchone()
        )
        return None if row is None else (json.loads(row[0]), row[1])

    def was_consumed(self, kind: str, key: str) -> bool:
        row = (
            self._conn()
            .execute("SELECT 1 FROM kv WHERE kind = ? AND key = ?", (CONSUMED + kind, key))
            .fetchone()
        )
        return row is not None

    def purge_expired(self, grace: float = 3600) -> None:
        self._conn().execute("DELETE FROM kv WHERE expires_at < ?", (self._now() - grace,))

    # -- request log -----------------------------------------------------------------------

    def log(self, entry: dict[str, Any]) -> None:
        self._conn().execute("INSERT INTO request_log (entry) VALUES (?)", (json.dumps(entry),))

    def requests(self) -> list[dict[str, Any]]:
        rows = self._conn().execute("SELECT entry FROM request_log ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- settings (clock offset, active key) -----------------------------------------------

    def setting(self, name: str, default: str | None = None) -> str | None:
        row = self._conn().execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return default if row is None else row[0]

    def set_setting(self, name: str, value: str) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value)
        )

    def clock_offset(self) -> float:
        return float(self.setting("clock_offset", "0") or 0)

    def set_clock_offset(self, seconds: float) -> None:
        self.set_setting("clock_offset", repr(float(seconds)))

    def reset(self) -> None:
        """Forget everything: codes, tokens, sessions, consents, the log, the clock offset."""
        conn = self._conn()
        conn.execute("DELETE FROM kv")
        conn.execute("DELETE FROM request_log")
        conn.execute("DELETE FROM settings")
