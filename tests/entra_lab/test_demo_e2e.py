"""`entra-lab demo` end to end: it comes up, a person can sign in through the mock's pages in
Chromium, and Ctrl-C (SIGINT) stops every process it started."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser

from mock_entra.ports import free_port
from tests.entra_lab.lab_procs import (
    LineReader,
    descendants,
    group_running,
    kill_tree,
    pgid_of,
    wait_until_gone,
)

# The demo's processes and a browser of their own: process-level (CI runs it; --run-slow).
pytestmark = pytest.mark.slow

READY_BUDGET_SECONDS = 10.0  # the demo's promise on the 2-core reference machine
USER, PASSWORD, DISPLAY_NAME = "adele@contoso.onmicrosoft.com", "Passw0rd!1", "Adele Vance"


def demo_command() -> list[str]:
    """The installed `entra-lab` console script (as `uv run entra-lab` runs it)."""
    script = Path(sys.executable).with_name("entra-lab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "entra_lab"]


@dataclass
class Demo:
    """A running `entra-lab demo` and what its banner said."""

    process: subprocess.Popen[str]
    output: LineReader
    ready_seconds: float
    app_url: str
    authority: str
    ca_file: str


def _banner_value(lines: list[str], label: str) -> str:
    for line in lines:
        if line.strip().startswith(label):
            return line.split(label, 1)[1].strip()
    raise AssertionError(f"no {label!r} line in:\n" + "\n".join(lines))


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """`entra-lab demo` on free ports with its state in tmp_path, ready."""
    with running_demo(tmp_path) as started:
        yield started


@contextlib.contextmanager
def running_demo(tmp_path: Path, *extra: str) -> Iterator[Demo]:
    command = [
        *demo_command(),
        "demo",
        "--mock-port",
        str(free_port()),
        "--app-port",
        str(free_port()),
        "--managed-identity-port",
        str(free_port()),
        "--state-dir",
        str(tmp_path / "state"),
        *extra,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    output = LineReader(process.stdout)
    try:
        output.wait_for("Ctrl-C stops everything.", timeout=30)
        ready = next(line for line in output.lines if "is ready in" in line)
        seconds = float(re.search(r"ready in ([0-9.]+)s", ready).group(1))  # type: ignore[union-attr]
        yield Demo(
            process,
            output,
            seconds,
            _banner_value(output.lines, "app:"),
            _banner_value(output.lines, "authority:"),
            _banner_value(output.lines, "mock CA:"),
        )
    finally:
        if process.poll() is None:
            kill_tree(process)
        output.rest()
        process.stdout.close()  # type: ignore[union-attr]  # a pipe, see Popen above
        process.wait()


def sign_in(demo: Demo, pinned_browser: Callable[[list[str]], Browser]) -> tuple[str, str]:
    """Sign in as Adele in Chromium through the mock's pages; return (home name, profile name)."""
    from conformance.trust import spki_pins

    # Chromium trusts exactly the mock's key, verified here against the mock's CA.
    pins = spki_pins([demo.authority], demo.ca_file)
    browser = pinned_browser(pins)  # on the run's one Playwright driver
    try:
        page = browser.new_page()
        page.set_default_timeout(10_000)
        page.goto(demo.app_url + "/")
        page.click("#sign-in")
        page.wait_for_url(demo.authority + "/**")
        page.fill("#i0116", USER)
        page.click("#idSIButton9")
        page.wait_for_selector("#idA_PWD_ForgotPassword")
        page.fill("#i0118", PASSWORD)
        page.click("#idSIButton9")
        page.click("#idBtn_Back")  # "Stay signed in?" No
        page.get_by_role("heading", name="Permissions requested").wait_for()
        page.click("#idSIButton9")  # Accept
        page.wait_for_url(demo.app_url + "/**")
        home_name = page.locator("#user-name").inner_text()
        page.goto(demo.app_url + "/profile")
        profile_name = page.locator("#profile-displayName").inner_text()
    finally:
        browser.close()
    return home_name, profile_name


def test_demo_serves_signs_in_and_stops_without_leftovers(
    demo: Demo, pinned_browser: Callable[[list[str]], Browser]
) -> None:
    assert demo.ready_seconds < READY_BUDGET_SECONDS, demo.output.text()
    assert demo.app_url.startswith("http://localhost:")
    assert demo.authority.startswith("https://localhost:")
    assert f"sign in as: {USER} / {PASSWORD}   ({DISPLAY_NAME})" in demo.output.text()

    with requests.Session() as http:
        http.trust_env = False  # loopback: never through a proxy
        home = http.get(demo.app_url + "/", timeout=5)
        assert home.status_code == 200
        assert 'id="sign-in"' in home.text
        assert http.get(demo.app_url + "/healthz", timeout=5).status_code == 200

    # Before the browser: every process the demo started (masters and gunicorn workers).
    started = descendants(demo.process.pid)
    groups = {pgid_of(pid) for pid in started} - {None}
    assert len(started) >= 4, started  # two gunicorn masters, at least one worker each
    assert demo.process.pid not in groups  # each service leads its own process group

    assert sign_in(demo, pinned_browser) == (DISPLAY_NAME, DISPLAY_NAME)

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(15) == 0
    output = demo.output.rest()
    assert "entra-lab: stopped." in output
    assert wait_until_gone(started, timeout=2) == set(), output
    assert all(group_running(pgid) == [] for pgid in groups if pgid is not None)


def test_demo_secretless_signs_in_with_the_managed_identity(tmp_path: Path) -> None:
    """`entra-lab demo --secretless`: the app has no client secret; the code is redeemed with
    its managed identity's token (from the mock's App Service endpoint) as the assertion."""
    from urllib.parse import urlencode

    from tests.mock_entra.signin_http import http_sign_in

    with running_demo(tmp_path, "--secretless") as demo:
        text = demo.output.text()
        assert "  app auth:   secretless: the token of managed identity " in text, text
        assert "/msi/token (IMDS: http://localhost:" in text
        with requests.Session() as http:
            http.trust_env = False  # loopback: never through a proxy
            login = http.get(demo.app_url + "/login", allow_redirects=False, timeout=10)
            assert login.status_code == 302, login.text[:300]
            http.verify = demo.ca_file
            back = http_sign_in(
                http, demo.authority.rsplit("/", 1)[0], login.headers["Location"],
                (USER, PASSWORD),
            )  # fmt: skip
            done = http.get(
                demo.app_url + "/getAToken?" + urlencode(back), allow_redirects=False, timeout=20
            )
            assert done.status_code == 302, done.text[:500]
            profile = http.get(demo.app_url + "/profile", timeout=20)
            assert DISPLAY_NAME in profile.text, profile.text[:500]
        # The app that redeemed the code ran with no secret, only its identity (a secret in
        # its environment would have been used instead).
        apps = [pid for pid in descendants(demo.process.pid) if b"client_app" in _cmdline(pid)]
        assert apps, "no client-app process"
        for pid in apps:
            names = {line.split(b"=", 1)[0] for line in _environ(pid)}
            assert b"CLIENT_SECRET" not in names
            assert {b"MANAGED_IDENTITY_CLIENT_ID", b"IDENTITY_ENDPOINT"} <= names


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _environ(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
