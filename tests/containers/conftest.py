"""Container tests: the image, the compose stack and the simulated App Service deployment,
run by a real Docker engine (`engine.find_engine`). Every test here is marked `docker` (by the
root `conftest.py`): a plain `uv run pytest` skips them, CI, `--run-slow` and `-m docker` run
them (`tests/selection.py`); when they run, they are skipped, with the reason on one line, if
no engine answers.

The image is built once per session (`docker compose build`, cached by the engine between
runs); the build, start and image-size figures are printed at the end of the run.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.containers.engine import IMAGE, MOCK_IMAGE, Engine, find_engine

HERE = Path(__file__).parent
FIGURES: dict[str, str] = {}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip container tests, saying why, when no engine answers."""
    if item.get_closest_marker("docker"):
        found = find_engine()
        if isinstance(found, str):
            pytest.skip(found)


def figures_line() -> str | None:
    """The measured figures (image size, build and start times) as one line, if any."""
    return "containers: " + ", ".join(f"{k} {v}" for k, v in FIGURES.items()) if FIGURES else None


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker: hand the figures to the controller (the root conftest prints
    what workers hand over; this conftest is not loaded there)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    line = figures_line()
    if workeroutput is not None and line:
        workeroutput.setdefault("summary_lines", []).append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures, in a run without workers."""
    line = figures_line()
    if line:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def engine() -> Engine:
    """Scope: session. The engine that answered (the tests were skipped otherwise)."""
    found = find_engine()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def session_id() -> str:
    """Scope: session. A short id that names this run's compose projects and containers."""
    return "elt" + secrets.token_hex(4)


@pytest.fixture(scope="session")
def image(engine: Engine, session_id: str) -> str:
    """Scope: session. `docker compose build`: the image both services (and the App Service
    simulation) run. BuildKit's layer cache makes every build after the first a few seconds."""
    seconds = engine.timed("compose", "-p", f"{session_id}-build", "build", timeout=900)
    FIGURES["build"] = f"{seconds:.1f}s"
    size = int(engine.run("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout)
    FIGURES["image"] = f"{size / 1e6:.0f} MB"
    return IMAGE


@pytest.fixture(scope="session")
def mock_image(engine: Engine, session_id: str) -> str:
    """Scope: session. The mock-only image (the Dockerfile's `mock` target), built through
    compose.yaml's `mock` profile."""
    seconds = engine.timed(
        "compose", "-p", f"{session_id}-mock", "--profile", "mock", "build", "mock", timeout=900
    )
    FIGURES["mock build"] = f"{seconds:.1f}s"
    size = int(engine.run("image", "inspect", MOCK_IMAGE, "--format", "{{.Size}}").stdout)
    FIGURES["mock image"] = f"{size / 1e6:.0f} MB"
    return MOCK_IMAGE


@pytest.fixture(scope="session")
def testcontainers_env(engine: Engine) -> Iterator[None]:
    """Scope: session. testcontainers (Python, and Node through the environment) pointed at
    the engine, without its reaper: the reaper's image (testcontainers/ryuk) comes from Docker
    Hub, which a machine without a registry cannot pull; each test removes its containers."""
    with pytest.MonkeyPatch.context() as patch:
        if engine.host:
            patch.setenv("DOCKER_HOST", engine.host)
        patch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
        yield


@pytest.fixture(scope="session")
def session_label(session_id: str) -> Iterator[str]:
    """Scope: session. A label put on this run's own containers, networks and volumes."""
    yield f"entra-lab.test-session={session_id}"
