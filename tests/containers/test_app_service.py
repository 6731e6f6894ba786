"""The App Service deployment of `deploy/azure.sh`, simulated end to end (see `appservice`):
the image started as App Service starts a custom container, behind a TLS front end for
`https://<app>.azurewebsites.net`, signed into with the mock as the tenant; then
`conformance run --target live` against that URL, exactly as against a real deployment.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conformance.browser import find_browser
from conformance.trust import spki_pin
from mock_entra.core.config import DEFAULT_MANAGED_IDENTITY_CLIENT_ID
from tests.containers.appservice import (
    CONTAINER_PORT,
    FrontEnd,
    FrontEndCert,
    Tenant,
    _wait,
    app_service_run_args,
    app_settings,
    make_front_end_cert,
    nginx_binary,
)
from tests.containers.conftest import FIGURES
from tests.containers.engine import ROOT, Engine, labelled
from tests.containers.resolve_hosts import ENV as RESOLVE_ENV


class _FrontEndConnection(http.client.HTTPSConnection):
    """HTTPS to `host` (SNI, certificate check and Host header) at another address: what DNS
    pointing `host` at the front end would give."""

    def __init__(self, host: str, address: tuple[str, int], context: ssl.SSLContext) -> None:
        super().__init__(host, 443, context=context, timeout=15)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection(self._address, self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass
class Deployment:
    engine: Engine
    image: str
    site: str
    label: str
    tenant: Tenant
    cert: FrontEndCert
    front: FrontEnd
    workdir: Path
    container: str | None = None

    @property
    def host(self) -> str:
        return f"{self.site}.azurewebsites.net"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def deploy(self, *, trust_proxy: bool, secretless: bool = True) -> float:
        """(Re)start the site's container as App Service does; seconds until /healthz is 200
        through the front end (App Service's warm-up). `secretless`: the site's managed
        identity signs the app in (`deploy/azure.sh --secretless`), else a client secret."""
        self.undeploy()
        settings = app_settings(
            self.tenant, self.url, trust_proxy=trust_proxy, secretless=secretless
        )
        args = app_service_run_args(self.site, self.host, settings, self.tenant.identity_header)
        started = time.monotonic()
        self.engine.run(
            "run", *args, "--label", self.label, "--network", f"container:{self.tenant.name}",
            "-v", f"{self.tenant.volume}:/state:ro", self.image,
        )  # fmt: skip
        self.container = args[args.index("--name") + 1]

        def logs() -> str:
            return self.engine.run("logs", self.container or "", check=False).stderr[-3000:]

        _wait("the site", lambda: self.fetch("/healthz")[0] == 200, 60, logs)
        return time.monotonic() - started

    def undeploy(self) -> None:
        if self.container:
            self.engine.run("rm", "-f", self.container, check=False)
            self.container = None

    def fetch(
        self, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, str]:
        """One request to the site through the front end, as a browser on the internet."""
        context = ssl.create_default_context(cafile=str(self.cert.ca))
        connection = _FrontEndConnection(self.host, ("127.0.0.1", self.front.port), context)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read().decode(errors="replace")
        finally:
            connection.close()


def _pin(cert: Path) -> str:
    spki = (
        x509.load_pem_x509_certificate(cert.read_bytes())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def deployment(
    engine: Engine, image: str, session_id: str, session_label: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:  # fmt: skip
    """Scope: module. The tenant, the front end and the site (TRUST_PROXY=true)."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (the simulated front end): apt-get install nginx")
    workdir = tmp_path_factory.mktemp("app-service")
    site = f"entra-lab-{session_id}"
    url = f"https://{site}.azurewebsites.net"
    tenant = Tenant.start(engine, image, f"{session_id}-tenant", session_label, url, workdir)
    front = None
    try:
        cert = make_front_end_cert(workdir / "front-end-tls")
        front = FrontEnd.start(workdir / "nginx", f"{site}.azurewebsites.net", tenant.site_port,
                               cert)  # fmt: skip
        deployed = Deployment(engine, image, site, session_label, tenant, cert, front, workdir)
        FIGURES["App Service start to /healthz"] = f"{deployed.deploy(trust_proxy=True):.1f}s"
        yield deployed
        deployed.undeploy()
    finally:
        if front:
            front.stop()
        tenant.remove()
    assert labelled(engine, "container", session_label) == []


def test_the_container_runs_as_app_service_starts_it(deployment: Deployment) -> None:
    inspect = json.loads(deployment.engine.run("inspect", deployment.container or "").stdout)[0]
    env = dict(item.split("=", 1) for item in inspect["Config"]["Env"])
    assert env["PORT"] == env["WEBSITES_PORT"] == str(CONTAINER_PORT)
    assert env["WEBSITE_HOSTNAME"] == deployment.host
    assert inspect["Config"]["User"] == "999:999"  # the image's user; App Service adds none
    # Secretless: the platform's identity endpoint and the identity's id, no secret.
    assert "CLIENT_SECRET" not in env
    assert env["MANAGED_IDENTITY_CLIENT_ID"] == DEFAULT_MANAGED_IDENTITY_CLIENT_ID
    assert env["IDENTITY_ENDPOINT"].endswith("/msi/token") and env["IDENTITY_HEADER"]
    image_cmd = deployment.engine.run(
        "image", "inspect", deployment.image, "--format", "{{json .Config.Cmd}}"
    ).stdout
    assert inspect["Config"]["Cmd"] == json.loads(image_cmd)  # the image's own CMD
    status, headers, body = deployment.fetch("/healthz")
    assert status == 200 and "Set-Cookie" not in headers, body


