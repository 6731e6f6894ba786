"""compose.yaml's `shared` profile on a real engine: Postgres, two mock replicas and nginx in
front, as a team runs one mock (issue 22). Through the balancer's published port only:

- a browser (Chromium) signs in while only `mock-1` is up, and MSAL redeems the code;
- `mock-2` comes back, `mock-1` stops, and the same browser's `prompt=none` is answered with a
  code by `mock-2`, from the SSO session `mock-1` wrote to the shared store (each replica's
  access log says which served what);
- MSAL client-credentials tokens, each client on a connection of its own, are served by both
  replicas in turn and verify with the JWKS (one key set, one issuer: the balancer's URL).

The stack runs under its own project name on a free host port (`SHARED_PORT`), started with
the documented command (`docker compose --profile shared up --build --wait mock-lb`) and
removed with `down -v` (and the images only this project built).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msal
import pytest
from playwright.sync_api import Browser, Page

from conformance.flows import RedirectCatcher, authorization_response
from conformance.targets import User
from conformance.trust import TrustingSession, spki_pins
from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.ports import free_port
from tests.containers.conftest import FIGURES
from tests.containers.engine import ROOT, Engine, labelled
from tests.containers.test_mock_image import API, client_token, verified_claims

DOCS = ROOT / "docs" / "containers.md"
REPLICAS = ("mock-1", "mock-2")
UP_TIMEOUT = 240  # seconds: the first build of the Postgres and nginx images included
HEALTH_TIMEOUT = 60
TENANT = DEFAULT_CONFIG.default_tenant
APP = TENANT.apps[0]
# A redirect URI of the demo app; the browser's request to it is answered by the test itself.
REDIRECT = next(uri for uri in APP.redirect_uris if uri.startswith("http://localhost"))


def documented(command: str) -> str:
    """The line of docs/containers.md's "A shared mock" block that runs `docker compose
    --profile shared COMMAND`, without its comment."""
    block = re.search(r"## A shared mock.*?```bash\n(.*?)```", DOCS.read_text(), re.S)
    assert block, f"{DOCS.name} has no bash block under '## A shared mock'"
    lines = [ln.split("#")[0].strip() for ln in block[1].splitlines()]
    (line,) = [ln for ln in lines if ln.startswith(f"docker compose --profile shared {command} ")]
    return line


@dataclass
class SharedStack:
    """The running `shared` profile, reached as https://localhost:<port>."""

    engine: Engine
    project: str
    port: int

    @property
    def env(self) -> dict[str, str]:
        return {"SHARED_PORT": str(self.port), "COMPOSE_PROJECT_NAME": self.project}

    @property
    def authority(self) -> str:
        return f"https://localhost:{self.port}/{TENANT.tenant_id}"

    def compose(self, *args: str, timeout: float = 120) -> str:
        return self.engine.run("compose", "-p", self.project, "--profile", "shared", *args,
                               env=self.env, timeout=timeout).stdout  # fmt: skip

    def health(self, service: str) -> str:
        rows = [json.loads(line) for line in self.compose("ps", "--format", "json").splitlines()]
        return next((row.get("Health", "") for row in rows if row["Service"] == service), "")

    def start(self, service: str) -> None:
        """`docker compose start SERVICE`, then wait until its healthcheck passes."""
        self.compose("start", service)
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while (health := self.health(service)) != "healthy":
            assert time.monotonic() < deadline, f"{service}: {health}"
            time.sleep(1)

    def access_log(self, service: str) -> list[str]:
        """The requests `service` served from outside (its own healthchecks are from 127.0.0.1)."""
        lines = self.compose("logs", "--no-color", "--no-log-prefix", service).splitlines()
        return [ln for ln in lines if " INFO " in ln and " INFO 127.0.0.1 " not in ln]


@pytest.fixture(scope="module")
def shared(engine: Engine, mock_image: str, session_id: str) -> Iterator[SharedStack]:
    """Scope: module. The profile, up and healthy (`--wait`); removed afterwards."""
    stack = SharedStack(engine, f"{session_id}-shared", free_port())
    try:
        started = time.monotonic()
        engine.shell(documented("up"), env=stack.env, timeout=UP_TIMEOUT)
        FIGURES["shared up --build --wait"] = f"{time.monotonic() - started:.1f}s"
        yield stack
    finally:
        logs = engine.run("compose", "-p", stack.project, "--profile", "shared", "logs",
                          "--no-color", env=stack.env, check=False).stdout  # fmt: skip
        stack.compose("down", "-v", timeout=180)
        # The Postgres and nginx images this project built (compose names them after it; `down
        # --rmi local` finds no image once the containers are gone).
        built = [f"{stack.project}-{name}" for name in ("postgres", "mock-lb")]
        engine.run("image", "rm", *built, check=False)
        print(logs[-4000:])


def msal_app(stack: SharedStack, ca: Path) -> msal.ConfidentialClientApplication:
    """A new MSAL client (its own token cache and connection pool) through the balancer."""
    return msal.ConfidentialClientApplication(
        APP.client_id,
        client_credential=APP.client_secrets[0],
        authority=stack.authority,
        http_client=TrustingSession(str(ca)),  # verify= per call: REQUESTS_CA_BUNDLE is set here
        instance_discovery=False,
    )


