"""The Postgres the store tests use: `ENTRA_LAB_TEST_POSTGRES=postgresql://user:pw@host/db`
(`.ci/run` starts Debian's and sets it). Without it the Postgres tests skip, saying so, except
in CI, where they fail: CI always runs them.

Each test gets a schema of its own in that database (the URL's `options=-csearch_path=...`),
dropped afterwards, so tests in parallel never see each other's rows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

from tests.selection import in_ci

ENV = "ENTRA_LAB_TEST_POSTGRES"
SKIP_REASON = f"no Postgres to test against: set {ENV}=postgresql://... (CI does)"


def postgres_url() -> str:
    """The test database's URL; skips (fails in CI) without one."""
    url = os.environ.get(ENV, "")
    if not url:
        if in_ci():
            pytest.fail(f"CI runs the Postgres tests: {ENV} is not set (.ci/run sets it)")
        pytest.skip(SKIP_REASON)
    return url


def with_schema(url: str, schema: str) -> str:
    """`url` with `schema` first on its search_path (where the store makes its tables)."""
    return url + ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")


def schema_for(name: str) -> str:
    """A schema name for `name` (a test's id or tmp dir), the same for the same name."""
    return "t_" + hashlib.sha256(name.encode()).hexdigest()[:16]


def create_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextmanager
def fresh_schema(name: str) -> Iterator[str]:
    """A store URL on a new, empty schema of the test database, dropped afterwards."""
    url = postgres_url()
    schema = schema_for(name)
    drop_schema(url, schema)
    create_schema(url, schema)
    try:
        yield with_schema(url, schema)
    finally:
        drop_schema(url, schema)


def table_bytes(url: str) -> bytes:
    """Every row of the store's tables as the database holds them (binary COPY: a bytea
    column's bytes as they are, not hex)."""
    import psycopg

    out = bytearray()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("items", "request_log", "settings", "scenarios"):
            with conn.cursor().copy(f"COPY mock_entra_{table} TO STDOUT (FORMAT binary)") as copy:
                for data in copy:
                    out += data
    return bytes(out)
