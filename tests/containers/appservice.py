"""The App Service deployment `deploy/azure.sh` makes, simulated on one machine.

* **The tenant**: the mock, from the same image (`mock-entra serve`), with the app's
  `https://<app>.azurewebsites.net` redirect and post-logout URIs registered, as step 8 of
  `deploy/azure.sh` does in the real tenant. Its state (CA, keys) is on a volume of its own.
* **The container**, started the way App Service starts a custom container: the image's own
  CMD, `WEBSITES_PORT`/`PORT` and App Service's `WEBSITE_*` variables, the app settings as
  `-e` variables. What App Service logs for a start (Learn "Configure a custom container";
  its `docker run` lines quoted in MicrosoftDocs/azure-docs#34451 and microsoft/promptflow#508):
  `docker run -d --expose=<port> --name <site>_0_<id> -e WEBSITES_ENABLE_APP_SERVICE_STORAGE=false
  -e WEBSITES_PORT=<port> -e WEBSITE_SITE_NAME=<site> -e WEBSITE_AUTH_ENABLED=False -e PORT=<port>
  -e WEBSITE_ROLE_INSTANCE_ID=0 -e WEBSITE_HOSTNAME=<site>.azurewebsites.net
  -e WEBSITE_INSTANCE_ID=<id> ... <image>`.
  The app reaches the stand-in tenant as `https://localhost:<port>` (it shares the tenant
  container's network namespace, as in compose.yaml), so three settings the real deployment
  does not need are added: `AUTHORITY`, `GRAPH_ENDPOINT` and `CA_BUNDLE` (the real Entra and
  Graph have public certificates).
* **The managed identity**: the site has a user-assigned identity, as `deploy/azure.sh
  --secretless` gives it, so the platform adds `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`
  (Learn, "How to use managed identities for App Service": the local token endpoint and the
  header that guards it); here the tenant container serves that endpoint
  (`mock-entra serve --managed-identity-port`), and the app settings name the identity
  (`MANAGED_IDENTITY_CLIENT_ID`) instead of a client secret.
* **The front end**: nginx terminating TLS for `<app>.azurewebsites.net` with a certificate
  for `*.azurewebsites.net` from a CA made here, forwarding plain HTTP to the container with
  the headers App Service's front end sets (`FRONT_END_HEADERS`).
* **DNS**: the browser maps `<app>.azurewebsites.net:443` to the front end with Chromium's
  `--host-resolver-rules`; the suites' own HTTP calls with `resolve_hosts`.
"""

from __future__ import annotations

import datetime
import json
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mock_entra.core.config import (
    DEFAULT_CONFIG,
    DEFAULT_MANAGED_IDENTITY_CLIENT_ID,
    config_to_dict,
    with_redirect_uris,
)
from mock_entra.ports import free_port
from tests.containers.engine import Engine

CONTAINER_PORT = 8000  # WEBSITES_PORT: the port the image listens on by default
IDENTITY_PORT = 8081  # the managed identity endpoint, inside the tenant's network namespace
# Headers App Service's front end adds (and overwrites, so a client cannot forge them) on the
# way to a Linux container. Sources: the header dump of a Linux container in
# dotnet/AspNetCore.Docs#2384 (Host kept, X-Forwarded-For "ip:port", X-Forwarded-Host,
# X-ARR-SSL, X-Client-IP, X-Original-URL, X-WAWS-Unencoded-URL, DISGUISED-HOST,
# WAS-DEFAULT-HOSTNAME, X-ARR-LOG-ID, X-SITE-DEPLOYMENT-ID, X-Forwarded-Server, Max-Forwards),
# and Learn "Configure a Linux Python app for Azure App Service" > "Detect HTTPS session"
# (X-Forwarded-Proto: TLS ends at the front end, the app sees plain HTTP).
FRONT_END_HEADERS = (
    "Host",
    "X-Forwarded-Proto",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-ARR-SSL",
    "X-Client-IP",
    "X-Client-Port",
    "X-Original-URL",
    "X-WAWS-Unencoded-URL",
    "DISGUISED-HOST",
    "WAS-DEFAULT-HOSTNAME",
    "X-SITE-DEPLOYMENT-ID",
    "X-ARR-LOG-ID",
)


def nginx_binary() -> str | None:
    """nginx from PATH or Debian's /usr/sbin (not on a normal user's PATH)."""
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


# -- the *.azurewebsites.net certificate ----------------------------------------------------


