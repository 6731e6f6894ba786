"""`docker compose` for real: the image builds, both services turn healthy as non-root
users, a browser signs in through the stack (secretless: the app's managed identity, from the
mock's endpoint) and sees the Graph profile, `DefaultAzureCredential` in the app's container
gets tokens as on App Service, the mock's CA and keys survive a restart, and `down -v` leaves
nothing behind.

One stack per session, on free host ports (`MOCK_PORT`, `APP_PORT`: compose.yaml's
interpolation) and under its own project name (`COMPOSE_PROJECT_NAME`), so a developer's
`docker compose up` (or `entra-lab demo`) on 8443/5000 is never touched. The stack is started
and removed with the README's own commands (its block marked `docs-test: ... docker`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser

from conformance.targets import Target, User
from mock_entra.core.config import DEFAULT_CONFIG, DEFAULT_MANAGED_IDENTITY_CLIENT_ID
from mock_entra.ports import free_port
from tests.containers.conftest import FIGURES
from tests.containers.engine import ROOT, Engine, labelled

SERVICES = ("mock-entra", "client-app")
UP_TIMEOUT = 180


def readme_compose_lines() -> list[str]:
    """The command lines of the README's Docker block."""
    readme = (ROOT / "README.md").read_text()
    marked = r"<!--\s*docs-test:[^>]*\bdocker\b[^>]*-->\s*\n```bash\n(.*?)```"
    match = re.search(marked, readme, re.S)
    assert match, "README has no bash block marked `<!-- docs-test: ... docker ... -->`"
    return [ln.split("#")[0].strip() for ln in match[1].splitlines() if ln.strip()]


def readme_compose_commands() -> tuple[str, str]:
    """The `docker compose up` and `down` lines of the README's Docker block."""
    lines = readme_compose_lines()
    (up,) = [ln for ln in lines if ln.startswith("docker compose up")]
    (down,) = [ln for ln in lines if ln.startswith("docker compose down")]
    return up, down


def readme_ca_copy(destination: Path) -> str:
    """The README's `docker compose cp` of the mock's CA, writing to `destination`."""
    (line,) = [ln for ln in readme_compose_lines() if ln.startswith("docker compose cp")]
    copy = line.split()[-1]
    return line.removesuffix(copy) + shlex.quote(str(destination))


@dataclass
class Stack:
    """A running compose project."""

    engine: Engine
    project: str
    mock_port: int
    app_port: int
    up: bool = field(default=True)

    @property
    def env(self) -> dict[str, str]:
        return {"MOCK_PORT": str(self.mock_port), "APP_PORT": str(self.app_port),
                "COMPOSE_PROJECT_NAME": self.project}  # fmt: skip

    def compose(self, *args: str, timeout: float = 120) -> str:
        return self.engine.run("compose", "-p", self.project, *args, env=self.env,
                               timeout=timeout).stdout  # fmt: skip

    def exec(self, service: str, *argv: str) -> str:
        return self.compose("exec", "-T", service, *argv)

    def state_file(self, name: str) -> bytes:
        return self.exec("mock-entra", "cat", f"/state/{name}").encode()

    def health(self) -> dict[str, str]:
        rows = [json.loads(line) for line in self.compose("ps", "--format", "json").splitlines()]
        return {row["Service"]: row.get("Health", "") for row in rows}

    def down(self) -> None:
        if self.up:
            self.engine.shell(readme_compose_commands()[1], env=self.env, timeout=120)
            self.up = False


@pytest.fixture(scope="module")
def stack(engine: Engine, image: str, session_id: str) -> Iterator[Stack]:
    """Scope: module. The compose stack, started with `docker compose up --wait`."""
    running = Stack(engine, f"{session_id}-compose", free_port(), free_port())
    try:
        started = time.monotonic()
        running.engine.shell(readme_compose_commands()[0], env=running.env, timeout=UP_TIMEOUT)
        FIGURES["compose up --wait"] = f"{time.monotonic() - started:.1f}s"
        yield running
    finally:
        if running.up:
            logs = running.engine.run("compose", "-p", running.project, "logs", "--no-color",
                                      env=running.env, check=False).stdout  # fmt: skip
            running.down()
            print(logs[-4000:])


def test_both_services_are_healthy_and_run_as_non_root(stack: Stack) -> None:
    assert stack.health() == {"mock-entra": "healthy", "client-app": "healthy"}
    for service in SERVICES:
        # PID 1 of the container (the server itself: exec'd by sh, or started directly).
        lines = stack.exec(service, "cat", "/proc/1/status").splitlines()
        status = dict(line.split(":\t", 1) for line in lines)
        real, effective, *_ = status["Uid"].split()
        assert real == effective == "999", (service, status["Uid"])
        assert status["Gid"].split()[:2] == ["999", "999"], (service, status["Gid"])
    # The volume the image prepared for the unprivileged user, and nothing else writable.
    owner = stack.exec("mock-entra", "stat", "-c", "%u:%g %a", "/state").split()
    assert owner == ["999:999", "755"]
    assert stack.exec("mock-entra", "stat", "-c", "%a", "/state/ca-key.pem").strip() == "600"


