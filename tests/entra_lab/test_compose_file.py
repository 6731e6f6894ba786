"""compose.yaml without a Docker engine: it is a valid Compose file with the intended wiring,
and its services' own commands, environments and healthchecks work together when started as
local processes. (tests/containers runs the same file on a real engine.)

The file's only variables are the host ports, `${MOCK_PORT:-8443}` and `${APP_PORT:-5000}`,
the managed identity endpoints' port and header (`${IDENTITY_PORT:-8444}`,
`${IDENTITY_HEADER:-...}`), and the image's name, `${ENTRA_LAB_IMAGE:-entra-lab:local}`;
`interpolate` applies Compose's rules for the forms it uses (`${VAR:-default}`, `${VAR}`,
`$$`). Starting the services locally substitutes only what makes sense inside Docker alone:

* free ports for MOCK_PORT, APP_PORT and IDENTITY_PORT, through the file's own interpolation (so the
  mock's command registers that app URL itself, as it does in a container);
* the services' console scripts (`mock-entra`, `client-app`, `python`) are those of this
  virtual environment (first on PATH; the image puts the same scripts on PATH);
* `/state` (the named volume) is a temp dir;
* `0.0.0.0` becomes `127.0.0.1` (tests listen on loopback only);
* the image's ENV (Dockerfile) is applied, except PATH and the build-time UV_* variables.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml

from mock_entra.core.config import DEFAULT_CONFIG, DEFAULT_MANAGED_IDENTITY_CLIENT_ID
from mock_entra.core.pki.state import StatePaths
from mock_entra.info import ManagedIdentityInfo
from mock_entra.ports import free_port
from mock_entra.server import info as mock_info
from tests.entra_lab.dockerfile_model import env_pairs, parse_dockerfile, stages
from tests.entra_lab.lab_procs import group_running
from tests.mock_entra.signin_http import http_sign_in

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
SCHEMA = Path(__file__).with_name("data") / "compose-spec.json"
MOCK_PORT, APP_PORT, IDENTITY_PORT, STATE = 8443, 5000, 8444, "/state"
IDENTITY_HEADER = "entra-lab-local-identity-header"
APP_VARIABLES = {"TENANT_ID", "CLIENT_ID", "CLIENT_SECRET", "AUTHORITY", "REDIRECT_URI",
                 "POST_LOGOUT_REDIRECT_URI", "GRAPH_ENDPOINT", "SCOPE", "SECRET_KEY", "CA_BUNDLE",
                 "TRUST_PROXY", "SESSION_DIR", "APP_ENV", "RESPONSE_MODE", "LOG_LEVEL",
                 "MANAGED_IDENTITY_CLIENT_ID", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                 "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"}  # fmt: skip


VARIABLES = {"MOCK_PORT": str(MOCK_PORT), "APP_PORT": str(APP_PORT),
             "IDENTITY_PORT": str(IDENTITY_PORT), "IDENTITY_HEADER": IDENTITY_HEADER,
             "ENTRA_LAB_IMAGE": "entra-lab:local",
             # the mock alone (profile `mock`)
             "MOCK_ONLY_PORT": "9443", "MOCK_ENTRA_IMAGE": "mock-entra:local",
             # the shared mock (profile `shared`): its load balancer's host port
             "SHARED_PORT": "9444"}  # fmt: skip
SHARED = ("postgres", "mock-keys", "mock-1", "mock-2", "mock-lb")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation for `${VAR:-default}`, `${VAR}` and `$$` (a literal `$`)."""

    def value(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, default = match["name"], match["default"]
        return env.get(name) or (default if default is not None else "")

    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}", value, text)


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml as Compose reads it with `env` (default: no variable set)."""
    return yaml.safe_load(interpolate(COMPOSE.read_text(), env or {}))


def service(name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    return compose(env)["services"][name]


def expected_app_environment() -> dict[str, str]:
    """What `mock-entra info` gives for the embedded tenant at https://localhost:8443 with its
    state in /state and its managed identity endpoints on 8444, as the app variables, with
    the defaults' managed identity in place of the client secret (secretless)."""
    endpoints = ManagedIdentityInfo.of("localhost", IDENTITY_PORT, IDENTITY_HEADER)
    info = mock_info(
        DEFAULT_CONFIG,
        StatePaths(Path(STATE)),
        f"https://localhost:{MOCK_PORT}",
        None,
        managed_identity=endpoints,
    )
    return {
        "TENANT_ID": info["tenant_id"],
        "CLIENT_ID": info["client_id"],
        "MANAGED_IDENTITY_CLIENT_ID": DEFAULT_MANAGED_IDENTITY_CLIENT_ID,
        "IDENTITY_ENDPOINT": info["managed_identity"]["identity_endpoint"],
        "IDENTITY_HEADER": info["managed_identity"]["identity_header"],
        "AUTHORITY": info["authority"],
        "REDIRECT_URI": f"http://localhost:{APP_PORT}/getAToken",
        "GRAPH_ENDPOINT": info["graph_endpoint"],
        "CA_BUNDLE": info["ca_bundle"],
        "APP_ENV": "development",
    }


