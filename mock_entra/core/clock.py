"""Time as the mock sees it, injectable so tests can expire codes and tokens."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class OffsetClock:
    """Wall clock plus an offset kept in the shared store, so every server process and the
    test process that moves it agree on the time."""

    def __init__(self, store: OffsetStore) -> None:
        self._store = store

    def now(self) -> float:
        return time.time() + self._store.clock_offset()

    def advance(self, seconds: float) -> None:
        self._store.set_clock_offset(self._store.clock_offset() + seconds)


class OffsetStore(Protocol):
    def clock_offset(self) -> float: ...

    def set_clock_offset(self, seconds: float) -> None: ...
