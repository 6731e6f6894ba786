"""The contract every store backend keeps (`mock_entra.core.store.backend.StoreBackend`), run
against each backend: SQLite (a file in the state dir) and Postgres (a database replicas share;
skipped, saying why, where no test database is given: `tests/mock_entra/postgres.py`). A new
backend joins by adding a `Backend` to `BACKENDS`; nothing else here changes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mock_entra.core.clock import FixedClock
from mock_entra.core.store.backend import MAX_CLOCK_OFFSET, Limits, StoreBackend
from mock_entra.core.store.sqlite import SqliteStore

from . import postgres


@dataclass(frozen=True)
class Backend:
    """How a test gets a fresh place for a backend's state (a dir, a database schema), opens
    a backend there, and reads everything the place holds as stored."""

    place: Callable[[Path, str], contextlib.AbstractContextManager[Any]]  # (tmp, test id)
    open: Callable[[Any, FixedClock, Limits], StoreBackend]
    stored_bytes: Callable[[Any], bytes]


@contextlib.contextmanager
def _directory(tmp: Path, _: str) -> Iterator[Path]:
    yield tmp


def _sqlite(where: Path, clock: FixedClock, limits: Limits) -> StoreBackend:
    return SqliteStore(where / "store.sqlite3", clock.now, limits)


def _files(where: Path) -> bytes:
    return b"".join(p.read_bytes() for p in where.iterdir() if p.is_file())


def _postgres(url: str, clock: FixedClock, limits: Limits) -> StoreBackend:
    from mock_entra.core.store.postgres import PostgresStore

    return PostgresStore(url, clock.now, limits)


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend(_directory, _sqlite, _files),
    "postgres": Backend(
        lambda _, test: postgres.fresh_schema(test), _postgres, postgres.table_bytes
    ),
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_700_000_000.0)


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
        for name in sorted(BACKENDS)
    ]
)
def kind(request) -> Backend:
    return BACKENDS[request.param]


@pytest.fixture
def place(request, kind: Backend, tmp_path: Path) -> Iterator[Any]:
    """Where this test's backends keep their state (a fresh one for each test)."""
    with kind.place(tmp_path, request.node.nodeid) as where:
        yield where


@pytest.fixture
def make(kind: Backend, place: Any, clock: FixedClock) -> Iterator[Callable[..., StoreBackend]]:
    """A new backend of the parametrised kind on this test's state, with the limits given
    (closed after the test)."""
    made: list[StoreBackend] = []

    def build(limits: Limits | None = None) -> StoreBackend:
        made.append(kind.open(place, clock, limits or Limits()))
        return made[-1]

    yield build
    for backend in made:
        backend.close()


@pytest.fixture
def backend(make) -> StoreBackend:
    return make()


def test_an_item_is_read_back_until_it_expires(backend, clock):
    backend.put("code", "k1", '{"a":1}', ttl=60)
    assert backend.get("code", "k1") == '{"a":1}'
    assert backend.get("code", "other") is None
    assert backend.get("refresh_token", "k1") is None  # kinds are apart
    clock.advance(60)
    assert backend.get("code", "k1") is None
    assert backend.get_with_expiry("code", "k1") == ('{"a":1}', 1_700_000_060.0)


def test_put_replaces_and_delete_removes(backend):
    backend.put("code", "k", "one", ttl=60)
    backend.put("code", "k", "two", ttl=60)
    assert backend.get("code", "k") == "two"
    assert backend.count("code") == 1
    backend.delete("code", "k")
    assert backend.get_with_expiry("code", "k") is None


def test_consume_takes_once_and_leaves_a_tombstone(backend, clock):
    backend.put("code", "k", "v", ttl=60)
    clock.advance(120)  # expired items are taken too: the caller says *expired*
    assert backend.consume("code", "k") == ("v", 1_700_000_060.0)
    assert backend.consume("code", "k") is None
    assert backend.get_with_expiry("code", "k") is None
    assert backend.was_consumed("code", "k")
    assert not backend.was_consumed("code", "never")
    assert backend.consume("code", "never") is None


def test_one_of_many_threads_consumes_an_item(backend):
    backend.put("code", "k", "v", ttl=60)
    won: list[object] = []
    start = threading.Barrier(8)

    def take() -> None:
        start.wait()
        won.append(backend.consume("code", "k"))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [w for w in won if w is not None] == [("v", pytest.approx(1_700_000_060.0))]


