"""Process helpers for the entra_lab tests: /proc process trees, reading a child's
output line by line with a deadline, and stopping what a test started (no psutil here)."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of `pid` from /proc, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: split after the last ")".
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def descendants(root: int) -> set[int]:
    """Every live process below `root` in the process tree (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                children.setdefault(stat[1], []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie (an exited process waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - the pid was reused by another user
        return True
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def group_running(pgid: int) -> list[int]:
    """The non-zombie processes whose process group is `pgid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[2] == pgid and stat[0] != "Z":
                pids.append(int(entry))
    return pids


def pgid_of(pid: int) -> int | None:
    """The process group of `pid`, or None if it is gone."""
    stat = _stat(pid)
    return None if stat is None else stat[2]


def wait_until_gone(pids: set[int], timeout: float) -> set[int]:
    """Wait up to `timeout` s for every pid to stop running; return those still running."""
    deadline = time.monotonic() + timeout
    alive = {p for p in pids if running(p)}
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = {p for p in alive if running(p)}
    return alive


class LineReader:
    """Reads a child's text stream on a thread so a test can wait for a line with a deadline."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]  # a text-mode pipe
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, needle: str, timeout: float) -> str:
        """The first line containing `needle`; AssertionError with everything read so far if
        the stream ends or `timeout` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(0.0, remaining))
            except queue.Empty:
                line = None
                remaining = -1
            if line is None:
                why = "timed out" if remaining <= 0 else "stream ended"
                raise AssertionError(f"{why} waiting for {needle!r}; output:\n" + self.text())
            self.lines.append(line)
            if needle in line:
                return line

    def rest(self, timeout: float = 5.0) -> str:
        """Everything until the stream ends (after the process exited)."""
        self._thread.join(timeout)
        while not self._queue.empty():
            line = self._queue.get_nowait()
            if line is not None:
                self.lines.append(line)
        return self.text()

    def text(self) -> str:
        """All lines read so far."""
        return "\n".join(self.lines)


def kill_tree(process: subprocess.Popen[str], extra: Iterable[int] = ()) -> None:
    """Last-resort cleanup for a test that failed half-way: SIGKILL the process, its process
    group if it leads one, and `extra` pids."""
    targets = {process.pid, *descendants(process.pid), *extra}
    for pid in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
