"""The test run keeps bytecode caches (root `conftest.py`), also where the machine sets
PYTHONDONTWRITEBYTECODE: compiling every imported module afresh in each worker and server was
over a third of the default run's CPU time (docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys


def test_the_run_and_the_processes_it_starts_write_bytecode_caches() -> None:
    assert sys.dont_write_bytecode is False
    child = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.dont_write_bytecode)"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert child.stdout.strip() == "False"
