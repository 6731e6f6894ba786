"""`.env.example`, sourced as the README says, keeps the offline test command offline."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_sourcing_env_example_does_not_switch_pytest_to_live(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    done = subprocess.run(
        ["bash", "-c", "set -a; . ./.env; set +a; env"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    variables = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert "ENTRA_TENANT_ID" in variables  # the file was read
    assert "CONFORMANCE_TARGET" not in variables
