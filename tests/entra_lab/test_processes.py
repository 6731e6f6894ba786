"""`entra_lab.processes`: a child leads its own process group, and `stop_all` leaves nothing
running, falling back to SIGKILL for a child that ignores the stop signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entra_lab.processes import Child, stop_all
from tests.entra_lab.lab_procs import group_running, running

# A parent that starts a grandchild in its own process group and records both pids.
FAMILY = """
import os, signal, subprocess, sys, time
if sys.argv[2] == "ignore-int":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(f"{os.getpid()} {grandchild.pid}")
print("family started", flush=True)
time.sleep(60)
"""


def start_family(tmp_path: Path, mode: str) -> tuple[Child, list[int]]:
    pid_file = tmp_path / f"{mode}.pids"
    child = Child.start(
        "family", [sys.executable, "-c", FAMILY, str(pid_file), mode], dict(os.environ),
        tmp_path / "logs" / f"{mode}.log",
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text()):
        assert child.poll() is None, child.log_tail()
        assert time.monotonic() < deadline, "the family did not start"
        time.sleep(0.02)
    return child, [int(p) for p in pid_file.read_text().split()]


def test_child_leads_its_own_group_and_stop_all_reaches_grandchildren(tmp_path: Path) -> None:
    child, pids = start_family(tmp_path, "plain")
    assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    assert sorted(group_running(child.pid)) == sorted(pids)

    stop_all([child])

    assert child.poll() is not None
    assert not child.group_alive()
    assert not any(running(pid) for pid in pids)
    assert "family started" in child.log_tail()


def test_stop_all_kills_a_child_that_ignores_sigint(tmp_path: Path) -> None:
    child, pids = start_family(tmp_path, "ignore-int")
    started = time.monotonic()

    stop_all([child], grace=0.3, kill_after=0.3)  # the production waits are 5 s and 1 s

    # 0.3 s grace, 0.3 s after SIGINT to the group, then SIGKILL (plus reaping the orphans)
    assert time.monotonic() - started < 5
    assert child.poll() == -signal.SIGKILL  # only SIGKILL stopped it
    assert not any(running(pid) for pid in pids)


def test_a_group_of_exited_processes_not_yet_reaped_is_not_alive(tmp_path: Path) -> None:
    """A zombie (exited, its status not collected yet) holds nothing: `stop_all` must not
    wait for a slow init to reap an orphaned worker's."""
    child = Child.start("quick", [sys.executable, "-c", "pass"], dict(os.environ),
                        tmp_path / "quick.log")  # fmt: skip
    deadline = time.monotonic() + 10
    while running(child.pid):  # never polled: the exited leader stays a zombie
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.02)
    assert os.path.exists(f"/proc/{child.pid}")  # still there, unreaped

    assert not child.group_alive()
    assert child.poll() == 0


# A launcher that starts one sleeping child with Child.start and prints the child's pid.
LAUNCHER = """
import os, sys, time
from pathlib import Path
from entra_lab.processes import Child
child = Child.start("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                    dict(os.environ), Path(sys.argv[1]))
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_die_with_a_killed_launcher(tmp_path: Path) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(tmp_path / "sleeper.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child_pid = int(launcher.stdout.readline())  # type: ignore[union-attr]
        assert running(child_pid)
        launcher.send_signal(signal.SIGKILL)  # no handler, no cleanup: only the kernel acts
        launcher.wait(5)
        deadline = time.monotonic() + 5
        while running(child_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not running(child_pid)
    finally:
        launcher.stdout.close()  # type: ignore[union-attr]
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()


def test_a_childs_log_is_rotated_and_bounded(tmp_path: Path) -> None:
    """A child writing 3 MiB with a 1 MiB bound leaves its log and one older file, each at
    most the bound, and the newest output in the log (it used to grow without end)."""
    writer = (
        "import sys\n"
        "for n in range(3 * 1024):\n"
        "    sys.stdout.write(f'{n:07d}' + 'x' * 1016 + '\\n')\n"
        "print('the end', flush=True)\n"
    )
    log = tmp_path / "logs" / "writer.log"
    child = Child.start("writer", [sys.executable, "-c", writer], dict(os.environ), log, 2**20)
    assert child.process.wait(timeout=30) == 0
    assert child.log_tail(1) == "the end"
    older = log.with_name("writer.log.1")
    assert sorted(p.name for p in log.parent.iterdir()) == ["writer.log", "writer.log.1"]
    assert log.stat().st_size <= 2**20 and older.stat().st_size <= 2**20