def test_the_front_end_overwrites_forwarded_headers_a_client_sends(deployment: Deployment) -> None:
    # A client claiming another host must not move the app's links there (RFC 9700 §4.13:
    # the proxy sanitises forwarded headers; App Service overwrites them).
    status, headers, _ = deployment.fetch(
        "/login", headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
    )
    assert status == 302
    query = parse_qs(urlsplit(headers["Location"]).query)
    assert query["redirect_uri"] == [f"{deployment.url}/getAToken"]


def _conformance_env(deployment: Deployment) -> dict[str, str]:
    tenant = deployment.tenant
    bundle = deployment.workdir / "trust.pem"  # the mock's bundle (system CAs + its CA) + ours
    bundle.write_text(tenant.ca_bundle.read_text() + deployment.cert.ca.read_text())
    choice = find_browser(None)
    assert choice and choice.executable, "no Chromium to run the suites"
    pins = sorted({spki_pin(tenant.authority, str(tenant.ca_bundle)), _pin(deployment.cert.cert)})
    wrapper = deployment.workdir / "chromium"
    # The app's host name resolves to the front end (port included: the URL has none, as on
    # Azure), and Chromium trusts the keys both CAs vouch for. Appended after Playwright's
    # arguments: the last --ignore-certificate-errors-spki-list wins.
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec '{choice.executable}' \"$@\" "
        f"'--host-resolver-rules=MAP {deployment.host}:443 127.0.0.1:{deployment.front.port}' "
        f"'--ignore-certificate-errors-spki-list={','.join(pins)}'\n"
    )
    wrapper.chmod(0o755)
    users = deployment.tenant.config["tenants"][0]["users"]  # type: ignore[index]
    registration = deployment.tenant.config["tenants"][0]["apps"][0]  # type: ignore[index]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENTRA_", "CONFORMANCE_"))}
    return env | {
        "ENTRA_TENANT_ID": tenant.tenant_id,
        "ENTRA_CLIENT_ID": registration["client_id"],
        "ENTRA_CLIENT_SECRET": registration["client_secrets"][0],
        "ENTRA_APP_URL": deployment.url,
        "ENTRA_AUTHORITY": tenant.authority,
        "ENTRA_GRAPH_ENDPOINT": tenant.graph_endpoint,
        "ENTRA_CA_BUNDLE": str(bundle),
        "ENTRA_USERNAME": users[0]["username"],
        "ENTRA_PASSWORD": users[0]["password"],
        "ENTRA_USERNAME_2": users[1]["username"],
        "ENTRA_PASSWORD_2": users[1]["password"],
        "CONFORMANCE_BROWSER": str(wrapper),
        "REQUESTS_CA_BUNDLE": str(bundle),
        RESOLVE_ENV: f"{deployment.host}:443=127.0.0.1:{deployment.front.port}",
    }


KEY_TESTS = (
    "test_signing_in_shows_the_users_graph_profile",
    "test_signing_out_ends_the_app_session_and_returns_home",
    "test_every_cookie_the_app_sets_is_httponly_with_the_samesite_its_response_mode_needs",
    "test_healthz_answers_200_anonymously_without_setting_cookies",
)


def run_live(deployment: Deployment, name: str, *pytest_args: str) -> dict[str, str]:
    """`conformance run --target live` against the site; test name -> outcome."""
    report = deployment.workdir / name
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--target", "live",
         "--report", str(report), "--", "-p", "tests.containers.resolve_hosts", *pytest_args],
        cwd=ROOT, env=_conformance_env(deployment), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    results = json.loads((report / "results.json").read_text())
    assert results["target"]["app_url"] == deployment.url
    outcomes = {t["nodeid"].split("::")[-1]: t["outcome"] for t in results["tests"]}
    # A key test renamed in the suites would otherwise read as "not passed" (None).
    missing = [name for name in KEY_TESTS if name not in outcomes]
    assert not missing, f"not in the suites any more (renamed?): {missing}"
    return outcomes


def test_conformance_live_passes_against_the_simulated_deployment(
    deployment: Deployment,
) -> None:
    outcomes = run_live(deployment, "live-report")
    for name in KEY_TESTS:  # sign-in and profile, sign-out home, secure cookies, /healthz
        assert outcomes.get(name) == "passed", (name, outcomes.get(name))
    counts = Counter(outcomes.values())
    assert set(counts) <= {"passed", "skipped"}, counts  # skipped: mock_only (admin API)
    FIGURES["live conformance"] = f"{counts['passed']} passed, {counts['skipped']} skipped"


def test_without_trust_proxy_the_deployment_still_works(deployment: Deployment) -> None:
    """Without TRUST_PROXY=true the site still signs users in with https links and Secure
    cookies: every absolute URL the app sends (redirect URI, post-logout URI) comes from
    REDIRECT_URI, `Secure` from REDIRECT_URI's scheme, and its own redirects are relative
    paths, so the forwarded headers change nothing a browser sees. The key live tests pass
    with the setting off; TRUST_PROXY stays in `deploy/azure.sh` as the right setting behind
    App Service's front end (the app then sees the public scheme and host), not as a fix
    this app needs. This deployment has the client secret (`deploy/azure.sh` without
    `--secretless`), so both ways of signing the app in are run."""
    deployment.deploy(trust_proxy=False, secretless=False)
    try:
        status, headers, _ = deployment.fetch("/login")
        assert status == 302, headers
        query = parse_qs(urlsplit(headers["Location"]).query)
        assert query["redirect_uri"] == [f"{deployment.url}/getAToken"]
        cookies: SimpleCookie = SimpleCookie()
        for header in headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        assert cookies and all(c["secure"] for c in cookies.values()), headers
        outcomes = run_live(deployment, "live-no-trust-proxy", "-k", " or ".join(KEY_TESTS))
        assert {outcomes.get(name) for name in KEY_TESTS} == {"passed"}, outcomes
    finally:
        deployment.deploy(trust_proxy=True)
