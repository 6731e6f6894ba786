"""`run_demo`'s supervision with stand-in services (fast, no servers): a service that dies
takes the other down and the demo exits 1 with its output; SIGTERM stops both cleanly."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

import entra_lab.demo
from entra_lab.demo import DemoOptions, run_demo
from entra_lab.wiring import DemoPlan
from mock_entra.ports import free_port
from tests.entra_lab.lab_procs import running, wait_until_gone

# A service stand-in: records its pid, prints a line, then sleeps or exits with a code.
SERVICE = """
import os, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
print(sys.argv[2], flush=True)
time.sleep(float(sys.argv[3]))
sys.exit(int(sys.argv[4]))
"""
USERS = [{"username": "u@example.test", "password": "pw", "display_name": "U"}]


def fake_plan(
    tmp_path: Path, mock: tuple[str, float, int], app: tuple[str, float, int]
) -> DemoPlan:
    """A plan whose services are SERVICE stand-ins: (message, seconds alive, exit code)."""

    def argv(name: str, spec: tuple[str, float, int]) -> list[str]:
        message, seconds, code = spec
        return [sys.executable, "-c", SERVICE, str(tmp_path / f"{name}.pid"), message,
                str(seconds), str(code)]  # fmt: skip

    return DemoPlan(
        mock_argv=argv("mock", mock),
        mock_env=dict(os.environ),
        app_argv=argv("app", app),
        app_env=dict(os.environ),
        app_settings={},
        info={
            "authority": "https://localhost:1/t",
            "ca_file": "ca.pem",
            "base_url": "https://localhost:1",
            "users": USERS,
        },
        app_url="http://localhost:2",
        config_file=None,
        log_dir=tmp_path / "logs",
    )


def pid_of(tmp_path: Path, name: str) -> int:
    return int((tmp_path / f"{name}.pid").read_text())


def demo_in_process(
    monkeypatch: pytest.MonkeyPatch, plan: DemoPlan, *, ready: bool, out: io.StringIO | None = None
) -> tuple[int, str, str]:
    """Run `run_demo` here with `plan`; `ready` makes both readiness probes succeed."""
    monkeypatch.setattr(entra_lab.demo, "plan_demo", lambda *args, **kwargs: plan)
    monkeypatch.setattr(entra_lab.demo, "answers_200", lambda *args, **kwargs: ready)
    out, err = out or io.StringIO(), io.StringIO()
    options = DemoOptions(
        mock_port=free_port(),
        app_port=free_port(),
        ready_timeout=20,
        managed_identity_port=free_port(),
    )
    code = run_demo(options, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def signal_when_ready(out: io.StringIO, signum: int) -> threading.Thread:
    """Send `signum` to this process once the banner is out, i.e. while `run_demo` supervises
    (never earlier: before run_demo's handlers, SIGTERM would end pytest itself)."""

    def wait_and_signal() -> None:
        deadline = time.monotonic() + 20
        while "is ready in" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        if "is ready in" in out.getvalue():
            os.kill(os.getpid(), signum)

    thread = threading.Thread(target=wait_and_signal, daemon=True)
    thread.start()
    return thread


def test_app_dying_during_start_stops_the_mock_and_exits_1_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = fake_plan(tmp_path, ("mock up", 60, 0), ("boom: bad settings", 0.3, 3))

    code, out, err = demo_in_process(monkeypatch, plan, ready=False)

    assert code == 1
    assert "client-app exited with code 3; stopping mock-entra" in err
    assert "boom: bad settings" in err
    assert "is ready in" not in out
    assert not running(pid_of(tmp_path, "mock"))


def test_mock_dying_after_ready_stops_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = fake_plan(tmp_path, ("mock crashed", 0.5, 4), ("app up", 60, 0))  # after ready

    code, out, err = demo_in_process(monkeypatch, plan, ready=True)

    assert code == 1
    assert "is ready in" in out
    assert "mock-entra exited with code 4; stopping client-app" in err
    assert "mock crashed" in err
    assert not running(pid_of(tmp_path, "app"))


def test_sigterm_stops_both_and_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = fake_plan(tmp_path, ("mock up", 60, 0), ("app up", 60, 0))
    handler_before = signal.getsignal(signal.SIGTERM)
    out = io.StringIO()
    sender = signal_when_ready(out, signal.SIGTERM)
    started = time.monotonic()

    code, out_text, _err = demo_in_process(monkeypatch, plan, ready=True, out=out)
    sender.join(5)

    assert code == 0
    assert "entra-lab: SIGTERM: stopping..." in out_text
    assert out_text.rstrip().endswith("entra-lab: stopped.")
    assert wait_until_gone({pid_of(tmp_path, "mock"), pid_of(tmp_path, "app")}, 2) == set()
    assert time.monotonic() - started < 8
    assert signal.getsignal(signal.SIGTERM) is handler_before  # the launcher's handler is gone