# -- the file ------------------------------------------------------------------------------


def test_compose_file_validates_against_the_compose_specification_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (dev)")
    schema = json.loads(SCHEMA.read_text())
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(compose())]
    assert errors == []


def test_services_share_one_image_and_the_state_volume() -> None:
    spec = compose()
    assert set(spec["services"]) == {"mock-entra", "client-app", "mock", *SHARED}
    assert [n for n, s in spec["services"].items() if "profiles" not in s] == [
        "mock-entra",
        "client-app",
    ]  # `docker compose up` starts these two; the mock alone only with --profile mock
    mock, app = service("mock-entra"), service("client-app")
    assert mock["image"] == app["image"]
    assert mock["build"] == app["build"] == "."
    script = mock["command"][-1]
    assert mock["command"][:2] == ["sh", "-c"]
    assert script.splitlines()[-1] == (
        f"exec mock-entra serve --host 0.0.0.0 --port {MOCK_PORT} --state-dir {STATE} "
        f"--config {STATE}/compose-config.json"
    )  # exec: the server is PID 1 and gets `docker stop`'s SIGTERM
    assert mock["environment"] == {
        "APP_URL": f"http://localhost:{APP_PORT}",
        # `serve --managed-identity-port` and `--managed-identity-header`, the app's header.
        "MOCK_ENTRA_MANAGED_IDENTITY_PORT": IDENTITY_PORT,
        "MOCK_ENTRA_MANAGED_IDENTITY_HEADER": app["environment"]["IDENTITY_HEADER"],
    }
    (volume,) = [v.split(":")[0] for v in mock["volumes"] if v.split(":")[1] == STATE]
    assert volume in spec["volumes"]  # a named volume: the CA survives `docker compose down`
    assert f"{volume}:{STATE}:ro" in app["volumes"]
    # The only variables are the host ports and the image name, each with its default.
    raw = COMPOSE.read_text()
    used = set(re.findall(r"\$\{(\w+)", raw))
    assert used == set(VARIABLES)
    for name, default in VARIABLES.items():
        assert set(re.findall(rf"\$\{{{name}(:-[^}}]*)?\}}", raw)) == {f":-{default}"}, name


def test_other_host_ports_move_every_url_and_keep_published_equal_to_container_ports() -> None:
    env = {"MOCK_PORT": "9443", "APP_PORT": "5050", "IDENTITY_PORT": "9444",
           "IDENTITY_HEADER": "h3ader"}  # fmt: skip
    mock, app = service("mock-entra", env), service("client-app", env)
    assert mock["environment"]["MOCK_ENTRA_MANAGED_IDENTITY_PORT"] == 9444
    assert app["environment"]["IDENTITY_ENDPOINT"] == "http://localhost:9444/msi/token"
    assert mock["environment"]["MOCK_ENTRA_MANAGED_IDENTITY_HEADER"] == "h3ader"
    assert app["environment"]["IDENTITY_HEADER"] == "h3ader"
    assert set(mock["ports"]) == {"127.0.0.1:9443:9443", "127.0.0.1:5050:5050"}
    assert "--port 9443 " in mock["command"][-1]
    assert mock["environment"]["APP_URL"] == "http://localhost:5050"
    assert app["command"][-1] == "5050"
    assert app["environment"]["AUTHORITY"].startswith("https://localhost:9443/")
    assert app["environment"]["REDIRECT_URI"] == "http://localhost:5050/getAToken"
    assert "https://localhost:9443/" in mock["healthcheck"]["test"][-1]
    assert "http://localhost:5050/healthz" in app["healthcheck"]["test"][-1]


