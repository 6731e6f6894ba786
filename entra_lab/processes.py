"""Child services, each in its own process group, and stopping them with nothing left behind.

Each child gets a new session (so a new process group whose id is its pid): Ctrl-C in the
terminal then reaches only the launcher, which decides how to shut down, and whatever a
child leaves behind (a gunicorn worker, any grandchild) is found and ended through its group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mock_entra.processes import PR_SET_PDEATHSIG, PRCTL

# gunicorn's master reads SIGINT as "quick shutdown"; SIGTERM would wait out the browser's
# keep-alive connections for up to graceful_timeout (10 s in client-app).
STOP_SIGNAL = signal.SIGINT
STOP_GRACE_SECONDS = 5.0
# After STOP_SIGNAL to a whole group, how long before SIGKILL.
KILL_AFTER_SECONDS = 1.0
# A service's log is rotated at this size, one older file kept (`mock-entra.log.1`): a demo
# left running under a flood of failing requests once grew its log by ~116 MB in 10 s.
MAX_LOG_BYTES = 8 * 1024 * 1024


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux only: the kernel sends SIGTERM to the child if the launcher dies (even by
    SIGKILL), so a killed launcher does not leave servers running in the background."""
    if PRCTL is not None:
        PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One started service: its process (a process-group leader) and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    copier: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        max_log_bytes: int = MAX_LOG_BYTES,
    ) -> Child:
        """Start `argv` in a new session with stdout and stderr going to `log_path`, rotated
        at `max_log_bytes` (one older file kept)."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Safe with threads too: the child only makes one prctl call, resolved above.
            preexec_fn=_die_with_parent,
        )
        assert process.stdout is not None
        copier = threading.Thread(
            target=_copy_rotating,
            args=(process.stdout, log_path, max_log_bytes),
            name=f"{name}-log",
            daemon=True,
        )
        copier.start()
        return cls(name, process, log_path, copier)

    @property
    def pid(self) -> int:
        """The child's pid, which is also its process-group id."""
        return self.process.pid

    def poll(self) -> int | None:
        """The exit code, or None while the child runs."""
        return self.process.poll()

    def signal_group(self, signum: int) -> None:
        """Send `signum` to every process in the child's group (no error if it is gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def group_alive(self) -> bool:
        """Whether any process of the child's group still runs (its workers included).

        An exited process that its parent has not reaped yet (a zombie) counts as gone: it
        holds no port, file or memory any more. An orphaned worker's zombie waits for the
        system's init to reap it, which some container inits do only every second or two
        (and an init that never reaps would keep it forever)."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - a pid reused by another user's process
            return False
        return _group_runs(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the child's output."""
        if self.copier is not None and self.poll() is not None:
            self.copier.join(timeout=2.0)  # what the child wrote before it exited
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _copy_rotating(pipe: IO[bytes], path: Path, max_bytes: int) -> None:
    """Copy a child's output to `path` until it closes; past `max_bytes`, the file becomes
    `path.1` (an older one replaced) and a new one starts. The child never holds the file, so
    renaming it is safe; a slow disk only slows the child's writes (the pipe fills)."""
    backup = path.with_name(path.name + ".1")
    log = path.open("wb")
    written = 0
    try:
        while chunk := pipe.read1(64 * 1024):  # type: ignore[attr-defined]
            if written and written + len(chunk) > max_bytes:
                log.close()
                os.replace(path, backup)
                log = path.open("wb")
                written = 0
            log.write(chunk)
            log.flush()  # log_tail and a user's `tail -f` see it at once
            written += len(chunk)
    except (OSError, ValueError):  # the disk is full, or the pipe was closed under us
        pass
    finally:
        log.close()
        pipe.close()


def stop_all(
    children: Sequence[Child],
    grace: float = STOP_GRACE_SECONDS,
    kill_after: float = KILL_AFTER_SECONDS,
) -> None:
    """Stop every child and everything in its process group; return when all are gone.

    1. STOP_SIGNAL to each leader only: a gunicorn master stops its own workers (signalling
       the workers too races with the master's SIGQUIT and can leave one hanging until the
       master SIGKILLs it, seconds later);
    2. after up to `grace` s, STOP_SIGNAL to whatever is left in each group (orphans, or a
       leader that would not stop), and SIGKILL `kill_after` s later.
    """
    for child in children:
        if child.poll() is None:
            child.process.send_signal(STOP_SIGNAL)
    deadline = time.monotonic() + grace
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(max(0.0, deadline - time.monotonic()))
    for signum, wait in ((STOP_SIGNAL, kill_after), (signal.SIGKILL, 2.0)):
        left = [c for c in children if c.poll() is None or c.group_alive()]
        if not left:
            return
        for child in left:
            child.signal_group(signum)
        _wait_gone(left, time.monotonic() + wait)


def _wait_gone(children: Sequence[Child], deadline: float) -> None:
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(max(0.0, deadline - time.monotonic()))
    while any(c.group_alive() for c in children) and time.monotonic() < deadline:
        time.sleep(0.02)


def _group_runs(pgid: int) -> bool:
    """Whether a process of group `pgid` runs (is not a zombie), from /proc; True where there
    is no /proc to tell (the group exists, so something may run)."""
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover - not Linux
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                raw = stat.read()
        except OSError:  # gone since listdir
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
