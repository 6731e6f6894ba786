"""A Docker engine for the container tests: found once, driven through the `docker` CLI.

Which engine: `DOCKER_HOST` when set, else the socket of the Docker sandbox that CI starts when
a machine has no engine of its own, else the CLI's default socket; the first that
answers `docker version` is used, and its `DOCKER_HOST` is passed to every command (so
`docker compose` and the conformance subprocesses talk to the same engine).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_HOST = "unix:///run/docker-sandbox/docker.sock"
DEFAULT_SOCKET = "/var/run/docker.sock"
# The image compose.yaml builds and runs (ENTRA_LAB_IMAGE): one name per checkout, so that
# test runs in two checkouts on one engine never run each other's build.
IMAGE = "entra-lab:test-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
# The mock-only image (the Dockerfile's `mock` target; compose.yaml's MOCK_ENTRA_IMAGE), likewise.
MOCK_IMAGE = "mock-entra:test-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
PROBE_TIMEOUT = 10


class DockerError(RuntimeError):
    """A docker command failed; the message carries its output."""


@dataclass(frozen=True)
class Engine:
    """The `docker` CLI bound to one engine (`host` None: the CLI's default socket)."""

    cli: str
    host: str | None

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """This process's environment pointed at the engine, plus `extra`."""
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
        if self.host:
            env["DOCKER_HOST"] = self.host
        return {**env, "ENTRA_LAB_IMAGE": IMAGE, "MOCK_ENTRA_IMAGE": MOCK_IMAGE, **(extra or {})}

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
        check: bool = True,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`docker ARGS...` from the repository root; raises `DockerError` when `check`."""
        done = subprocess.run(
            [self.cli, *args],
            cwd=ROOT,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input,
        )
        if check and done.returncode != 0:
            command = " ".join(args)
            raise DockerError(f"docker {command} -> {done.returncode}\n{done.stderr[-3000:]}")
        return done

    def shell(self, line: str, *, env: Mapping[str, str] | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """A shell command line (a README line, say) against the engine; raises on failure."""
        done = subprocess.run(
            ["bash", "-e", "-c", line], cwd=ROOT, env=self.env(env),
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise DockerError(f"{line} -> {done.returncode}\n{done.stderr[-3000:]}")
        return done

    def timed(self, *args: str, **kwargs: object) -> float:
        """Run `docker ARGS...` and return how long it took, in seconds."""
        started = time.monotonic()
        self.run(*args, **kwargs)  # type: ignore[arg-type]
        return time.monotonic() - started


def _answers(cli: str, host: str | None) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    if host:
        env["DOCKER_HOST"] = host
    try:
        done = subprocess.run([cli, "version"], env=env, capture_output=True,
                              timeout=PROBE_TIMEOUT, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def candidates() -> list[str | None]:
    """Engines to try, in order (None: the CLI's default socket)."""
    found: list[str | None] = []
    if os.environ.get("DOCKER_HOST"):
        found.append(os.environ["DOCKER_HOST"])
    if os.path.exists(SANDBOX_HOST.removeprefix("unix://")):
        found.append(SANDBOX_HOST)
    found.append(None)
    return list(dict.fromkeys(found))


@functools.cache
def find_engine() -> Engine | str:
    """The first engine that answers, or the one-line reason why there is none."""
    cli = shutil.which("docker")
    if cli is None:
        return "no `docker` CLI on PATH (install Docker to run the container tests)"
    tried = candidates()
    for host in tried:
        if _answers(cli, host):
            engine = Engine(cli, host)
            if engine.run("compose", "version", check=False, timeout=30).returncode != 0:
                return "the docker CLI has no `compose` plugin (Compose v2 is needed)"
            return engine
    names = ", ".join(host or f"unix://{DEFAULT_SOCKET} (default)" for host in tried)
    return (
        f"no Docker engine answers `docker version` (tried {names}); start Docker, or point "
        "DOCKER_HOST at one"
    )


def labelled(engine: Engine, kind: str, label: str) -> list[str]:
    """Names of containers/networks/volumes carrying `label` (`kind`: container|network|volume)."""
    command: Sequence[str]
    if kind == "container":
        command = ("ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}")
    else:
        command = (kind, "ls", "--filter", f"label={label}", "--format", "{{.Name}}")
    return engine.run(*command).stdout.split()
