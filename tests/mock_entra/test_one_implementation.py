"""One implementation per endpoint, in every mode: `mock-entra serve` (and so the pytest
fixtures, the demo and the image, which run it) and the in-process interceptor all build
`wsgi.MockApp`, whose `Front` alone answers discovery, JWKS and the token endpoint; the request
log and the access log are middlewares around it."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import requests
from werkzeug.test import Client

from mock_entra import MockEntra
from mock_entra.cli import _build_app
from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.intercept import MockEntraInterceptor
from mock_entra.ports import free_port
from mock_entra.server import log_handler
from mock_entra.web.accesslog import AccessLog
from mock_entra.web.app import flask_app
from mock_entra.web.front import Front
from mock_entra.web.requestlog import RequestLog
from mock_entra.web.rsgi import BufferedWSGI
from mock_entra.web.wsgi import MockApp

from .conftest import BASE, CLIENT_ID, SECRET, TENANT

TOKEN = f"/{TENANT}/oauth2/v2.0/token"
FRONT_PATHS = [
    f"/{TENANT}/v2.0/.well-known/openid-configuration",
    f"/{TENANT}/.well-known/openid-configuration",
    f"/{TENANT}/discovery/v2.0/keys",
    f"/{TENANT}/discovery/keys",
    TOKEN,
]
CC = {
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "grant_type": "client_credentials",
    "scope": "https://graph.microsoft.com/.default",
}


def _serve_app(state_dir: Path, admin_key: str | None, access_log: bool = False) -> MockApp:
    """The WSGI app inside what `mock-entra serve` hands granian."""
    served = _build_app(DEFAULT_CONFIG, state_dir, admin_key, access_log)
    assert type(served) is BufferedWSGI
    return served.app


def test_serve_and_the_fixtures_compose_the_same_app(state_dir: Path):
    # What `mock-entra serve` builds without and with the admin API (the pytest fixtures run
    # `mock-entra serve` with it), and what the interceptor builds.
    served = _serve_app(state_dir, None)
    fixture = _serve_app(state_dir, "k3y")
    logged = _serve_app(state_dir, None, True)
    with MockEntraInterceptor(DEFAULT_CONFIG, state_dir=state_dir) as interceptor:
        intercepted = interceptor.app
    for app in (served, fixture, logged, intercepted):
        assert type(app) is MockApp and type(app.front) is Front
    assert served.wsgi_app is served.front
    assert type(fixture.wsgi_app) is RequestLog and fixture.wsgi_app.app is fixture.front
    assert type(intercepted.wsgi_app) is RequestLog
    assert type(logged.wsgi_app) is AccessLog and logged.wsgi_app.app is logged.front


def test_flask_has_no_second_copy_of_the_front_endpoints(state_dir: Path):
    app = _serve_app(state_dir, None)
    routes = flask_app(app.runtime).url_map.bind("localhost")
    for path in FRONT_PATHS:
        for method in ("GET", "POST"):
            with pytest.raises(Exception) as caught:
                routes.match(path, method)
            assert type(caught.value).__name__ == "NotFound", (path, method)


def _unknown_tenant_and_bad_secret(get, post) -> None:
    """client-request-id from the query string is the correlation id, on both endpoints."""
    sent = str(uuid.uuid4())
    doc = get(f"/nope.example/v2.0/.well-known/openid-configuration?client-request-id={sent}")
    assert doc.status_code == 400
    assert doc.json()["correlation_id"] == sent and doc.json()["error_codes"] == [90002]
    sent = str(uuid.uuid4())
    token = post(f"{TOKEN}?client-request-id={sent}", {**CC, "client_secret": "wrong"})
    assert token.status_code == 401
    assert token.json()["correlation_id"] == sent and token.json()["error_codes"] == [7000215]
    jwks = get(f"/{TENANT}/discovery/v2.0/keys?x=1")  # a query string changes nothing
    assert jwks.status_code == 200 and jwks.json()["keys"]
    assert post(TOKEN, CC).json()["token_type"] == "Bearer"


class _Json:
    def __init__(self, response) -> None:
        self.status_code = response.status_code
        self.json = response.get_json


def test_client_request_id_from_the_query_in_serve_mode(state_dir: Path):
    client = Client(_serve_app(state_dir, None))
    _unknown_tenant_and_bad_secret(
        lambda path: _Json(client.get(path, base_url=BASE)),
        lambda path, form: _Json(client.post(path, base_url=BASE, data=form)),
    )


def test_client_request_id_from_the_query_on_the_fixtures_mock(mock_entra: MockEntra):
    with requests.Session() as http:
        http.trust_env = False
        _unknown_tenant_and_bad_secret(
            lambda path: http.get(mock_entra.url_for(path), verify=mock_entra.ca_file),
            lambda path, form: http.post(
                mock_entra.url_for(path), data=form, verify=mock_entra.ca_file
            ),
        )
    logged = [(r["method"], r["path"], r["status"]) for r in mock_entra.requests()]
    assert ("POST", TOKEN, 401) in logged and ("POST", TOKEN, 200) in logged
    token = next(r for r in mock_entra.requests() if r["status"] == 200 and r["path"] == TOKEN)
    assert token["form"]["client_secret"] == [f"<redacted {len(SECRET)} chars>"]
    assert token["form"]["grant_type"] == ["client_credentials"]


@pytest.mark.parametrize("path", FRONT_PATHS[:4])
def test_head_options_and_other_methods_on_documents(client, path):
    get = client.get(path, base_url=BASE)
    head = client.head(path, base_url=BASE)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert client.options(path, base_url=BASE).headers["Allow"] == "GET, HEAD, OPTIONS"
    post = client.post(path, base_url=BASE)
    assert post.status_code == 405 and post.get_json()["error"] == "invalid_request"


def test_token_bodies_over_the_limit_and_chunked(client):
    big = urlencode({**CC, "pad": "x" * (1024 * 1024)})
    ct = "application/x-www-form-urlencoded"
    assert client.post(TOKEN, base_url=BASE, data=big, content_type=ct).status_code == 413
    chunked = client.post(
        TOKEN,
        base_url=BASE,
        input_stream=io.BytesIO(urlencode(CC).encode()),
        content_type=ct,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert chunked.status_code == 200, chunked.get_json()
    assert client.options(TOKEN, base_url=BASE).headers["Allow"] == "OPTIONS, POST"


def test_access_log_one_line_per_request_secrets_redacted(state_dir: Path, caplog):
    client = Client(_serve_app(state_dir, None, True))
    secret_query = "code=SECRETCODE&state=SECRETSTATE&client_id=" + CLIENT_ID
    with caplog.at_level(logging.INFO, logger="mock_entra.access"):
        client.post(f"{TOKEN}?{secret_query}", base_url=BASE, data=CC)
        client.get(f"/{TENANT}/oauth2/v2.0/authorize?{secret_query}", base_url=BASE)
    lines = [r.getMessage() for r in caplog.records if r.name == "mock_entra.access"]
    assert len(lines) == 2
    assert lines[0].startswith(f'- "POST {TOKEN}?code=<redacted>&state=<redacted>&')
    assert f"client_id={CLIENT_ID}" in lines[0] and '" 200 ' in lines[0]
    assert lines[0].endswith(" ms")
    assert "/oauth2/v2.0/authorize?" in lines[1]
    text = "\n".join(lines)
    for secret in ("SECRETCODE", "SECRETSTATE", SECRET):
        assert secret not in text


FORGED = '127.0.0.1 "POST /common/oauth2/v2.0/token" 200 1.0 ms'  # a line of the caller's


def test_access_log_escapes_what_a_path_would_forge(state_dir: Path):
    # Issue 18, finding 9: `GET /x%0A<line>` reaches the app with a newline in its path; the
    # handler `serve` logs through writes it escaped, in the request's own line.
    client = Client(_serve_app(state_dir, None, True))
    buffer = io.StringIO()
    handler = log_handler(buffer)
    logger = logging.getLogger("mock_entra.access")
    logger.addHandler(handler)
    try:
        with at_info(logger):
            answer = client.get(f"/x%0D%0A{quote(FORGED)}%1B%5B2J%E2%80%A8", base_url=BASE)
    finally:
        logger.removeHandler(handler)
    assert answer.status_code == 404
    lines = buffer.getvalue().splitlines()  # what any reader splits on, U+2028 included
    assert len(lines) == 1, lines
    assert f'"GET /x\\r\\n{FORGED}\\x1b[2J\\u2028" 404 ' in lines[0]


@contextlib.contextmanager
def at_info(logger: logging.Logger):
    """`logger` at INFO for the block (as under `serve`)."""
    before = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(before)


@pytest.mark.slow
def test_serve_access_log_writes_a_line_per_request_to_stderr(state_dir: Path):
    port = free_port()
    command = [sys.executable, "-m", "mock_entra", "serve", "--access-log", "--port", str(port),
               "--state-dir", str(state_dir), "--workers", "1"]  # fmt: skip
    env = {**os.environ, "MOCK_ENTRA_ADMIN_KEY": ""}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    base = f"https://localhost:{port}"
    try:
        with requests.Session() as http:
            http.trust_env = False
            http.verify = str(state_dir / "ca.pem")
            discovery = f"{base}/{TENANT}/v2.0/.well-known/openid-configuration"
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(requests.ConnectionError):
                    if http.get(discovery, timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
            answer = http.post(f"{base}{TOKEN}?code=SECRETCODE", data=CC, timeout=10)
            assert answer.status_code == 200
            forging = http.get(f"{base}/x%0A{quote(FORGED)}", timeout=10)
            assert forging.status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert f'"GET /{TENANT}/v2.0/.well-known/openid-configuration" 200 ' in stderr
    assert f'"POST {TOKEN}?code=<redacted>" 200 ' in stderr
    assert "SECRETCODE" not in stderr and SECRET not in stderr
    assert f'"GET /x\\n{FORGED}" 404 ' in stderr  # escaped, in the request's own line
    assert not [line for line in stderr.splitlines() if line.startswith(FORGED)]
