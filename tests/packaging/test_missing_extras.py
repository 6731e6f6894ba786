"""A mock-only install (`pip install entra-lab`, no extras) has every console script; each one
either works or says in one line which extra to install, never a traceback.

Not reinstalled: the installed commands run with the extras' modules made unimportable by a
`sitecustomize` on PYTHONPATH (a meta path finder that refuses them, as a venv without them
would), so the test is quick and sees exactly what the entry points import.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from client_app.extra import EXTRAS

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
BLOCKER = """
import os, sys

BLOCKED = set(os.environ["BLOCKED_MODULES"].split(","))


class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Missing())
"""
MOCK_ONLY = sorted({m for modules in EXTRAS.values() for m in modules} | {"_pytest"})
APP_ONLY = ["playwright", "pytest", "_pytest"]  # entra-lab[app]: no Playwright, no pytest


@pytest.fixture(scope="module")
def blocker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("blocker")
    (folder / "sitecustomize.py").write_text(BLOCKER)
    return folder


def run(blocker: Path, blocked: list[str], *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """An installed console script, with `blocked` modules missing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENTRA_", "MOCK_ENTRA_"))}
    env |= {"PYTHONPATH": str(blocker), "BLOCKED_MODULES": ",".join(blocked)}
    script = BIN / argv[0]
    assert script.exists(), f"{script}: not installed (uv sync)"
    return subprocess.run(
        [str(script), *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def one_line_naming(done: subprocess.CompletedProcess, command: str, extra: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{command}: needs the extra entra-lab[{extra}]"), lines[0]
    assert f"pip install 'entra-lab[{extra}]'" in lines[0]


def test_the_blocker_makes_the_modules_missing(blocker: Path, tmp_path: Path) -> None:
    code = "import importlib.util as u; print(u.find_spec('json') is not None); import msal"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=os.environ | {"PYTHONPATH": str(blocker), "BLOCKED_MODULES": "msal"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "True\n" and "No module named 'msal'" in done.stderr


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["client-app"], "app"),
        (["client-app", "--port", "5999"], "app"),
        (["entra-lab", "demo", "--state-dir", "lab-state"], "app"),
        (["conformance", "run"], "conformance"),
        (["conformance", "run", "--target", "live", "--run-slow"], "conformance"),
        (["conformance", "diff", "a", "b"], "conformance"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_a_mock_only_install_names_the_extra_in_one_line(
    blocker: Path, tmp_path: Path, argv: list[str], extra: str
) -> None:
    done = run(blocker, MOCK_ONLY, *argv, cwd=tmp_path)
    command = "entra-lab demo" if argv[:2] == ["entra-lab", "demo"] else argv[0]
    one_line_naming(done, command, extra)
    assert list(tmp_path.iterdir()) == []  # nothing started, no state dir, no report


def test_an_app_install_runs_the_app_but_names_the_conformance_extra(
    blocker: Path, tmp_path: Path
) -> None:
    one_line_naming(
        run(blocker, APP_ONLY, "conformance", "run", cwd=tmp_path), "conformance", "conformance"
    )
    done = run(
        blocker,
        APP_ONLY,
        "client-app",
        cwd=tmp_path,
    )
    assert "needs the extra" not in done.stderr  # it got as far as its settings
    assert done.returncode == 2 and "TENANT_ID is required" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["mock-entra", "--help"],
        ["mock-entra", "serve", "--help"],
        ["mock-entra", "config", "--defaults"],
        ["client-app", "--help"],
        ["entra-lab", "--help"],
        ["entra-lab", "demo", "--help"],
        ["conformance", "--help"],
        ["conformance", "run", "--help"],
    ],
    ids=" ".join,
)
def test_a_mock_only_install_still_answers_help_and_the_mock_works(
    blocker: Path, tmp_path: Path, argv: list[str]
) -> None:
    done = run(blocker, MOCK_ONLY, *argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout


def test_the_extras_lists_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["optional-dependencies"]
    distributions = importlib.metadata.packages_distributions()

    def names(extra: str) -> set[str]:
        found: set[str] = set()
        for requirement in declared[extra]:
            name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
            if name == "entra-lab":  # entra-lab[app]: that extra's packages
                for nested in re.findall(r"\[(.*)\]", requirement)[0].split(","):
                    found |= names(nested.strip())
            else:
                found.add(re.sub(r"[-_.]+", "-", name).lower())
        return found

    for extra, modules in EXTRAS.items():
        of_modules = {re.sub(r"[-_.]+", "-", distributions[m][0]).lower() for m in modules}
        assert of_modules == names(extra), extra
