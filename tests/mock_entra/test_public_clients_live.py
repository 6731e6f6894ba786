"""Public clients against the live HTTPS mock with their real libraries, the pages driven in
Chromium: MSAL Python's device code flow and azure-identity's DeviceCodeCredential through
the verification page (`#otc`), and MSAL Python's `acquire_token_interactive` on an
ephemeral loopback port with a redirect URI registered without a port."""

from __future__ import annotations

import queue
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import msal
import pytest
from playwright.sync_api import Browser, Page

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import AppRegistration, MockConfig
from mock_entra.pytest_plugin import live_mock

from .client_kinds import contoso_cli, with_apps
from .conftest import ADELE, b64json
from .signin_http import sign_in_pages

pytestmark = pytest.mark.slow  # a mock server process and Chromium (--run-slow; CI runs it)
CLI = "7d1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
SPA = "8d1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
SPA_PATH = "/spa/"


def live_config() -> MockConfig:
    # No port in the public client's redirect URI: any loopback port.
    cli = contoso_cli(CLI, public_client_redirect_uris=("http://localhost",))
    spa = AppRegistration(
        client_id=SPA,
        display_name="Contoso SPA",
        spa_redirect_uris=(f"http://localhost{SPA_PATH}",),
        require_consent=False,
    )
    return with_apps(cli, spa, device_code_interval=1)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, key_template: Path) -> Iterator[MockEntra]:
    """This module's own mock (its apps), started from `key_template` so that the run's
    Chromium (`lab_browser`) trusts its TLS key."""
    with live_mock(live_config(), key_template, tmp_path_factory.mktemp("public-clients")) as mock:
        yield mock


@pytest.fixture(scope="module")
def browser(live: MockEntra, lab_browser: Browser) -> Browser:
    return lab_browser


@pytest.fixture
def page(browser: Browser, live: MockEntra) -> Iterator[Page]:
    live.reset()
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def public_app(live: MockEntra) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        CLI,
        authority=live.authority,
        instance_discovery=False,
        http_client=TrustingSession(live.ca_bundle),
    )


def verify_device(page: Page, verification_uri: str, user_code: str) -> None:
    page.goto(verification_uri)
    page.fill("#otc", user_code)
    page.click("#idSIButton9")  # Next
    page.click("#idSIButton9")  # "Are you trying to sign in to ...?" Continue
    sign_in_pages(page, ADELE)
    page.wait_for_selector("#deviceSignedIn")


def in_thread(work) -> tuple[threading.Thread, queue.Queue]:
    results: queue.Queue = queue.Queue()
    thread = threading.Thread(target=lambda: results.put(work()), daemon=True)
    thread.start()
    return thread, results


def test_msal_python_device_flow(live: MockEntra, page: Page):
    app = public_app(live)
    flow = app.initiate_device_flow(scopes=["User.Read"])
    assert flow["verification_uri"] == f"{live.base_url}/devicelogin", flow
    thread, results = in_thread(lambda: app.acquire_token_by_device_flow(flow))
    verify_device(page, flow["verification_uri"], flow["user_code"])
    thread.join(30)
    result = results.get_nowait()
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == ADELE[0]
    assert b64json(result["access_token"].split(".")[1])["appid"] == CLI
    # Cached: the next call is silent, through the public client's refresh token.
    (account,) = app.get_accounts()
    assert app.acquire_token_silent(["User.Read"], account, force_refresh=True)["access_token"]


def test_azure_identity_device_code_credential(live: MockEntra, page: Page):
    from azure.identity import DeviceCodeCredential

    prompts: queue.Queue = queue.Queue()
    credential = DeviceCodeCredential(
        client_id=CLI,
        tenant_id=live.tenant_id,
        authority=live.base_url,
        disable_instance_discovery=True,
        connection_verify=live.ca_bundle,
        prompt_callback=lambda uri, code, expires_on: prompts.put((uri, code)),
        timeout=30,
    )
    thread, results = in_thread(lambda: credential.get_token("User.Read"))
    uri, code = prompts.get(timeout=30)
    verify_device(page, uri, code)
    thread.join(30)
    token = results.get_nowait()
    assert b64json(token.token.split(".")[1])["appid"] == CLI


def test_msal_python_interactive_on_an_ephemeral_loopback_port(
    live: MockEntra, page: Page, monkeypatch: pytest.MonkeyPatch
):
    """`acquire_token_interactive` listens on a port the OS picks and sends
    `redirect_uri=http://localhost:<port>`; the app registered `http://localhost`."""
    opened: queue.Queue = queue.Queue()
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.put(url) or True)
    app = public_app(live)
    thread, results = in_thread(
        lambda: app.acquire_token_interactive(["User.Read"], prompt="login", timeout=30)
    )
    auth_uri = opened.get(timeout=30)
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A" in auth_uri
    page.goto(auth_uri)
    sign_in_pages(page, ADELE)
    thread.join(30)
    result = results.get_nowait()
    assert "access_token" in result, result
    assert result["id_token_claims"]["aud"] == CLI


