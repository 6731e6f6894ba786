"""`.env.example`, sourced as the README says, keeps the offline test command offline."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]


def source_env_example(tmp_path: Path) -> dict[str, str]:
    """The environment `.env.example` makes, copied to `tmp_path/.env` and sourced as the
    README says (`set -a; . ./.env; set +a`) in a shell with nothing else set but PATH."""
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    sourced = subprocess.run(
        ["bash", "-c", "set -a; . ./.env; set +a; env -0"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split("=", 1) for line in sourced.stdout.split("\0") if "=" in line)


def test_sourcing_env_example_does_not_switch_pytest_to_live(tmp_path):
    variables = source_env_example(tmp_path)
    assert "ENTRA_TENANT_ID" in variables  # the file was read
    assert "CONFORMANCE_TARGET" not in variables