def prompt_none(page: Page, auth_uri: str) -> dict[str, str]:
    """The authorization response to `auth_uri` (prompt=none, form_post) in this browser."""
    catcher = RedirectCatcher(REDIRECT)
    catcher.install(page)
    try:
        page.goto(auth_uri)
        page.wait_for_url(catcher.matches)
    finally:
        catcher.remove(page)
    return catcher.params


def test_a_browser_signs_in_at_one_replica_and_the_other_answers_prompt_none(
    shared: SharedStack, tmp_path: Path, pinned_browser: Callable[[list[str]], Browser]
) -> None:
    ca = tmp_path / "ca.pem"
    copy = documented("cp")  # ... cp -L mock-1:/ca.pem <file>, to this test's file
    shared.engine.shell(copy.removesuffix(copy.split()[-1]) + str(ca), env=shared.env)
    # One CA (and key set) for both: a copy of what mock-keys made.
    assert ca.read_text() == shared.compose("exec", "-T", "mock-2", "cat", "/ca.pem")
    user = TENANT.users[0]
    browser = pinned_browser(spki_pins([shared.authority], str(ca)))
    page = browser.new_context(locale="en-US").new_page()

    # Only mock-1 up: the balancer skips mock-2, and the whole sign-in is mock-1's.
    shared.compose("stop", "mock-2")
    app = msal_app(shared, ca)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT,
                                       response_mode="form_post")  # fmt: skip
    assert flow["auth_uri"].startswith(shared.authority + "/oauth2/v2.0/authorize?")
    person = User(user.username, user.password, user.display_name)
    response = authorization_response(page, flow["auth_uri"], REDIRECT, person,
                                      artifacts_dir=tmp_path)  # fmt: skip
    signed_in = app.acquire_token_by_auth_code_flow(flow, response)
    assert signed_in.get("id_token_claims", {}).get("preferred_username") == user.username, (
        signed_in
    )
    login = f'"POST /{TENANT.tenant_id}/login" 200 '  # the sign-in's views, posted
    assert any(login in ln for ln in shared.access_log("mock-1"))
    assert not any("/authorize" in ln for ln in shared.access_log("mock-2"))

    # mock-2 back, mock-1 gone: mock-2 never saw this browser; the store has its session.
    shared.start("mock-2")
    shared.compose("stop", "mock-1")
    silent = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, prompt="none",
                                         response_mode="form_post")  # fmt: skip
    answer = prompt_none(page, silent["auth_uri"])
    assert "code" in answer, answer
    again = app.acquire_token_by_auth_code_flow(silent, answer)
    assert again.get("id_token_claims", {}).get("oid") == signed_in["id_token_claims"]["oid"]
    served = [ln for ln in shared.access_log("mock-2") if "/authorize?" in ln]
    assert any("prompt=none" in ln and '" 200 ' in ln for ln in served), served
    shared.start("mock-1")


def test_client_credentials_tokens_come_from_both_replicas_with_one_key_set(
    shared: SharedStack, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(shared.compose("exec", "-T", "mock-1", "cat", "/ca.pem"))
    info = {"client_id": APP.client_id, "client_secret": APP.client_secrets[0],
            "authority": shared.authority, "ca_file": str(ca),
            "base_url": f"https://localhost:{shared.port}"}  # fmt: skip
    token = re.compile(rf'"POST /{TENANT.tenant_id}/oauth2/v2\.0/token" 200 ')

    def served() -> dict[str, int]:
        return {name: sum(1 for ln in shared.access_log(name) if token.search(ln))
                for name in REPLICAS}  # fmt: skip

    before = served()
    # Each a new MSAL client on a new connection, which the balancer hands to the next replica
    # (a replica just restarted is left out for nginx's fail_timeout, 5 s: hence the loop).
    results, deadline = [], time.monotonic() + HEALTH_TIMEOUT
    while len(results) < 2 or not all(served()[n] > before[n] for n in REPLICAS):
        assert time.monotonic() < deadline, (before, served())
        results.append(client_token(info, API))
    assert sum(served().values()) - sum(before.values()) == len(results)
    for result in results:
        assert result.get("token_type") == "Bearer", result
        claims = verified_claims(info, result["access_token"])  # the JWKS, through the balancer
        assert claims["tid"] == TENANT.tenant_id
        v2 = claims.get("ver") == "2.0"
        assert claims["iss"] == (
            f"{shared.authority}/v2.0" if v2 else f"https://sts.windows.net/{TENANT.tenant_id}/"
        )


def test_down_v_leaves_no_container_network_or_volume(shared: SharedStack, engine: Engine):
    """Last in the file (the others need the stack); the fixture's `down` then finds nothing."""
    label = f"com.docker.compose.project={shared.project}"
    assert labelled(engine, "container", label)
    shared.engine.shell(documented("down"), env=shared.env, timeout=180)
    for kind in ("container", "network", "volume"):
        assert labelled(engine, kind, label) == [], kind
