"""Putting an in-process mock in the state an exchange was recorded in, and sending it the
equivalent request.

An exchange's `replay` block says how:

- `url` (default: the request's): the mock's URL, with placeholders (below); a host of
  `login.microsoftonline.com` or `graph.microsoft.com` (what the interceptor serves).
- `method` (default: the request's), `form` (a POST body), `json` (a JSON POST body), `query`
  (added to the URL).
- `token`: the bearer token a Graph call carries: `user` (Adele, delegated, for `scope`),
  `api` (Adele's token for the sample API), `app` (client credentials), `none`, or a literal
  string.
- `device`: the state of `{device_code}`: `pending` (default), `approved`, `expired`.
- `signin`: `accept` or `cancel` (at consent): Adele through the sign-in pages of the
  authorize request `query`; the redirect's parameters are the answer's Location.
- `scenario`: a fault scenario of the mock's catalogue in force for the request.

Placeholders: `{tenant}`, `{domain}`, `{web_id}`, `{web_secret}`, `{api_id}`, `{api_secret}`,
`{api_scope}`, `{daemon_id}`, `{public_id}`, `{closed_public_id}`, `{user}`, `{password}`,
`{redirect_uri}`, `{code}` and `{verifier}` (a code Adele got for the web app, and its PKCE
verifier), `{refresh_token}` (the web app's, for Adele), `{user_token_for_api}` (what a client
sends the API, for on-behalf-of), `{device_code}` (the public client's), `{client_assertion}`
(signed with the daemon's certificate for the form's `client_id`)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from mock_entra.core.clock import FixedClock
from mock_entra.core.config import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    DEFAULT_TENANT_ID,
)
from mock_entra.intercept import LOGIN_HOST, MockEntraInterceptor
from tests.mock_entra.client_kinds import (
    API_SCOPE,
    API_SECRET,
    CLOSED_PUBLIC_ID,
    DAEMON_ID,
    PUBLIC_ID,
    certificate,
)

from .corpus import Exchange

ADELE = ("adele@contoso.onmicrosoft.com", "Passw0rd!1")
STATIC = {
    "tenant": DEFAULT_TENANT_ID,
    "domain": "contoso.onmicrosoft.com",
    "web_id": DEFAULT_CLIENT_ID,
    "web_secret": DEFAULT_CLIENT_SECRET,
    "api_id": DEFAULT_API_CLIENT_ID,
    "api_secret": API_SECRET,
    "api_scope": API_SCOPE,
    "daemon_id": DAEMON_ID,
    "public_id": PUBLIC_ID,
    "closed_public_id": CLOSED_PUBLIC_ID,
    "user": ADELE[0],
    "password": ADELE[1],
    "redirect_uri": DEFAULT_REDIRECT_URI,
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
TOKEN_PATH = f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or the text


class Replayer:
    """One exchange's replay on a mock that was reset for it."""

    def __init__(self, mock: MockEntraInterceptor, exchange: Exchange) -> None:
        self.mock = mock
        self.exchange = exchange
        self.spec = exchange.replay
        self.values: dict[str, str] = dict(STATIC)
        self.form: dict[str, str] = {}

    # -- sending -----------------------------------------------------------------------------

    def open(self, method: str, url: str, *, data=None, headers=None, query=None) -> Answer:
        parts = urlsplit(url)
        response = self.mock.app.test_client().open(
            parts.path,
            method=method,
            base_url=f"https://{parts.netloc}",
            query_string=parts.query + ("&" + urlencode(query) if query else ""),
            data=data,
            headers=headers or {},
        )
        raw = response.get_data()
        try:
            body: Any = json.loads(raw)
        except ValueError:  # text, or bytes (a photo)
            body = raw.decode("utf-8", "replace")
        return Answer(response.status_code, dict(response.headers), body)

    def token(self, form: dict[str, str], path: str = TOKEN_PATH) -> dict[str, Any]:
        answer = self.open("POST", f"https://{LOGIN_HOST}{path}", data=form)
        assert answer.status == 200, answer.body
        return answer.body

    # -- placeholders --------------------------------------------------------------------------

    def fill(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        return PLACEHOLDER.sub(lambda m: self.value(m.group(1)), value)

    def value(self, name: str) -> str:
        if name not in self.values:
            make = getattr(self, f"_make_{name}", None)
            if make is None:
                raise KeyError(f"{self.exchange.name}: no placeholder {{{name}}}")
            self.values[name] = make()
        return self.values[name]

    def _make_verifier(self) -> str:
        self.value("code")
        return self.values["verifier"]

    def _make_code(self) -> str:
        verifier = secrets.token_urlsafe(32)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        self.values["verifier"] = verifier
        query = urlencode(
            {
                "client_id": DEFAULT_CLIENT_ID,
                "response_type": "code",
                "redirect_uri": DEFAULT_REDIRECT_URI,
                "scope": self.spec.get("code_scope", "openid profile offline_access User.Read"),
                "state": "s",
                "nonce": "n",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        url = f"https://{LOGIN_HOST}/{DEFAULT_TENANT_ID}/oauth2/v2.0/authorize?{query}"
        return self.mock.sign_in(url, *ADELE)["code"]

    def _ropc(self, scope: str) -> dict[str, Any]:
        return self.token(
            {
                "grant_type": "password",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "username": ADELE[0],
                "password": ADELE[1],
                "scope": scope,
            }
        )

    def _make_refresh_token(self) -> str:
        return self._ropc("openid profile offline_access User.Read")["refresh_token"]

    def _make_user_token_for_api(self) -> str:
        return self._ropc(API_SCOPE)["access_token"]

    def _make_device_code(self) -> str:
        start = self.open(
            "POST",
            f"https://{LOGIN_HOST}/{DEFAULT_TENANT_ID}/oauth2/v2.0/devicecode",
            data={"client_id": PUBLIC_ID, "scope": "User.Read openid profile offline_access"},
        )
        assert start.status == 200, start.body
        state = self.spec.get("device", "pending")
        if state == "approved":
            self._approve(start.body["user_code"])
        elif state == "expired":
            clock = self.mock.clock
            assert isinstance(clock, FixedClock)
            clock.advance(start.body["expires_in"] + 1)
        return start.body["device_code"]

    def _approve(self, user_code: str) -> None:
        browser = self.mock.app.test_client()
        base = f"https://{LOGIN_HOST}"
        page = browser.post("/common/oauth2/deviceauth", base_url=base, data={"otc": user_code})
        steps = [
            ("device_confirm", {"choice": "continue"}),
            ("username", {"loginfmt": ADELE[0]}),
            ("password", {"passwd": ADELE[1]}),
            ("kmsi", {"choice": "no"}),
        ]
        for step, fields in steps:
            ctx = re.search(r'name="ctx" value="([^"]+)"', page.get_data(as_text=True))
            assert ctx is not None, page.get_data(as_text=True)[:300]
            page = browser.post(
                "/common/login", base_url=base, data={"ctx": ctx.group(1), "step": step, **fields}
            )

    def _make_client_assertion(self) -> str:
        cert = certificate()
        client_id = self.fill(self.spec.get("form", {}).get("client_id", "{daemon_id}"))
        url = urlsplit(self.fill(self.spec.get("url", self.exchange.request["url"])))
        now = int(time.time())
        thumbprint = base64.urlsafe_b64encode(bytes.fromhex(cert.sha1_hex)).rstrip(b"=")
        claims = {
            "aud": f"https://{url.netloc}{url.path}",
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "exp": now + 600,
        }
        headers = {"x5t": thumbprint.decode()}
        return jwt.encode(claims, cert.key_pem, algorithm="RS256", headers=headers)

    # -- the exchange ----------------------------------------------------------------------------

    def bearer(self) -> dict[str, str]:
        kind = self.spec.get("token", "user")
        if kind == "none":
            return {}
        if kind == "user":
            scope = self.spec.get("scope", "User.Read User.ReadBasic.All")
            token = self._ropc(scope)["access_token"]
        elif kind == "api":  # Adele's token for the sample API, not for Graph
            token = self._ropc(API_SCOPE)["access_token"]
        elif kind == "app":
            token = self.token(
                {
                    "grant_type": "client_credentials",
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": DEFAULT_CLIENT_SECRET,
                    "scope": "https://graph.microsoft.com/.default",
                }
            )["access_token"]
        else:
            token = kind
        return {"Authorization": f"Bearer {token}"}

    def sign_in(self) -> Answer:
        """Adele through the sign-in pages of the web app's authorize request: the redirect's
        parameters as a Location (the consent page's cancel when `signin` is `cancel`)."""
        query = urlencode(self.fill(self.spec["query"]))
        url = f"https://{LOGIN_HOST}/{DEFAULT_TENANT_ID}/oauth2/v2.0/authorize?{query}"
        params = self.mock.sign_in(url, *ADELE, consent=self.spec["signin"] != "cancel")
        return Answer(302, {"Location": f"{DEFAULT_REDIRECT_URI}?{urlencode(params)}"}, "")

    def run(self) -> Answer:
        if "signin" in self.spec:
            return self.sign_in()
        if "scenario" in self.spec:  # a fault scenario of the mock's catalogue, for this request
            self.fill(self.spec.get("form", {}))  # its prerequisites (codes, tokens) before it
            with self.mock.scenario(self.spec["scenario"]):
                return self._send()
        return self._send()

    def _send(self) -> Answer:
        request = self.exchange.request
        url = self.fill(self.spec.get("url", request["url"]))
        method = self.spec.get("method", request["method"])
        headers = dict(self.spec.get("headers", {}))
        if urlsplit(url).netloc == "graph.microsoft.com":
            headers = {**self.bearer(), **headers}
        form = self.fill(self.spec["form"]) if "form" in self.spec else None
        if "json" in self.spec:
            form = json.dumps(self.fill(self.spec["json"]))
            headers["Content-Type"] = "application/json"
        query = self.fill(self.spec["query"]) if "query" in self.spec else None
        return self.open(method, url, data=form, headers=headers, query=query)
