"""`entra-lab demo` refuses taken ports up front, says which one and how to choose another."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from entra_lab.ports import next_free_port, port_problem
from mock_entra.ports import free_port


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m entra_lab demo ARGS` to completion (it must not start anything here)."""
    return subprocess.run(
        [sys.executable, "-m", "entra_lab", "demo", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


WHAT = {
    "--mock-port": "the mock Entra ID",
    "--app-port": "the client app",
    "--managed-identity-port": "the mock's managed identity endpoints",
}


@pytest.mark.parametrize("flag", list(WHAT))
def test_taken_port_exits_1_naming_the_port_and_the_option(tmp_path: Path, flag: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {name: free_port() for name in WHAT} | {flag: port}
        state = tmp_path / "state"
        done = run_demo(
            *(arg for name, value in ports.items() for arg in (name, str(value))),
            "--state-dir", str(state),
        )  # fmt: skip
    assert done.returncode == 1, done
    assert f"port {port} ({WHAT[flag]})" in done.stderr
    assert "is already in use" in done.stderr
    assert f"Choose another one with {flag}" in done.stderr
    assert not state.exists()  # refused before creating anything


def test_same_port_for_both_is_a_usage_error() -> None:
    done = run_demo("--mock-port", "9999", "--app-port", "9999")
    assert done.returncode == 2
    assert "--mock-port, --app-port and --managed-identity-port must differ" in done.stderr
    done = run_demo("--app-port", "9999", "--managed-identity-port", "9999")
    assert done.returncode == 2
    assert "must differ" in done.stderr


def test_port_problem_sees_a_listener_and_suggests_a_free_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_problem(port) == "is already in use"
        suggestion = next_free_port(port)
        assert suggestion is not None
        assert suggestion > port
        assert port_problem(suggestion) is None


@pytest.mark.parametrize("where", ["a file", "damaged store"])
def test_an_unusable_state_dir_is_said_in_one_line(tmp_path: Path, where: str) -> None:
    # Issue 18, finding 12: a file in the way (`plan_demo` refuses it) or a store that SQLite
    # cannot open (the mock refuses it at start, as on a full or read-only disk): one line
    # naming the dir, no traceback, in the demo's output as in the mock's.
    state = tmp_path / "state"
    if where == "a file":
        state.write_text("not a directory")
    else:
        state.mkdir()
        (state / "store.sqlite3").write_bytes(b"not a database" * 512)
    done = run_demo(
        "--mock-port", str(free_port()), "--app-port", str(free_port()),
        "--managed-identity-port", str(free_port()), "--state-dir", str(state),
    )  # fmt: skip
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr, done.stderr
    cause = "file is not a database (store.sqlite3)" if where != "a file" else "Not a directory"
    who = "entra-lab" if where == "a file" else "mock-entra"
    lines = [line for line in done.stderr.splitlines() if "state dir" in line]
    assert lines == [f"{who}: state dir {state.resolve()} is not usable: {cause}"], done.stderr
