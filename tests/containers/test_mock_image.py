"""The mock-only image (the Dockerfile's `mock` target) on a real engine, through
`mock_entra.testcontainers.MockEntraContainer`: MSAL Python gets a client-credentials token
from it, the token verifies against the container's JWKS through the published port, and the
image is what issue 22 asks: the mock alone, non-root, healthy by its own HEALTHCHECK, its CA
at /ca.pem, configured by MOCK_ENTRA_CONFIG text or a mounted file."""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path

import jwt
import msal
import pytest
import requests

from conformance.trust import TrustingSession
from mock_entra.core.config import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_API_URI,
    DEFAULT_CONFIG,
    load_config,
)
from mock_entra.testcontainers import MockEntraContainer
from tests.containers.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mock-entra.toml"
GRAPH = ["https://graph.microsoft.com/.default"]
# The demo API: its tokens verify with the JWKS (Graph's, as Entra's, do not: a nonce header).
API = [f"{DEFAULT_API_URI}/.default"]
HEALTH_TIMEOUT = 60  # seconds: the HEALTHCHECK runs every 5 s after start


@pytest.fixture(scope="module")
def demo(mock_image: str, testcontainers_env: None):
    """Scope: module. The image with the embedded demo tenant (no config given)."""
    with MockEntraContainer(image=mock_image) as container:
        yield container


def client_token(info: dict, scopes: list[str] = GRAPH) -> dict:
    app = msal.ConfidentialClientApplication(
        info["client_id"],
        client_credential=info["client_secret"],
        authority=info["authority"],
        # verify= on every call: REQUESTS_CA_BUNDLE would win over a Session's own `verify`.
        http_client=TrustingSession(info["ca_file"]),
        instance_discovery=False,  # else MSAL asks login.microsoftonline.com about localhost
    )
    return app.acquire_token_for_client(scopes)


def verified_claims(info: dict, access_token: str) -> dict:
    """The token's claims, its signature checked with the keys the container's discovery names."""
    discovery = requests.get(
        f"{info['authority']}/v2.0/.well-known/openid-configuration",
        verify=info["ca_file"],
        timeout=10,
    ).json()
    assert discovery["jwks_uri"].startswith(info["base_url"] + "/")  # the published port
    keys = jwt.PyJWKClient(
        discovery["jwks_uri"], ssl_context=ssl.create_default_context(cafile=info["ca_file"])
    )
    key = keys.get_signing_key_from_jwt(access_token)
    return jwt.decode(access_token, key.key, algorithms=["RS256"], audience=DEFAULT_API_CLIENT_ID)


def test_msal_gets_a_client_credentials_token_from_the_container(demo: MockEntraContainer):
    info = demo.info()
    port = demo.host_port
    assert (
        info["authority"] == f"https://localhost:{port}/{DEFAULT_CONFIG.default_tenant.tenant_id}"
    )
    assert info["graph_endpoint"] == f"https://localhost:{port}/v1.0"
    assert info["server_running"] is True
    assert Path(info["ca_file"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    result = client_token(info)
    assert result.get("token_type") == "Bearer", result
    api = client_token(info, API)
    assert api.get("token_type") == "Bearer", api
    claims = verified_claims(info, api["access_token"])
    assert claims["azp" if claims.get("ver") == "2.0" else "appid"] == info["client_id"]
    assert claims["tid"] == info["tenant_id"]
    v2 = claims.get("ver") == "2.0"
    tid = info["tenant_id"]
    assert claims["iss"] == (
        f"{info['authority']}/v2.0" if v2 else f"https://sts.windows.net/{tid}/"
    )
    # A wrong secret is Entra's answer, through MSAL, from the container too.
    wrong = client_token({**info, "client_secret": "nope"})
    assert wrong["error"] == "invalid_client" and wrong["error_codes"] == [7000215]


def test_the_image_runs_non_root_with_its_ca_at_ca_pem(demo: MockEntraContainer):
    container = demo.get_wrapped_container()
    uid = container.exec_run(["id", "-u"]).output.decode().strip()
    assert uid == "999"
    ca = container.exec_run(["cat", "/ca.pem"]).output
    assert ca == Path(demo.info()["ca_file"]).read_bytes()
    assert ca == container.exec_run(["cat", "/state/ca.pem"]).output


def test_the_image_is_healthy_by_its_own_healthcheck(demo: MockEntraContainer):
    container = demo.get_wrapped_container()
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while True:
        container.reload()
        health = container.attrs["State"]["Health"]
        if health["Status"] == "healthy":
            break
        assert health["Status"] == "starting", health
        assert time.monotonic() < deadline, health
        time.sleep(1)
    # The check's output (the summary names the demo users' passwords) is not kept.
    logged = " ".join(entry["Output"] for entry in health["Log"])
    assert "Passw0rd" not in logged and "secret" not in logged


def test_the_image_has_the_mock_alone(demo: MockEntraContainer):
    container = demo.get_wrapped_container()
    for absent in ("msal", "gunicorn", "flask_session", "playwright", "pytest"):
        done = container.exec_run(["python", "-c", f"import {absent}"])
        assert done.exit_code != 0, f"{absent} is in the mock-only image"
    assert container.exec_run(["python", "-c", "import mock_entra.web.wsgi"]).exit_code == 0


def test_config_given_as_text_is_served(mock_image: str, testcontainers_env: None):
    """`config=` a file of this machine: its TOML travels in MOCK_ENTRA_CONFIG."""
    example = load_config(EXAMPLE)
    with MockEntraContainer(image=mock_image, config=EXAMPLE) as container:
        info = container.info()
        assert info["tenant_id"] == example.default_tenant.tenant_id
        assert info["config_file"] == "/state/config-from-env.toml"
        app = example.default_tenant.apps[0]
        assert info["client_id"] == app.client_id
        assert client_token(info).get("token_type") == "Bearer"


def test_a_mounted_config_file_is_served(
    mock_image: str, testcontainers_env: None, tmp_path: Path, engine: Engine
):
    config = tmp_path / "mock.json"
    config.write_text(json.dumps({"extends": "defaults", "code_lifetime": 120}))
    config.chmod(0o644)  # the image's user (999) reads it
    container = (
        MockEntraContainer(image=mock_image)
        .with_volume_mapping(str(config), "/etc/mock-entra.json", "ro")
        .with_env("MOCK_ENTRA_CONFIG", "/etc/mock-entra.json")
    )
    with container:
        info = container.info()
        assert info["config_file"] == "/etc/mock-entra.json"
        assert info["tenant_id"] == DEFAULT_CONFIG.default_tenant.tenant_id
        printed = container.get_wrapped_container().exec_run(["mock-entra", "config", "--json"])
        assert json.loads(printed.output)["code_lifetime"] == 120
