"""An in-process interceptor: `https://login.microsoftonline.com/...` and
`https://graph.microsoft.com/...` answered by a mock app, through `responses`.

Because MSAL's default HTTP client is a `requests` session, an unmodified app that uses the
production authority works offline, with no config change::

    with MockEntraInterceptor() as mock:
        app = msal.ConfidentialClientApplication(
            CLIENT_ID, authority=f"https://login.microsoftonline.com/{TENANT_ID}",
            client_credential=SECRET)
        app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from mock_entra.controls import MockControls
from mock_entra.core.clock import Clock, FixedClock
from mock_entra.core.config import DEFAULT_CONFIG, MockConfig
from mock_entra.web.hosts import Hosts
from mock_entra.web.wsgi import create_app

LOGIN_HOST = "login.microsoftonline.com"
GRAPH_HOST = "graph.microsoft.com"
_CTX = re.compile(r'name="ctx" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
# Every method goes to the mock, which answers each as Entra or Graph would (a PATCH of
# `/me` gets Graph's error, not a `responses` "connection refused" naming no route).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class MockEntraInterceptor(MockControls):
    """Routes Entra's and Graph's production hosts to an in-process mock; its test controls
    (`requests`, `reset`, `scenario`, ...) are `MockControls`' (inherited), as `MockEntra`'s are."""

    def __init__(
        self,
        config: MockConfig = DEFAULT_CONFIG,
        *,
        state_dir: str | Path | None = None,
        clock: Clock | None = None,
        hosts: tuple[str, ...] = (LOGIN_HOST, GRAPH_HOST),
    ) -> None:
        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mock-entra-intercept-")
            state_dir = self._tmp.name
        self.clock = clock if clock is not None else FixedClock()
        self.config = config
        # The same composed app `mock-entra serve` runs (`wsgi.MockApp`), request log on,
        # answering the intercepted hosts (and, for tests that call `app` directly, the
        # loopback names): another Host gets 400, as from `mock-entra serve`.
        self.app = create_app(
            config,
            state_dir=state_dir,
            clock=self.clock,
            log_requests=True,
            test_controls=True,
            hosts=Hosts.of(hosts, port=443),
        )
        self.runtime = self.app.runtime
        self.store = self.runtime.store
        self.hosts = hosts
        self.calls: list[requests.PreparedRequest] = []
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for host in hosts:
            pattern = re.compile(rf"https://{re.escape(host)}(/.*)?$")
            for method in METHODS:
                self._mock.add_callback(method, pattern, callback=self._forward)

    def _forward(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        self.calls.append(prepared)
        parts = urlsplit(prepared.url or "")
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        client = self.app.test_client()
        response = client.open(
            parts.path or "/",
            method=prepared.method or "GET",
            base_url=f"https://{parts.netloc}",
            query_string=parts.query,
            headers={k: v for k, v in prepared.headers.items() if k.lower() != "host"},
            data=body,
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return response.status_code, headers, response.get_data()

    @property
    def authority(self) -> str:
        return f"https://{LOGIN_HOST}/{self.tenant_id}"

    def sign_in(
        self, auth_uri: str, username: str, password: str, *, consent: bool = True
    ) -> dict[str, str]:
        """Walk the sign-in pages without a browser (username, password, "Stay signed in?"
        No, consent) and return the parameters the browser would bring to the redirect URI
        (from the redirect's query, or the form_post page's fields)."""
        parts = urlsplit(auth_uri)
        client = self.app.test_client()
        base = f"https://{parts.netloc}"
        page = client.get(parts.path, base_url=base, query_string=parts.query)
        tenant = parts.path.strip("/").split("/")[0]
        steps = [
            ("username", {"loginfmt": username}),
            ("password", {"passwd": password}),
            ("kmsi", {"choice": "no"}),
            ("consent", {"choice": "accept" if consent else "cancel"}),
        ]
        for step, fields in steps:
            if page.status_code == 302:
                break
            match = _CTX.search(page.get_data(as_text=True))
            if match is None:
                raise AssertionError(f"sign-in stopped before '{step}': {page.get_data()[:500]!r}")
            if f'name="step" value="{step}"' not in page.get_data(as_text=True):
                continue
            page = client.post(
                f"/{tenant}/login",
                base_url=base,
                data={"ctx": match.group(1), "step": step, **fields},
            )
        body = page.get_data(as_text=True)
        if page.status_code == 200 and 'name="hiddenform"' in body:
            # response_mode=form_post (what MSAL recommends): the fields the page would post.
            return {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(body)}
        if page.status_code != 302:
            raise AssertionError(f"sign-in did not redirect: {page.get_data()[:500]!r}")
        location = urlsplit(page.headers["Location"])
        return {k: v[0] for k, v in parse_qs(location.query).items()}

    def start(self) -> MockEntraInterceptor:
        self._mock.start()
        return self

    def stop(self) -> None:
        self._mock.stop()
        # Forget the calls but keep the routes: a stopped interceptor can be started again.
        self._mock.calls.reset()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> MockEntraInterceptor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