def test_a_family_keeps_only_its_newest(make):
    backend = make(Limits(max_family={"refresh_token": 2}))
    for n in range(5):
        backend.put("refresh_token", f"t{n}", str(n), ttl=60, family="f1")
    backend.put("refresh_token", "other", "x", ttl=60, family="f2")
    assert [backend.get("refresh_token", f"t{n}") for n in range(5)] == [None, None, None, "3", "4"]
    assert backend.get("refresh_token", "other") == "x"


def test_maintain_purges_after_the_grace_and_caps_each_kind(make, clock):
    backend = make(Limits(max_items={"signin_context": 3}, grace={"refresh_token": 7200.0}))
    backend.put("code", "short", "v", ttl=10)
    backend.put("refresh_token", "long", "v", ttl=10)
    for n in range(6):
        backend.put("signin_context", f"c{n}", "v", ttl=10_000)
    clock.advance(10 + 3600 + 1)  # past the default grace, within the refresh token's
    backend.maintain()
    assert backend.get_with_expiry("code", "short") is None
    assert backend.get_with_expiry("refresh_token", "long") is not None
    assert backend.count("signin_context") == 3
    assert backend.get("signin_context", "c5") == "v"  # the newest kept
    clock.advance(7200)
    backend.maintain()
    assert backend.get_with_expiry("refresh_token", "long") is None


def test_keys_are_not_stored_in_the_clear(backend, kind, place):
    secret = "1.AXoA-a-code-nobody-may-read-from-the-file"
    backend.put("code", secret, secret[::-1], ttl=60)
    stored = kind.stored_bytes(place)
    assert secret[::-1].encode() in stored  # what is stored is read: the check can fail
    assert secret.encode() not in stored


def test_a_transaction_is_all_or_nothing(backend):
    backend.put("lockout", "u", "1", ttl=60)
    with pytest.raises(RuntimeError), backend.transaction():
        backend.put("lockout", "u", "2", ttl=60)
        raise RuntimeError
    assert backend.get("lockout", "u") == "1"
    with backend.transaction():
        backend.put("lockout", "u", "3", ttl=60)
    assert backend.get("lockout", "u") == "3"


def test_the_request_log_keeps_its_newest(make):
    backend = make(Limits(max_log=3, every_writes=1))
    for n in range(6):
        backend.log({"n": n, "path": "/x"})
    assert backend.requests() == [
        {"n": 3, "path": "/x"},
        {"n": 4, "path": "/x"},
        {"n": 5, "path": "/x"},
    ]


def test_settings_and_the_clock_offset(backend):
    assert backend.setting("active_kid") is None
    assert backend.setting("active_kid", "d") == "d"
    backend.set_setting("active_kid", "k2")
    assert backend.setting("active_kid") == "k2"
    assert backend.clock_offset() == 0.0
    backend.set_clock_offset(3600.0)
    assert backend.clock_offset() == 3600.0
    for wrong in (float("nan"), float("inf"), MAX_CLOCK_OFFSET + 1):
        with pytest.raises(ValueError):
            backend.set_clock_offset(wrong)
    assert backend.clock_offset() == 3600.0


def test_scenarios_are_capped_counted_and_versioned(make):
    backend = make(Limits(max_scenarios=2))
    version = backend.scenario_version()
    first = backend.add_scenario('{"name":"a"}', 1)
    assert first is not None and backend.scenario_version() != version
    second = backend.add_scenario('{"name":"b"}', None)
    assert second is not None
    assert backend.add_scenario('{"name":"c"}', None) is None  # the cap
    assert backend.scenarios() == [(first, '{"name":"a"}', 1), (second, '{"name":"b"}', None)]
    version = backend.scenario_version()
    assert backend.take_scenario(first)  # its last use: it goes
    assert not backend.take_scenario(first)
    assert backend.scenario_version() != version
    assert [row[0] for row in backend.scenarios()] == [second]
    assert backend.delete_scenarios(second) == 1
    assert backend.delete_scenarios() == 0


def test_reset_forgets_everything(backend):
    backend.put("code", "k", "v", ttl=60)
    backend.log({"path": "/"})
    backend.set_clock_offset(60.0)
    backend.add_scenario("{}", None)
    backend.reset()
    assert backend.get_with_expiry("code", "k") is None
    assert backend.requests() == []
    assert backend.clock_offset() == 0.0
    assert backend.scenarios() == []


def test_processes_of_one_state_share_it(make):
    """Two handles on one state (as two server processes have) see each other's writes."""
    one, two = make(), make()
    one.put("code", "k", "v", ttl=60)
    assert two.consume("code", "k") == ("v", pytest.approx(1_700_000_060.0))
    assert one.was_consumed("code", "k")
