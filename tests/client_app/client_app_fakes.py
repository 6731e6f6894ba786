"""A fake IdP and Graph for client_app tests, answered in-process by `responses`.

The fake signs real RS256 ID tokens with a key generated per test session, so the app's
ID-token validation runs for real; knobs on `FakeIdP` inject the faults the tests need.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

TENANT_ID = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
CLIENT_SECRET = "entra-lab~test-secret-do-not-leak"
# A non-Microsoft host, like the mock: MSAL must not try instance discovery.
IDP_BASE = "https://login.entra-lab.test"
AUTHORITY = f"{IDP_BASE}/{TENANT_ID}"
ISSUER = f"{IDP_BASE}/{TENANT_ID}/v2.0"
GRAPH = "https://graph.entra-lab.test/v1.0"
REDIRECT_URI = "http://localhost:5000/getAToken"
USER_OID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
USERNAME = "adele@contoso.onmicrosoft.com"

BASE_ENV = {
    "TENANT_ID": TENANT_ID,
    "CLIENT_ID": CLIENT_ID,
    "CLIENT_SECRET": CLIENT_SECRET,
    "AUTHORITY": AUTHORITY,
    "REDIRECT_URI": REDIRECT_URI,
    "GRAPH_ENDPOINT": GRAPH,
    "SECRET_KEY": "test-secret-key-0123456789abcdef",
}

ME = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
    "businessPhones": ["+1 425 555 0109"],
    "displayName": "Adele Vance",
    "givenName": "Adele",
    "jobTitle": "Retail Manager",
    "mail": "AdeleV@contoso.com",
    "mobilePhone": None,
    "officeLocation": "18/2111",
    "preferredLanguage": "en-US",
    "surname": "Vance",
    "userPrincipalName": USERNAME,
    "id": USER_OID,
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key with its JWKS entry."""

    kid: str
    private: rsa.RSAPrivateKey

    @property
    def jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm="RS256", headers={"kid": self.kid, **header}
        )