@dataclass(frozen=True)
class FrontEndCert:
    ca: Path
    cert: Path
    key: Path


def make_front_end_cert(directory: Path) -> FrontEndCert:
    """A CA of this test run, and a `*.azurewebsites.net` server certificate it signed (the
    wildcard certificate App Service's front end serves for every default host name)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "entra-lab test front-end CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("*.azurewebsites.net"), x509.DNSName("azurewebsites.net")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*.azurewebsites.net")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = FrontEndCert(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.touch(mode=0o600)
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# -- the front end ---------------------------------------------------------------------------


def nginx_conf(workdir: Path, host: str, listen_port: int, upstream_port: int,
               cert: FrontEndCert) -> str:  # fmt: skip
    """nginx as App Service's front end for `host`: TLS here, plain HTTP to the container,
    the front end's headers set (client-sent copies overwritten)."""
    arr_ssl = "2048|256|CN=entra-lab test front-end CA|CN=*.azurewebsites.net"
    return f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{listen_port} ssl;
        server_name {host};
        ssl_certificate {cert.cert};
        ssl_certificate_key {cert.key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host {host};
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-For "$remote_addr:$remote_port";
            proxy_set_header X-Forwarded-Host {host};
            proxy_set_header X-ARR-SSL "{arr_ssl}";
            proxy_set_header X-Client-IP $remote_addr;
            proxy_set_header X-Client-Port $remote_port;
            proxy_set_header X-Original-URL $request_uri;
            proxy_set_header X-WAWS-Unencoded-URL $request_uri;
            proxy_set_header DISGUISED-HOST {host};
            proxy_set_header WAS-DEFAULT-HOSTNAME {host};
            proxy_set_header X-SITE-DEPLOYMENT-ID {host.split(".")[0]};
            proxy_set_header X-ARR-LOG-ID $request_id;
            proxy_set_header Forwarded "";
        }}
    }}
}}
"""


@dataclass
class FrontEnd:
    process: subprocess.Popen[bytes]
    workdir: Path
    port: int

    @classmethod
    def start(cls, workdir: Path, host: str, upstream_port: int,
              cert: FrontEndCert) -> FrontEnd:  # fmt: skip
        binary = nginx_binary()
        assert binary, "nginx is not installed"
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        conf = workdir / "nginx.conf"
        conf.write_text(nginx_conf(workdir, host, port, upstream_port, cert))
        process = subprocess.Popen(
            [binary, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, (workdir / "error.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, (workdir / "error.log").read_text()
                time.sleep(0.05)
        return cls(process, workdir, port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# -- the tenant and the site -----------------------------------------------------------------


def _wait(what: str, probe: object, timeout: float, log: object = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if probe():  # type: ignore[operator]
                return
        except (OSError, requests.RequestException):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready in {timeout:.0f}s\n{log() if log else ''}")  # type: ignore[operator]
        time.sleep(0.2)


@dataclass
class Tenant:
    """The stand-in tenant: the mock from the same image, in a container of its own, which
    also publishes the site's port (the site lives in its network namespace)."""

    engine: Engine
    name: str
    volume: str
    mock_port: int
    site_port: int
    ca_bundle: Path  # the mock's CA bundle (system CAs + its CA), copied out of the volume
    config: dict[str, object] = field(repr=False)
    identity_header: str = field(default="", repr=False)  # what the platform's endpoint wants

    @classmethod
    def start(cls, engine: Engine, image: str, name: str, label: str, app_url: str,
              workdir: Path) -> Tenant:  # fmt: skip
        mock_port, site_port = free_port(), free_port()
        config = config_to_dict(
            with_redirect_uris(DEFAULT_CONFIG, [f"{app_url}/getAToken"], [f"{app_url}/"])
        )
        config_file = workdir / "tenant-config.json"
        config_file.write_text(json.dumps(config))
        config_file.chmod(0o644)
        volume = f"{name}-state"
        header = secrets.token_urlsafe(24)
        engine.run("volume", "create", "--label", label, volume)
        engine.run(
            "create", "--name", name, "--label", label,
            "-e", f"MOCK_ENTRA_MANAGED_IDENTITY_HEADER={header}",
            "-p", f"127.0.0.1:{mock_port}:{mock_port}",
            "-p", f"127.0.0.1:{site_port}:{CONTAINER_PORT}",
            "-v", f"{volume}:/state",
            image,
            "mock-entra", "serve", "--host", "0.0.0.0", "--port", str(mock_port),
            "--state-dir", "/state", "--config", "/tmp/tenant-config.json",
            "--managed-identity-port", str(IDENTITY_PORT),
        )  # fmt: skip
        engine.run("cp", str(config_file), f"{name}:/tmp/tenant-config.json")
        engine.run("start", name)
        tenant = cls(engine, name, volume, mock_port, site_port, workdir / "mock-ca-bundle.pem",
                     config, header)  # fmt: skip

        def ready() -> bool:
            bundle = engine.run("exec", name, "cat", "/state/ca-bundle.pem", check=False)
            if bundle.returncode != 0:
                return False
            tenant.ca_bundle.write_text(bundle.stdout)
            return requests.get(tenant.discovery_url, verify=str(tenant.ca_bundle),
                                timeout=3).status_code == 200  # fmt: skip

        _wait(
            "the stand-in tenant", ready, 60, lambda: engine.run("logs", name, check=False).stderr
        )
        return tenant

    @property
    def tenant_id(self) -> str:
        return DEFAULT_CONFIG.default_tenant.tenant_id

    @property
    def authority(self) -> str:
        return f"https://localhost:{self.mock_port}/{self.tenant_id}"

    @property
    def graph_endpoint(self) -> str:
        return f"https://localhost:{self.mock_port}/v1.0"

    @property
    def discovery_url(self) -> str:
        return f"{self.authority}/v2.0/.well-known/openid-configuration"

    def remove(self) -> None:
        self.engine.run("rm", "-f", "-v", self.name, check=False)
        self.engine.run("volume", "rm", "-f", self.volume, check=False)


