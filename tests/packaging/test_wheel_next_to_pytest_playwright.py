"""The built wheel installs next to pytest-playwright without changing anyone's pytest run.

Builds the wheel with `uv build`, installs it into fresh venvs with third-party packages by
name from the index (as a user would), and runs a small project of the user's in each:

* `entra-lab[all]` + pytest-playwright: a pytest-playwright test (its own `page` fixture and
  options, Debian's Chromium through `browser_type_launch_args`) and a test on the mock's
  fixtures pass in one run; the suites collect in that venv (both plugins' options loaded);
* `entra-lab` alone (the mock and its fixtures) + pytest + MSAL: no Playwright, gunicorn or
  Flask-Session gets installed, and the mock's fixtures work.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.slow

# A user's tests: what the README's "Use it in your tests" promises, with MSAL as the client.
USER_CONFTEST = f"""
import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # pytest-playwright's documented hook: Debian's Chromium (no browser download here).
    return {{**browser_type_launch_args, "executable_path": "{CHROMIUM}", "args": ["--no-sandbox"]}}
"""

USER_MOCK_TEST = """
import msal
import requests


class Trusting(requests.Session):  # `verify` per call: REQUESTS_CA_BUNDLE can't override it
    def __init__(self, bundle):
        super().__init__()
        self.bundle = bundle

    def request(self, *args, **kwargs):
        kwargs.setdefault("verify", self.bundle)
        return super().request(*args, **kwargs)


def test_client_credentials_against_the_mock(mock_entra):
    info = mock_entra.info()
    app = msal.ConfidentialClientApplication(
        info["client_id"],
        authority=mock_entra.authority,
        client_credential=info["client_secret"],
        instance_discovery=False,
        http_client=Trusting(mock_entra.ca_bundle),
    )
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
"""

USER_PAGE_TEST = """
import functools
import http.server
import threading

import pytest


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text("<title>hello</title><h1 id=greeting>Hello, page</h1>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_pytest_playwright_page(page, site, pytestconfig):
    page.goto(site + "/index.html")
    assert page.title() == "hello"
    assert page.locator("#greeting").inner_text() == "Hello, page"
    assert pytestconfig.getoption("--output") == "test-results"  # pytest-playwright's option
"""


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.skip("uv is not on PATH")
    return found


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """The host's environment (network, TLS, uv cache) without this project's venv."""
    drop = (
        "VIRTUAL_ENV",
        "UV_PROJECT_ENVIRONMENT",
        "PYTHONPATH",
        "CONFORMANCE_TARGET",
        "CI",
        "PYTHONDONTWRITEBYTECODE",
    )  # bytecode: the second run in a venv reuses the first's
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture(scope="module")
def wheel(uv: str, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run([uv, "build", "--wheel", "--out-dir", str(dist), str(ROOT)], ROOT, env)
    (built,) = dist.glob("entra_lab-*.whl")
    return built


def make_venv(uv: str, env: dict[str, str], where: Path, *requirements: str) -> Path:
    """A fresh venv with `requirements` installed; returns its Python."""
    run([uv, "venv", "--quiet", "--python", sys.executable, str(where)], where.parent, env)
    python = where / "bin" / "python"
    links = ["--find-links", str(where.parent)]  # the wheel's folder, for entra-lab[...] itself
    run([uv, "pip", "install", "--quiet", "--python", str(python), *links, *requirements],
        where.parent, env)  # fmt: skip
    return python


def user_project(where: Path, **files: str) -> Path:
    where.mkdir()
    for name, text in files.items():
        (where / f"{name}.py").write_text(textwrap.dedent(text))
    return where


def installed(python: Path, modules: tuple[str, ...], env: dict[str, str]) -> list[str]:
    code = "import importlib.util as u, sys; print(*(m for m in sys.argv[1:] if u.find_spec(m)))"
    return run([str(python), "-c", code, *modules], python.parent, env).split()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}")
@pytest.mark.browser  # the user's tests drive Chromium, in a child process (tests/network_lock.py)
def test_all_extras_next_to_pytest_playwright(
    uv: str, env: dict[str, str], wheel: Path, tmp_path: Path
) -> None:
    shutil.copy2(wheel, tmp_path)
    python = make_venv(uv, env, tmp_path / "venv", f"{wheel.name}[all]", "pytest-playwright")
    project = user_project(
        tmp_path / "project",
        conftest=USER_CONFTEST,
        test_page=USER_PAGE_TEST,
        test_mock=USER_MOCK_TEST,
    )
    out = run([str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q"], project, env)
    assert "2 passed" in out, out

    # The conformance plugin is activated only where asked. Asked for here, next to
    # pytest-playwright: no option clash, and each test gets its own `page`: the user's test
    # pytest-playwright's, the suites' test the conformance one (its conftest's, scoped to it).
    suites = run(
        [str(python), "-c", "import conformance, pathlib; "
         "print(pathlib.Path(conformance.__file__).parent / 'suites')"],
        project, env,
    ).strip()  # fmt: skip
    suite_test = f"{suites}/test_app_e2e.py::test_signing_in_shows_the_users_graph_profile"
    out = run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-p", "conformance.plugin",
         "--fixtures-per-test", "--target=mock", "--headed", "test_page.py", suite_test],
        project, env,
    )  # fmt: skip
    user_part, suite_part = out.split("fixtures used by test_signing_in_shows")
    assert re.search(r"^page -- .*pytest_playwright\.py:\d+", user_part, re.M), out
    assert re.search(r"^page -- .*conformance/browser_fixtures\.py:\d+", suite_part, re.M), out


def test_mock_alone_has_no_playwright_or_app_dependencies(
    uv: str, env: dict[str, str], wheel: Path, tmp_path: Path
) -> None:
    shutil.copy2(wheel, tmp_path)
    python = make_venv(uv, env, tmp_path / "venv", wheel.name, "pytest", "msal")
    absent = ("playwright", "flask_session", "gunicorn", "cachelib", "pytest_playwright")
    assert installed(python, absent, env) == []
    assert installed(python, ("mock_entra", "flask", "responses"), env) == [
        "mock_entra", "flask", "responses",
    ]  # fmt: skip
    project = user_project(tmp_path / "project", test_mock=USER_MOCK_TEST)
    out = run([str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q"], project, env)
    assert "1 passed" in out, out
    # Installing entra-lab adds no command-line options to anyone's pytest.
    help_text = run([str(python), "-m", "pytest", "--help"], project, env)
    assert "--target" not in help_text and "--headed" not in help_text
    assert "serve" in run([str(python.parent / "mock-entra"), "--help"], project, env)