def test_a_browser_signs_in_through_the_stack_and_sees_the_graph_profile(
    stack: Stack, tmp_path: Path, pinned_browser: Callable[[list[str]], Browser]
) -> None:
    from conformance.flows import sign_in_to_app
    from conformance.pages.app import HomePage, ProfilePage
    from conformance.trust import spki_pins

    tenant = DEFAULT_CONFIG.default_tenant
    registration = tenant.apps[0]
    ca = tmp_path / "ca.pem"
    stack.engine.shell(readme_ca_copy(ca), env=stack.env)  # out of its volume, as the README says
    assert ca.read_bytes() == stack.state_file("ca.pem")
    authority = f"https://localhost:{stack.mock_port}/{tenant.tenant_id}"
    app_url = f"http://localhost:{stack.app_port}"
    users = tuple(User(u.username, u.password, u.display_name) for u in tenant.users)
    target = Target(
        kind="mock",
        authority=authority,
        tenant_id=tenant.tenant_id,
        client_id=registration.client_id,
        client_secret=registration.client_secrets[0],
        app_url=app_url,
        redirect_uri=f"{app_url}/getAToken",
        graph_endpoint=f"https://localhost:{stack.mock_port}/v1.0",
        ca_bundle=str(ca),
        users=users,
    )
    # Chromium trusts exactly the key the mock's CA vouches for (verified here first).
    pins = spki_pins([authority], str(ca))
    browser = pinned_browser(pins)  # on the run's one Playwright driver; closed after the test
    page = browser.new_context(locale="en-US").new_page()
    user = users[0]
    views = sign_in_to_app(page, target, user, artifacts_dir=tmp_path)
    assert page.url.startswith(app_url + "/")
    assert views, "the mock's sign-in pages were not shown"
    HomePage(page, target).expect_signed_in(user.username, user.display_name)
    ProfilePage(page, target).open().expect_user(user.username, user.display_name)


def test_the_app_container_is_secretless(stack: Stack) -> None:
    # PID 1's environment: what the app runs with (compose.yaml's client-app environment).
    raw = stack.exec("client-app", "cat", "/proc/1/environ")
    env = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
    assert "CLIENT_SECRET" not in env
    assert env["MANAGED_IDENTITY_CLIENT_ID"] == DEFAULT_MANAGED_IDENTITY_CLIENT_ID
    assert env["IDENTITY_ENDPOINT"].startswith("http://localhost:")
    assert env["IDENTITY_HEADER"]


# What DefaultAzureCredential needs beyond the image (the app itself does not use it): pure
# Python, copied from this environment into the container.
AZURE_IDENTITY_FILES = ("azure", "msal_extensions", "typing_extensions.py")
DEFAULT_CREDENTIAL = """
import base64, json
from azure.identity import DefaultAzureCredential
token = DefaultAzureCredential().get_token("https://graph.microsoft.com/.default").token
body = token.split(".")[1]
print(json.dumps(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))))
"""


def test_default_azure_credential_in_the_app_container_gets_the_identitys_token(
    stack: Stack, tmp_path: Path
) -> None:
    """Code in the app's container using `DefaultAzureCredential` (azure-identity) gets a
    Graph token from the mock's managed identity endpoint, as on App Service: through
    IDENTITY_ENDPOINT/IDENTITY_HEADER, with no other setting."""
    import azure.identity

    site = Path(azure.identity.__file__).parents[2]
    packages = tmp_path / "azpkgs"
    packages.mkdir()
    for name in AZURE_IDENTITY_FILES:
        source = site / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, packages / name)
    stack.compose("cp", str(packages), "client-app:/tmp/azpkgs")
    output = stack.compose(
        "exec", "-T", "-e", "PYTHONPATH=/tmp/azpkgs", "client-app",
        "python", "-c", DEFAULT_CREDENTIAL,
    )  # fmt: skip
    claims = json.loads(output.strip().splitlines()[-1])
    identity = next(
        m for m in DEFAULT_CONFIG.default_tenant.managed_identities if m.system_assigned
    )
    assert claims["appid"] == identity.client_id
    assert claims["oid"] == identity.object_id
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["iss"].endswith(f"/{DEFAULT_CONFIG.default_tenant.tenant_id}/")


def _fingerprints(stack: Stack) -> dict[str, str]:
    names = ("ca.pem", "ca-key.pem", "signing-1.pem", "signing-2.pem")
    return {name: hashlib.sha256(stack.state_file(name)).hexdigest() for name in names}


def test_restart_keeps_the_ca_and_the_signing_keys(stack: Stack, tmp_path: Path) -> None:
    before = _fingerprints(stack)
    jwks_url = (f"https://localhost:{stack.mock_port}/"
                f"{DEFAULT_CONFIG.default_tenant.tenant_id}/discovery/v2.0/keys")  # fmt: skip
    ca = tmp_path / "ca.pem"
    ca.write_bytes(stack.state_file("ca.pem"))
    keys_before = requests.get(jwks_url, verify=str(ca), timeout=10).json()

    stack.compose("restart", timeout=120)
    stack.compose("up", "--wait", "--wait-timeout", str(UP_TIMEOUT), timeout=UP_TIMEOUT + 30)

    assert _fingerprints(stack) == before
    # The restarted mock still serves TLS that the CA saved before the restart verifies.
    assert requests.get(jwks_url, verify=str(ca), timeout=10).json() == keys_before
    health = requests.get(f"http://localhost:{stack.app_port}/healthz", timeout=10)
    assert health.status_code == 200


def test_down_v_leaves_no_container_network_or_volume(stack: Stack, engine: Engine) -> None:
    label = f"com.docker.compose.project={stack.project}"
    assert labelled(engine, "container", label)  # the stack is there before
    stack.down()
    for kind in ("container", "network", "volume"):
        assert labelled(engine, kind, label) == [], kind
