"""The Host header is not trusted (issue 18, finding 6): a request naming a host the mock does
not serve under gets HTTP.sys's 400 "Invalid Hostname" on every endpoint, so no issuer,
discovery URL, token `iss`, `@odata.nextLink`, `error_uri` or assertion audience can be made
out of it; the configured public URL (`mock-entra serve --public-url`) is the base of every
URL handed out, whatever host the client called (`mock_entra.web.hosts`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.ports import free_port
from mock_entra.pytest_plugin import copy_keys
from mock_entra.web.hosts import Hosts, PublicUrlError, certificate_names, parse_public_url
from mock_entra.web.wsgi import create_app

from .conftest import CLIENT_ID, SECRET, TENANT

DISCOVERY = f"/{TENANT}/v2.0/.well-known/openid-configuration"
TOKEN = f"/{TENANT}/oauth2/v2.0/token"
CLIENT_CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "scope": "https://graph.microsoft.com/.default",
}
GETS = [
    DISCOVERY,
    f"/{TENANT}/.well-known/openid-configuration",
    f"/{TENANT}/discovery/v2.0/keys",
    f"/{TENANT}/oauth2/v2.0/authorize?client_id={CLIENT_ID}&response_type=code"
    "&redirect_uri=http%3A%2F%2Flocalhost%3A5000%2FgetAToken&scope=openid",
    "/common/discovery/instance?api-version=1.1"
    f"&authorization_endpoint=https://localhost/{TENANT}/oauth2/v2.0/authorize",
    "/v1.0/users?$top=1",
    f"/{TENANT}/oauth2/v2.0/logout",
    "/",
]


def refused(response: requests.Response) -> bool:
    return (
        response.status_code == 400
        and "Bad Request - Invalid Hostname" in response.text
        and "evil" not in response.text
    )


# -- the live mock (`mock-entra serve`: granian, TLS, the bound port) ------------------------


@pytest.fixture(scope="module")
def http(mock_entra_server: MockEntra) -> TrustingSession:
    return TrustingSession(mock_entra_server.ca_bundle)


def port_of(mock: MockEntra) -> int:
    return int(mock.base_url.rsplit(":", 1)[1])


@pytest.mark.parametrize("path", GETS)
def test_every_endpoint_refuses_another_host(mock_entra: MockEntra, http, path: str):
    assert refused(http.get(mock_entra.url_for(path), headers={"Host": "evil.example"}))


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "localhost.evil.example:{port}",
        "localhost:1",  # a served name at another port
        "localhost",  # ... or at the default one
        "localhost.:{port}",
        "localhost:{port}@evil.example",
        "",
    ],
)
def test_the_token_endpoint_refuses_another_host(mock_entra: MockEntra, http, host: str):
    headers = {"Host": host.format(port=port_of(mock_entra))}
    response = http.post(mock_entra.url_for(TOKEN), data=CLIENT_CREDENTIALS, headers=headers)
    assert refused(response), response.text[:300]


def test_a_graph_token_cannot_page_through_another_host(mock_entra: MockEntra, http):
    token = http.post(mock_entra.url_for(TOKEN), data=CLIENT_CREDENTIALS).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    page = http.get(mock_entra.url_for("/v1.0/users?$top=1"), headers=auth)
    assert page.json()["@odata.nextLink"].startswith(f"{mock_entra.base_url}/v1.0/users?")
    evil = http.get(mock_entra.url_for("/v1.0/users?$top=1"), headers={**auth, "Host": "evil"})
    assert refused(evil)


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_the_served_names_at_the_bound_port_are_answered(mock_entra: MockEntra, http, name: str):
    host = f"{name}:{port_of(mock_entra)}"
    document = http.get(mock_entra.url_for(DISCOVERY), headers={"Host": host}).json()
    assert document["issuer"] == f"https://{host.lower()}/{TENANT}/v2.0"
    token = http.post(mock_entra.url_for(TOKEN), data=CLIENT_CREDENTIALS, headers={"Host": host})
    error = http.post(mock_entra.url_for(TOKEN), data={}, headers={"Host": host}).json()
    assert token.status_code == 200
    assert error["error_uri"].startswith(f"https://{host.lower()}/error?code=")


def test_the_issuer_stays_after_another_host_was_asked(mock_entra: MockEntra, http):
    for _ in range(2):  # the documents are cached per base URL: nothing to poison
        assert refused(http.get(mock_entra.url_for(DISCOVERY), headers={"Host": "evil.example"}))
    issuer = http.get(mock_entra.url_for(DISCOVERY)).json()["issuer"]
    assert issuer == f"{mock_entra.authority}/v2.0"


# -- a public URL ----------------------------------------------------------------------------

PUBLIC = "https://login.entra-lab.test:9443"


@pytest.fixture
def public_client(state_dir: Path):
    hosts = Hosts.serving("127.0.0.1", 8443, public_url=PUBLIC)
    return create_app(DEFAULT_CONFIG, state_dir=state_dir, hosts=hosts).test_client()


@pytest.mark.parametrize(
    "base",
    ["https://localhost:8443", "https://127.0.0.1:8443", "https://login.entra-lab.test:9443"],
)
def test_a_public_url_is_the_base_of_every_url_whatever_host_was_called(public_client, base):
    document = public_client.get(DISCOVERY, base_url=base).get_json()
    assert document["issuer"] == f"{PUBLIC}/{TENANT}/v2.0"
    assert document["token_endpoint"] == f"{PUBLIC}/{TENANT}/oauth2/v2.0/token"
    assert public_client.post(TOKEN, data=CLIENT_CREDENTIALS, base_url=base).status_code == 200
    error = public_client.post(TOKEN, data={}, base_url=base).get_json()
    assert error["error_uri"].startswith(f"{PUBLIC}/error?code=")


@pytest.mark.parametrize(
    "base", ["https://evil.example", "https://login.entra-lab.test", "https://localhost:9443"]
)
def test_with_a_public_url_other_hosts_are_still_refused(public_client, base):
    response = public_client.get(DISCOVERY, base_url=base)
    assert response.status_code == 400 and b"Invalid Hostname" in response.data


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://Login.Contoso.test/", "https://login.contoso.test"),
        ("https://login.contoso.test:443", "https://login.contoso.test"),
        ("https://[::1]:9443", "https://[::1]:9443"),
    ],
)
def test_a_public_url_is_read_as_an_origin(value: str, expected: str):
    assert parse_public_url(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "http://login.contoso.test",  # clients reach an authority over https only
        "https://login.contoso.test/tenant",
        "https://user@login.contoso.test",
        "https://login.contoso.test:0",
        "https://login.contoso.test?x=1",
        "login.contoso.test",
    ],
)
def test_a_public_url_that_is_not_an_origin_is_refused(value: str):
    with pytest.raises(PublicUrlError):
        parse_public_url(value)


def test_serving_answers_the_names_of_the_tls_certificate(key_template: Path):
    names = certificate_names(key_template / "server.pem")
    assert names == {"localhost", "127.0.0.1", "[::1]"}
    hosts = Hosts.serving("0.0.0.0", 8443, certificate=key_template / "server.pem")
    assert hosts.accepted == {(name, 8443) for name in names}
    bound = Hosts.serving("192.0.2.7", 8443)
    assert ("192.0.2.7", 8443) in bound.accepted


def test_the_interceptor_answers_the_production_hosts_only(interceptor):
    client = interceptor.app.test_client()
    ok = client.get(DISCOVERY, base_url="https://login.microsoftonline.com")
    assert ok.get_json()["issuer"] == f"https://login.microsoftonline.com/{TENANT}/v2.0"
    evil = client.get(DISCOVERY, base_url="https://login.microsoftonline.com.evil.example")
    assert evil.status_code == 400


@pytest.mark.slow  # a `serve` process of its own
def test_serve_public_url_from_the_command_line(key_template: Path, tmp_path: Path):
    state = copy_keys(key_template, tmp_path / "state")
    port = free_port()
    bad = subprocess.run(
        [sys.executable, "-m", "mock_entra", "serve", "--public-url", "http://x", "--port",
         str(port), "--state-dir", str(state)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "--public-url" in bad.stderr and "Traceback" not in bad.stderr
    env = {**os.environ, "MOCK_ENTRA_ADMIN_KEY": "", "MOCK_ENTRA_PUBLIC_URL": PUBLIC}
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_entra", "serve", "--port", str(port), "--workers", "1",
         "--state-dir", str(state)],
        stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        http = TrustingSession(str(state / "ca-bundle.pem"))
        url = f"https://localhost:{port}{DISCOVERY}"
        deadline = time.monotonic() + 20
        while True:
            try:
                document = http.get(url).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "mock-entra serve did not come up"
                time.sleep(0.1)
        assert document["issuer"] == f"{PUBLIC}/{TENANT}/v2.0"
        assert refused(http.get(url, headers={"Host": "evil.example"}))
        info = subprocess.run(
            [sys.executable, "-m", "mock_entra", "info", "--json", "--port", str(port),
             "--state-dir", str(state)],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        data = json.loads(info.stdout)
        assert data["authority"] == f"{PUBLIC}/{TENANT}" and data["server_running"] is True
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(15)