def test_app_reaches_the_mock_as_localhost_in_its_network_namespace() -> None:
    mock, app = service("mock-entra"), service("client-app")
    assert app["network_mode"] == "service:mock-entra"
    assert "ports" not in app  # with network_mode, its ports are published by mock-entra
    assert set(mock["ports"]) == {f"127.0.0.1:{MOCK_PORT}:{MOCK_PORT}",
                                  f"127.0.0.1:{APP_PORT}:{APP_PORT}"}  # fmt: skip
    assert app["depends_on"] == {"mock-entra": {"condition": "service_healthy"}}
    assert app["command"] == ["client-app", "--host", "0.0.0.0", "--port", str(APP_PORT)]
    assert app["environment"] == expected_app_environment()
    assert "CLIENT_SECRET" not in app["environment"]  # secretless
    # The identity the app names is one the demo app's registration trusts (issue 20).
    registered = DEFAULT_CONFIG.default_tenant.apps[0]
    identities = {m.client_id: m for m in DEFAULT_CONFIG.default_tenant.managed_identities}
    trusted = identities[app["environment"]["MANAGED_IDENTITY_CLIENT_ID"]]
    assert trusted.object_id in [c.subject for c in registered.federated_credentials]
    # The managed identity port is not published: only the app, in this namespace, calls it.
    assert not any(str(IDENTITY_PORT) in port for port in mock["ports"])
    registered = DEFAULT_CONFIG.default_tenant.apps[0]
    assert app["environment"]["REDIRECT_URI"] in registered.redirect_uris  # even without --config
    assert f"http://localhost:{APP_PORT}/" in registered.post_logout_redirect_uris


def test_the_mock_alone_is_the_mock_target_published_with_its_public_url() -> None:
    mock = service("mock", {"MOCK_ONLY_PORT": "9555"})
    assert mock["profiles"] == ["mock"]
    assert mock["build"] == {"context": ".", "target": "mock"}
    assert mock["image"] == "mock-entra:local"
    assert mock["ports"] == ["127.0.0.1:9555:8443"]  # the image's MOCK_ENTRA_PORT inside
    assert mock["environment"] == {"MOCK_ENTRA_PUBLIC_URL": "https://localhost:9555"}
    assert "command" not in mock and "healthcheck" not in mock  # the image's own


def test_the_shared_mock_is_two_replicas_of_the_mock_image_on_one_store_behind_a_balancer() -> None:
    spec = compose({"SHARED_PORT": "9666", "MOCK_ENTRA_IMAGE": "mock-entra:x"})
    services = spec["services"]
    for name in SHARED:
        assert services[name]["profiles"] == ["shared"], name
    one, two, keys = services["mock-1"], services["mock-2"], services["mock-keys"]
    assert one == two  # replicas: nothing tells them apart but their names
    for mock in (one, keys):
        assert mock["build"] == services["mock"]["build"] == {"context": ".", "target": "mock"}
        assert mock["image"] == "mock-entra:x"
    # The balancer publishes the one URL clients use; every URL the replicas hand out is it.
    assert services["mock-lb"]["ports"] == ["127.0.0.1:9666:8443"]
    assert one["environment"]["MOCK_ENTRA_PUBLIC_URL"] == "https://localhost:9666"
    assert not any("ports" in services[name] for name in SHARED if name != "mock-lb")
    # One key set: made once into a volume, copied by each replica into its own state dir.
    assert keys["volumes"] == ["shared-keys:/state"]
    assert one["volumes"] == ["shared-keys:/keys:ro"]
    assert one["command"] == [
        "sh",
        "-c",
        "cp -p /keys/* /state/ && exec mock-entra serve --access-log",
    ]
    assert one["depends_on"] == {"mock-keys": {"condition": "service_completed_successfully"},
                                 "postgres": {"condition": "service_healthy"}}  # fmt: skip
    # The store: Postgres on compose's network, as the role and password its service makes.
    store = urlsplit(one["environment"]["MOCK_ENTRA_STORE"])
    assert (store.scheme, store.hostname, store.port) == ("postgresql", "postgres", 5432)
    assert store.password == services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    postgres_file = (ROOT / "docker" / "postgres.Dockerfile").read_text()
    assert f"POSTGRES_USER={store.username}" in postgres_file
    assert f"POSTGRES_DB={store.path.lstrip('/')}" in postgres_file
    assert set(spec["volumes"]) >= {"shared-keys", "shared-store"}
    # nginx balances over exactly the replicas, at the port they listen on, once both are up.
    nginx = (ROOT / "docker" / "nginx-shared.conf").read_text()
    assert re.findall(r"^\s*server (\S+?) ", nginx, re.M) == ["mock-1:8443", "mock-2:8443"]
    assert services["mock-lb"]["depends_on"] == {
        name: {"condition": "service_healthy"} for name in ("mock-1", "mock-2")
    }


