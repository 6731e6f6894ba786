"""Run a coroutine from a synchronous test.

The session's Playwright driver (sync API) keeps an event loop running in the main thread for
the whole run, and `asyncio.run` refuses to start where a loop is running: the coroutine gets
a fresh loop in a thread of its own instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)` on a new loop in a worker thread; returns its result."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-loop") as pool:
        return pool.submit(asyncio.run, coroutine).result()
