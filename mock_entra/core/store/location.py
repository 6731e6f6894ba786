"""Where a mock's store lives, chosen by `mock-entra serve --store URL` (env
`MOCK_ENTRA_STORE`): nothing given, the SQLite file in the state dir (the embedded default);
`postgresql://user:password@host:port/dbname` (or `postgres://`), a Postgres database that
replicas share (the `postgres` extra: psycopg, imported only then).

The one place a backend is chosen: the runtime (`runtime.open_runtime`) and the server's
handle (`server.MockEntra`) open their store through `StoreLocation.open`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mock_entra.core.store.backend import Limits, StoreBackend, StoreError, shown_url

POSTGRES_SCHEMES = ("postgresql", "postgres")


class StoreUrlError(ValueError):
    """A --store value that names no store the mock can use (a usage error, exit 2)."""


@dataclass(frozen=True)
class StoreLocation:
    """A store URL, checked; None: the SQLite file in the state dir."""

    url: str | None = None

    @classmethod
    def parse(cls, value: str | None) -> StoreLocation:
        if not value:
            return cls(None)
        try:
            parts = urlsplit(value)
        except ValueError as error:  # an unclosed IPv6 bracket, say
            raise StoreUrlError(f"--store: {error}") from error
        if parts.scheme not in POSTGRES_SCHEMES:
            raise StoreUrlError(
                "--store takes a postgresql://user:password@host:port/dbname URL (or nothing: "
                "the SQLite file in the state dir)"
            )
        try:
            parts.port  # noqa: B018  # raises on a port that is no number
        except ValueError as error:
            raise StoreUrlError(f"--store: {error}") from error
        return cls(value)

    @property
    def shared(self) -> bool:
        """Whether the store is outside the state dir (replicas may share it)."""
        return self.url is not None

    def shown(self, sqlite_file: Path) -> str:
        """What `info` says: the SQLite file's path, or the URL without its password."""
        return str(sqlite_file) if self.url is None else shown_url(self.url)

    def open(
        self, sqlite_file: Path, now: Callable[[], float], limits: Limits | None = None
    ) -> StoreBackend:
        """The backend; `StoreError` when a database does not answer (SQLite's errors are the
        state dir's, raised as they are)."""
        if self.url is None:
            from mock_entra.core.store.sqlite import SqliteStore

            return SqliteStore(sqlite_file, now, limits)
        try:
            from mock_entra.core.store.postgres import PostgresStore
        except ImportError as error:  # psycopg is the `postgres` extra's
            raise StoreError(
                shown_url(self.url),
                "psycopg is not installed: pip install 'entra-lab[postgres]'",
            ) from error
        return PostgresStore(self.url, now, limits)
