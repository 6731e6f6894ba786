"""Node's testcontainers with @azure/msal-node against the mock-only image: the recipe of
docs/containers.md ("From other languages"), as `tests/mock_entra/node/
testcontainers_client_credentials.mjs` runs it: a free port as the public URL, the image's
HEALTHCHECK as the wait, `mock-entra info --json` and /ca.pem read in the container, then a
client-credentials token through MSAL in a process trusting that CA."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest

from mock_entra.core.config import DEFAULT_CONFIG

NODE = Path(__file__).resolve().parents[1] / "mock_entra" / "node"
SCRIPT = NODE / "testcontainers_client_credentials.mjs"


def test_node_testcontainers_and_msal_node_get_a_token_from_the_image(
    mock_image: str, testcontainers_env: None
):
    if shutil.which("node") is None or not (NODE / "node_modules" / "testcontainers").is_dir():
        pytest.skip("Node's testcontainers not installed: run `npm ci` in tests/mock_entra/node")
    done = subprocess.run(
        ["node", str(SCRIPT)],
        env={**os.environ, "MOCK_ENTRA_IMAGE": mock_image},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    port = outcome["info"]["port"]
    tenant = DEFAULT_CONFIG.default_tenant.tenant_id
    assert outcome["info"]["authority"] == f"https://localhost:{port}/{tenant}"
    token = outcome["token"]
    assert token["ok"] is True, token
    claims = jwt.decode(token["accessToken"], options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appid"] == DEFAULT_CONFIG.default_tenant.apps[0].client_id
    assert claims["tid"] == tenant