def test_the_shared_profiles_images_are_built_from_the_stand_in_base_and_lint_clean() -> None:
    """Postgres and nginx from Debian's packages on the mock image's base: nothing else pulled."""
    from tests.entra_lab.test_dockerfile import hadolint

    base = [i for i in parse_dockerfile((ROOT / "Dockerfile").read_text()) if i.keyword == "FROM"]
    debian = base[1].args.removesuffix(" AS base")
    for name in ("postgres", "mock-lb"):
        build = service(name)["build"]
        dockerfile = ROOT / build["context"] / build["dockerfile"]
        froms = [i.args for i in parse_dockerfile(dockerfile.read_text()) if i.keyword == "FROM"]
        assert froms == [debian], name
        binary = hadolint()
        if binary is not None:
            argv = [binary, "--failure-threshold", "style", str(dockerfile)]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stdout


def test_both_services_have_exec_form_python_healthchecks() -> None:
    for name in ("mock-entra", "client-app"):
        check = service(name)["healthcheck"]
        assert check["test"][:3] == ["CMD", "python", "-c"], name
        assert {"interval", "timeout", "retries", "start_period"} <= set(check), name


# -- the services, started as local processes -----------------------------------------------


class Localizer:
    """The substitutions listed in the module docstring."""

    def __init__(self, state: Path, mock_port: int, app_port: int) -> None:
        self.state, self.mock_port, self.app_port = state, mock_port, app_port
        self.env = {"MOCK_PORT": str(mock_port), "APP_PORT": str(app_port),
                    "IDENTITY_PORT": str(free_port())}  # fmt: skip

    def text(self, value: str) -> str:
        value = value.replace("0.0.0.0", "127.0.0.1")
        return re.sub(rf"(?<![\w/]){STATE}(?=/|'|$|\s)", str(self.state), value)

    def argv(self, argv: list[str]) -> list[str]:
        out = [self.text(a) for a in argv]
        if out[0] == "python":
            out[0] = sys.executable
        elif out[0] != "sh":
            out[0] = str(Path(sys.executable).with_name(out[0]))
        return out

    def path(self) -> str:
        """PATH with this venv's scripts first (what the image's PATH gives a shell)."""
        return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def image_environment(localize: Localizer) -> dict[str, str]:
    """The Dockerfile's ENV as the containers see it (without PATH and build-time UV_*)."""
    env: dict[str, str] = {}
    for step in stages(parse_dockerfile((ROOT / "Dockerfile").read_text()))[""]:  # the default
        if step.keyword == "ENV":
            env.update(env_pairs(step.args))
    return {k: localize.text(v) for k, v in env.items() if k != "PATH" and not k.startswith("UV_")}


def base_environment() -> dict[str, str]:
    """This machine's environment without anything that would configure either service."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in APP_VARIABLES and not k.startswith("MOCK_ENTRA_")
    }


@contextmanager
def started(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A service process in its own group; stopped with SIGTERM (as `docker stop` does)."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    try:
        yield process
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        deadline = time.monotonic() + 5
        while group_running(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group_running(process.pid) == []


def healthcheck(name: str, localize: Localizer) -> subprocess.CompletedProcess[str]:
    """Run a service's compose healthcheck command here."""
    argv = localize.argv(service(name, localize.env)["healthcheck"]["test"][1:])
    return subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)