def app_settings(
    tenant: Tenant, app_url: str, *, trust_proxy: bool, secretless: bool = True
) -> dict[str, str]:
    """The app settings `deploy/azure.sh` sets (its step 6; `--secretless`: the identity's
    client id in place of the secret), plus the three that point the app at the stand-in
    tenant instead of the real Entra and Graph."""
    registration = DEFAULT_CONFIG.default_tenant.apps[0]
    credential = (
        {"MANAGED_IDENTITY_CLIENT_ID": DEFAULT_MANAGED_IDENTITY_CLIENT_ID}
        if secretless
        else {"CLIENT_SECRET": registration.client_secrets[0]}
    )
    settings = {
        "TENANT_ID": tenant.tenant_id,
        "CLIENT_ID": registration.client_id,
        **credential,
        "REDIRECT_URI": f"{app_url}/getAToken",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "WEBSITES_PORT": str(CONTAINER_PORT),
        # The stand-in tenant (not needed with the real Entra ID and Graph):
        "AUTHORITY": tenant.authority,
        "GRAPH_ENDPOINT": tenant.graph_endpoint,
        "CA_BUNDLE": "/state/ca-bundle.pem",
    }
    if trust_proxy:
        settings["TRUST_PROXY"] = "true"
    return settings


def app_service_run_args(
    site: str, host: str, settings: dict[str, str], identity_header: str = ""
) -> list[str]:
    """`docker run` arguments as App Service builds them for a custom container (see the
    module docstring): its own variables first (with the managed identity endpoint's when
    `identity_header` is given), then every app setting."""
    port = settings.get("WEBSITES_PORT", "80")
    platform = {
        "WEBSITES_ENABLE_APP_SERVICE_STORAGE": "false",
        "WEBSITES_PORT": port,
        "WEBSITE_SITE_NAME": site,
        "WEBSITE_AUTH_ENABLED": "False",
        "PORT": port,
        "WEBSITE_ROLE_INSTANCE_ID": "0",
        "WEBSITE_HOSTNAME": host,
        "WEBSITE_INSTANCE_ID": secrets.token_hex(32),
        "WEBSITE_USE_DIAGNOSTIC_SERVER": "False",
    }
    if identity_header:
        platform["IDENTITY_ENDPOINT"] = f"http://localhost:{IDENTITY_PORT}/msi/token"
        platform["IDENTITY_HEADER"] = identity_header
    # App Service also passes `--expose=<port>` (or `-p <random>:<port>`); here the stand-in
    # tenant's container publishes the port, since the site shares its network namespace.
    args = ["-d", "--name", f"{site}_0_{secrets.token_hex(4)}"]
    for key, value in {**platform, **settings}.items():
        args += ["-e", f"{key}={value}"]
    return args
