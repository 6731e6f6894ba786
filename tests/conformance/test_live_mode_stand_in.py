"""The live target's code paths, proven offline: a second local mock + app stands in for a
tenant and its deployment, described to `pytest --target live` only through `ENTRA_*`
(authority, CA bundle and all), exactly as a real tenant would be.

What differs between the targets is all on the way in (`live_target_from_env`, the browser's
trust from ENTRA_CA_BUNDLE, MSAL's instance discovery, `mock_only` deselection); after that
the suites run the same code. So the subprocess runs the protocol suite and the app's
sign-in tests, not every browser test a second time (the offline run must stay short).
Run everything live against the stand-in with `uv run conformance run --target live`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conformance.stack import LocalStack
from conformance.targets import live_env

ROOT = Path(__file__).resolve().parents[2]

# A second stack, a nested pytest and its browser: process-level (CI runs it; --run-slow). Its
# Chromium is a child's: `browser` says so (tests/network_lock.py).
pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_live_target_passes_the_suites_against_a_stand_in_tenant(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    with LocalStack.start(tmp_path / "stand-in") as stand_in:
        tenant = stand_in.target()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ENTRA_", "CONFORMANCE_"))}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "conformance/suites/test_idp_protocol.py",
                "conformance/suites/test_app_e2e.py",
                "-k",
                "test_idp_protocol or signing_in_shows or second_user",
                "--target",
                "live",
                "-m",
                "not mock_only",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--output={tmp_path / 'artifacts'}",
                f"--conformance-results={results}",
            ],
            cwd=ROOT,
            env=env | live_env(tenant),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    data = json.loads(results.read_text())
    assert data["target"]["kind"] == "live"
    assert data["target"]["authority"] == tenant.authority
    outcomes = Counter(t["outcome"] for t in data["tests"])
    assert set(outcomes) == {"passed"}, outcomes
    assert outcomes["passed"] >= 19
    suites = {Path(t["nodeid"].split("::")[0]).stem for t in data["tests"]}
    assert suites == {"test_idp_protocol", "test_app_e2e"}
