"""Processes, as the server, the launcher, the suites' stack, the benchmarks and the tests
start and stop them (standard library only, so that each of them may import it)."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # prctl(2), <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    # Looked up at import, in the parent: a dlopen in a freshly forked child of a process
    # with threads (granian's watchers) can deadlock.
    if sys.platform != "linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return None


PRCTL = _load_prctl()  # Linux's prctl(2), or None


def terminate(process: subprocess.Popen, signum: int = signal.SIGTERM, grace: float = 15.0) -> None:
    """Stop `process` with `signum`, then SIGKILL if it has not ended `grace` seconds later."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