@dataclass
class FakeIdP:
    """Entra-shaped discovery, JWKS, token endpoint and Graph `/me`, with fault knobs."""

    mock: responses.RequestsMock
    key: SigningKey
    authority: str = AUTHORITY
    jwks_keys: list[dict[str, Any]] = field(default_factory=list)
    # Knobs ----------------------------------------------------------------------------
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    id_token_signer: SigningKey | None = None
    id_token_factory: Callable[[dict[str, Any]], str] | None = None
    token_status: int = 200
    token_body: dict[str, Any] | None = None
    expires_in: int = 3600
    graph_status: int = 200
    graph_body: dict[str, Any] = field(default_factory=lambda: dict(ME))
    # Recordings -------------------------------------------------------------------------
    codes: dict[str, str] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued: list[dict[str, Any]] = field(default_factory=list)
    graph_tokens: list[str] = field(default_factory=list)
    jwks_fetches: int = 0

    def install(self) -> None:
        self.jwks_keys = [self.key.jwk]
        self.mock.add(
            responses.GET,
            f"{self.authority}/v2.0/.well-known/openid-configuration",
            json=discovery_document(self.authority),
        )
        self.mock.add_callback(
            responses.GET, f"{self.authority}/discovery/v2.0/keys", callback=self._jwks
        )
        self.mock.add_callback(
            responses.POST, f"{self.authority}/oauth2/v2.0/token", callback=self._token
        )
        self.mock.add_callback(responses.GET, f"{GRAPH}/me", callback=self._graph_me)

    # The authorize step a browser would do --------------------------------------------

    def authorize(self, auth_uri: str) -> dict[str, str]:
        """Sign the user in at the IdP; return the authorization response parameters."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(auth_uri).query).items()}
        code = "1.AXoA" + uuid.uuid4().hex * 8
        self.codes[code] = query["nonce"]
        return {"code": code, "client_info": client_info(), "state": query["state"]}

    # Endpoint callbacks -----------------------------------------------------------------

    def _jwks(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.jwks_fetches += 1
        return 200, {"Content-Type": "application/json"}, json.dumps({"keys": self.jwks_keys})

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        self.token_requests.append(form)
        if self.token_body is not None or self.token_status != 200:
            body = self.token_body if self.token_body is not None else {"error": "server_error"}
            return self.token_status, {"Content-Type": "application/json"}, json.dumps(body)
        if form["grant_type"] == "authorization_code":
            nonce: str | None = self.codes.pop(form["code"])
        else:
            nonce = None
        now = int(time.time())
        claims = {
            "aud": CLIENT_ID,
            "iss": f"{self.authority}/v2.0",
            "iat": now - 300,
            "nbf": now - 300,
            "exp": now + self.expires_in,
            "name": "Adele Vance",
            "oid": USER_OID,
            "preferred_username": USERNAME,
            "sub": "V_GxUOdVuREzilEVgMKlT1w9oOvQt22R3iomV9QzgLg",
            "tid": TENANT_ID,
            "ver": "2.0",
            **({"nonce": nonce} if nonce else {}),
        }
        claims.update(self.id_token_overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        if self.id_token_factory is not None:
            id_token = self.id_token_factory(claims)
        else:
            id_token = (self.id_token_signer or self.key).sign(claims)
        body = {
            "token_type": "Bearer",
            "scope": "User.Read profile openid email",
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": "AT-" + uuid.uuid4().hex,
            "refresh_token": "RT-" + uuid.uuid4().hex,
            "id_token": id_token,
            "client_info": client_info(),
        }
        self.issued.append(body)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _graph_me(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.graph_tokens.append(request.headers.get("Authorization", ""))
        return self.graph_status, {"Content-Type": "application/json"}, json.dumps(self.graph_body)

    # Helpers for assertions -------------------------------------------------------------

    def secrets(self) -> list[str]:
        """Every token, code and secret that must never be shown or logged."""
        values = [CLIENT_SECRET, *self.codes]
        for body in self.issued:
            values += [body["access_token"], body["refresh_token"], body["id_token"]]
        values += [form["code"] for form in self.token_requests if "code" in form]
        values += [form["code_verifier"] for form in self.token_requests if "code_verifier" in form]
        return values


def discovery_document(authority: str = AUTHORITY) -> dict[str, Any]:
    """The v2.0 discovery document of the fake tenant (Entra's shape, trimmed)."""
    return {
        "token_endpoint": f"{authority}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": f"{authority}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{authority}/v2.0",
        "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
        "end_session_endpoint": f"{authority}/oauth2/v2.0/logout",
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["pairwise"],
        "tenant_region_scope": "EU",
    }


def client_info() -> str:
    """Entra's `client_info`: base64url of {"uid": oid, "utid": tid}, unpadded."""
    return _b64url(json.dumps({"uid": USER_OID, "utid": TENANT_ID}).encode())


def start_login(client: FlaskClient, path: str = "/login") -> str:
    """GET /login; return the authorize URL it redirects to."""
    response = client.get(path)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def sign_in(client: FlaskClient, idp: FakeIdP, *, form_post: bool = False) -> Any:
    """The whole browser round trip: /login → IdP → callback. Returns the callback response."""
    params = idp.authorize(start_login(client))
    if form_post:
        return client.post("/getAToken", data=params)
    return client.get("/getAToken", query_string=params)


def session_cookie(client: FlaskClient) -> Any:
    """The session cookie in the client's jar, or None."""
    return client.get_cookie("entra_lab_session")


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token_of(page: str) -> str:
    """The CSRF token in the Sign-out form of a rendered page."""
    match = CSRF_FIELD.search(page)
    assert match, "no Sign-out form on the page"
    return match.group(1)


def sign_out(client: FlaskClient) -> Any:
    """Press Sign out on the home page: POST /logout with the form's token."""
    token = csrf_token_of(client.get("/").text)
    return client.post("/logout", data={"csrf_token": token})