@pytest.fixture(scope="module")
def msal_browser_js() -> Path:
    bundle = Path(__file__).parent / "spa/node_modules/@azure/msal-browser/lib/msal-browser.js"
    if not bundle.exists():
        pytest.skip("run `npm ci` in tests/mock_entra/spa (CI does) for @azure/msal-browser")
    return bundle


SPA_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>entra-lab SPA</title>
<script src="msal-browser.js"></script><script src="config.js"></script></head>
<body><pre id="out">loading</pre><script src="app.js"></script></body></html>
"""
# What a minimal msal-browser SPA does: redirect sign-in, then a silent token (forced through
# the refresh token, cross-origin) and a Graph call from the page (CORS on Graph).
SPA_APP = """
(async () => {
  const out = document.getElementById('out');
  try {
    const pca = new msal.PublicClientApplication({
      auth: {
        clientId: CONFIG.clientId,
        authority: CONFIG.authority,
        knownAuthorities: [CONFIG.host],
        redirectUri: CONFIG.redirectUri,
      },
      cache: { cacheLocation: 'sessionStorage' },
    });
    await pca.initialize();
    const result = await pca.handleRedirectPromise();
    if (!result && pca.getAllAccounts().length === 0) {
      out.textContent = 'redirecting';
      await pca.loginRedirect({ scopes: ['User.Read'] });
      return;
    }
    const account = (result && result.account) || pca.getAllAccounts()[0];
    const silent = await pca.acquireTokenSilent({
      scopes: ['User.Read'], account, forceRefresh: true,
    });
    const me = await fetch(CONFIG.graph + '/v1.0/me', {
      headers: { Authorization: 'Bearer ' + silent.accessToken },
    });
    const body = await me.json();
    out.textContent = JSON.stringify({
      status: 'done', username: account.username, graphStatus: me.status,
      displayName: body.displayName, silentFromCache: silent.fromCache,
    });
  } catch (e) {
    out.textContent = JSON.stringify({
      status: 'error', errorCode: e && e.errorCode, message: e && e.message,
    });
  }
})();
"""


class SpaServer:
    """The SPA over plain http://localhost on an ephemeral port, as `npm start` would serve
    it; `/spa/msal-browser.js` is the package's own browser bundle."""

    def __init__(self, bundle: Path, config_js: str) -> None:
        import http.server

        files = {
            f"{SPA_PATH}": ("text/html", SPA_PAGE.encode()),
            f"{SPA_PATH}msal-browser.js": ("text/javascript", bundle.read_bytes()),
            f"{SPA_PATH}app.js": ("text/javascript", SPA_APP.encode()),
        }
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].split("#", 1)[0]
                if path == f"{SPA_PATH}config.js":
                    found = ("text/javascript", server.config_js.encode())
                else:
                    found = files.get(path)
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()
                self.wfile.write(found[1])

            def log_message(self, *args: object) -> None:
                pass

        self.config_js = config_js
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://localhost:{self._server.server_address[1]}{SPA_PATH}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def spa(live: MockEntra, msal_browser_js: Path) -> Iterator[SpaServer]:
    import json

    server = SpaServer(msal_browser_js, "")
    host = live.base_url.removeprefix("https://")
    config = {
        "clientId": SPA,
        "authority": live.authority,
        "host": host,
        "redirectUri": server.url,  # http://localhost:<ephemeral>/spa/, registered port-less
        "graph": live.base_url,
    }
    server.config_js = f"const CONFIG = {json.dumps(config)};"
    yield server
    server.close()


def test_msal_browser_spa_signs_in_redeems_cross_origin_and_calls_graph(
    live: MockEntra, page: Page, spa: SpaServer
):
    page.goto(spa.url)
    page.wait_for_selector("#i0116")  # loginRedirect took the browser to the sign-in page
    sign_in_pages(page, ADELE)
    page.wait_for_url(f"{spa.url}*")
    page.wait_for_function("document.getElementById('out').textContent.startsWith('{')")
    import json

    result = json.loads(page.inner_text("#out"))
    assert result["status"] == "done", result
    assert result["username"] == ADELE[0]
    assert result["graphStatus"] == 200 and result["displayName"] == "Adele Vance"
    assert result["silentFromCache"] is False  # forced through the SPA refresh token
    # Every token request came cross-origin from the SPA's origin (the request log).
    origins = {
        entry.get("headers", {}).get("Origin")
        for entry in live.requests()
        if entry.get("path", "").endswith("/oauth2/v2.0/token")
    }
    assert origins == {spa.url.removesuffix(SPA_PATH)}, origins