def wait_healthy(name: str, url: str, verify: str | bool, process: subprocess.Popen[bytes],
                 log: Path, localize: Localizer) -> None:  # fmt: skip
    """Poll `url` until 200 (fast), then require the service's own healthcheck to pass."""
    deadline = time.monotonic() + 30
    with requests.Session() as http:
        http.trust_env = False
        while True:
            assert process.poll() is None, f"{name} exited:\n{log.read_text()}"
            try:
                if http.get(url, verify=verify, timeout=2).status_code == 200:
                    break
            except OSError:  # refused, or the CA file is not written yet (requests' errors)
                pass
            assert time.monotonic() < deadline, f"{name} never answered {url}:\n{log.read_text()}"
            time.sleep(0.1)
    check = healthcheck(name, localize)
    assert check.returncode == 0, check.stderr


@pytest.mark.slow  # starts both services as processes
def test_services_started_from_the_compose_file_work_together(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()  # the volume exists before the mock starts
    localize = Localizer(state, free_port(), free_port())
    mock_spec, app_spec = service("mock-entra", localize.env), service("client-app", localize.env)
    tenant = DEFAULT_CONFIG.default_tenant.tenant_id
    app_url = f"http://localhost:{localize.app_port}"

    mock_argv = localize.argv(mock_spec["command"])
    image_env = image_environment(localize)
    mock_env = {k: localize.text(str(v)) for k, v in mock_spec["environment"].items()}
    app_env = {k: localize.text(str(v)) for k, v in app_spec["environment"].items()}
    authority = f"https://localhost:{localize.mock_port}/{tenant}"
    assert app_env["AUTHORITY"] == authority
    base = {**base_environment(), "PATH": localize.path()}

    mock_log, app_log = tmp_path / "mock.log", tmp_path / "app.log"
    with started(mock_argv, {**base, **image_env, **mock_env}, mock_log) as mock:
        discovery = f"{authority}/v2.0/.well-known/openid-configuration"
        # depends_on: service_healthy. The healthcheck also proves the CA is in the volume.
        wait_healthy("mock-entra", discovery, str(state / "ca.pem"), mock, mock_log, localize)
        assert Path(app_env["CA_BUNDLE"]).is_file()
        assert healthcheck("client-app", localize).returncode != 0  # not started yet

        app_argv = localize.argv(app_spec["command"])
        with started(app_argv, {**base, **image_env, **app_env}, app_log) as app:
            healthz = f"http://127.0.0.1:{localize.app_port}/healthz"
            wait_healthy("client-app", healthz, True, app, app_log, localize)
            with requests.Session() as http:
                http.trust_env = False
                login = http.get(f"{app_url}/login", allow_redirects=False, timeout=10)
                assert login.status_code == 302, app_log.read_text()
                location = login.headers["Location"]
                assert location.startswith(f"{authority}/oauth2/v2.0/authorize?")
                query = parse_qs(urlsplit(location).query)
                assert query["redirect_uri"] == [app_env["REDIRECT_URI"]]
                assert query["client_id"] == [app_env["CLIENT_ID"]]
                page = http.get(location, verify=app_env["CA_BUNDLE"], timeout=10)
                assert page.status_code == 200, page.text[:500]
                assert 'id="i0116"' in page.text  # the mock's username view: the port's
                # redirect URI was registered by the mock's own command (else AADSTS50011)
                # Signed in with no client secret: the code is redeemed with the managed
                # identity's token from the mock's endpoint (IDENTITY_ENDPOINT/_HEADER).
                http.verify = app_env["CA_BUNDLE"]  # trust_env is off: no REQUESTS_CA_BUNDLE
                back = http_sign_in(
                    http, f"https://localhost:{localize.mock_port}", location,
                    (DEFAULT_CONFIG.default_tenant.users[0].username,
                     DEFAULT_CONFIG.default_tenant.users[0].password),
                )  # fmt: skip
                done = http.get(f"{app_url}/getAToken", params=back, timeout=20,
                                allow_redirects=False)  # fmt: skip
                assert done.status_code == 302, (done.text[:500], app_log.read_text()[-2000:])
                profile = http.get(f"{app_url}/profile", timeout=20)
                assert DEFAULT_CONFIG.default_tenant.users[0].display_name in profile.text
