"""Fault scenarios: Entra and Graph misbehaving on purpose, one test (or client) at a time.

Each scenario is a small frozen object that transforms one thing the mock sends: the ID
token's claims, header or signature (at signing, `runtime`); the token endpoint's response
(`grants.token`, the one entry point of every grant); the authorize redirect (`codes.issue`);
the JWKS document (`web.front`); a Graph response (`graph.authenticate`). No view branches on
a scenario's name: a hook asks `Faults.find(hook, ...)` and applies what it gets.

Scenarios are switched on by an `Activation`: for one client id, one user (username or
object id), the next N matching requests, or until cleared. Run-time activations live in the
shared SQLite store, so every worker process and the test process agree; each request reads
one version value and a process reloads its copy only when it changed. Activations from the
config file (`[[scenarios]]`) are fixed at start.

The catalogue (`CATALOGUE`) names each scenario, says what it simulates and the real-world
event behind it, and the OpenID Foundation relying-party certification test it mirrors where
there is one (`oidcc-client-test-*`).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import functools
import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_entra.core.aadsts import (
    AADSTS50000,
    AADSTS50076,
    AADSTS50173,
    AADSTS65001,
    AADSTS90033,
    AADSTS90055,
    AADSTS700082,
    Aadsts,
)
from mock_entra.core.b64 import b64url
from mock_entra.core.config import (
    GRAPH_APP_ID,
    ConfigError,
    MockConfig,
    ScenarioSetting,
    TestUser,
)
from mock_entra.core.errors import EntraError, GraphError
from mock_entra.core.store.backend import StoreBackend
from mock_entra.core.tokens.signing import KeySet, SigningKey, segment

DEFAULT_RETRY_AFTER = 5  # seconds; Entra and Graph both send small integers
DEFAULT_DELAY = 30.0  # seconds: past the timeouts of MSAL's and most apps' HTTP clients
DEFAULT_GRACE = 24 * 3600.0  # how long the old key stays published after a rotation
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # Microsoft's own tenant id
OTHER_CLIENT = "00000000-0000-0000-0000-00000000dead"
# Bounds on an activation: SQLite keeps `times` as a 64-bit integer (2**63 was a 500), and a
# test counts requests in thousands; a client id is a GUID and a UPN at most 113 characters
# (Learn, "userPrincipalName" on the user resource), so 256 leaves room without letting one
# scenario carry a megabyte into the store.
MAX_TIMES = 1_000_000
MAX_SCOPE_LENGTH = 256


class ScenarioError(ValueError):
    """An unknown scenario name or a scope it cannot have (admin API: 400)."""


# -- the scenarios ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A catalogue entry: what it is called, simulates, stands for and mirrors."""

    name: str
    description: str
    event: str
    oidf: str | None = None
    hooks: ClassVar[frozenset[str]] = frozenset()
    # False: the hook's request names no client or user (JWKS), so it applies to everyone.
    scopable: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class IdTokenFault(Scenario):
    """Signs the ID token wrongly, or with claims a client must refuse."""

    hooks: ClassVar[frozenset[str]] = frozenset({"id_token"})
    claims: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    signing: str = "ok"  # ok, bad_signature, alg_none, unknown_kid, no_kid

    def sign(self, claims: dict[str, Any], key: SigningKey) -> str:
        if self.claims is not None:
            claims = self.claims(dict(claims))
        if self.signing == "alg_none":
            return f"{segment({'typ': 'JWT', 'alg': 'none'})}.{segment(claims)}."
        if self.signing == "unknown_kid":
            stranger = _stranger_key()
            return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": _STRANGER_KID})
        if self.signing == "no_kid":
            return key.sign(claims, {})
        token = key.sign(claims, {"kid": key.kid})
        if self.signing == "bad_signature":
            head, payload, signature = token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
            raw[len(raw) // 2] ^= 0x01  # one bit: the shape is right, the signature is not
            token = f"{head}.{payload}.{b64url(bytes(raw))}"
        return token


_STRANGER_KID = "entra-lab-unknown-" + secrets.token_hex(4)


@functools.cache  # one per process: an RSA key takes ~50 ms to make
def _stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True, kw_only=True)
class RedirectFault(Scenario):
    """Changes the authorization response the browser brings back to the client."""

    hooks: ClassVar[frozenset[str]] = frozenset({"redirect", "token_body"})
    drop: tuple[str, ...] = ()
    alter_state: bool = False

    def redirect(self, params: list[tuple[str, str]]) -> list[tuple[str, str]]:
        out = [(k, v) for k, v in params if k not in self.drop]
        if self.alter_state:
            out = [(k, v[::-1] + "x" if k == "state" else v) for k, v in out]
        return out

    def body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in self.drop}


@dataclass(frozen=True, kw_only=True)
class TokenBodyFault(Scenario):
    """A 200 from the token endpoint whose body is not what the client asked for."""

    hooks: ClassVar[frozenset[str]] = frozenset({"token_body"})
    transform: Callable[[dict[str, Any]], dict[str, Any]]

    def body(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.transform(dict(body))


@dataclass
class FaultResponse(Exception):
    """The token or JWKS endpoint answers this instead (rendered by `web.front`): an Entra
    error body with extra headers, or raw bytes."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    error: EntraError | None = None
    body: bytes | None = None
    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True)
class TokenContext:
    """What a token-endpoint fault may quote in its error."""

    client_id: str
    app_name: str
    grant_type: str
    now: float


@dataclass(frozen=True, kw_only=True)
class TokenFault(Scenario):
    """The token endpoint fails: an error with Entra's body, a non-JSON body, or a delay."""

    hooks: ClassVar[frozenset[str]] = frozenset({"token"})
    entry: Aadsts | None = None
    retry_after: bool = False
    raw: bytes | None = None  # a non-JSON body (an HTML error page from a proxy)
    raw_status: int = 502
    delay: bool = False
    grants: frozenset[str] | None = None  # None: every grant

    def applies(self, grant_type: str | None) -> bool:
        return self.grants is None or grant_type in self.grants

    def intervene(self, ctx: TokenContext, seconds: float | None) -> None:
        """Raise the faulty answer, or hold the answer back and let the request go on."""
        if self.delay:
            delay_answer(DEFAULT_DELAY if seconds is None else seconds)
            return
        if self.raw is not None:
            raise FaultResponse(self.raw_status, body=self.raw)
        assert self.entry is not None
        headers: tuple[tuple[str, str], ...] = ()
        if self.retry_after:
            headers = (("Retry-After", str(int(seconds or DEFAULT_RETRY_AFTER))),)
        issued = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ctx.now - 86400))
        args = {
            "issued": issued,
            "inactive": "90.00:00:00",
            "valid_from": time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ctx.now - 60)),
            "resource": GRAPH_APP_ID,
            "client_id": ctx.client_id,
            "app_name": ctx.app_name,
        }
        raise FaultResponse(self.entry.status, headers, EntraError(self.entry, **args))


@dataclass(frozen=True, kw_only=True)
class GraphFault(Scenario):
    """Graph refuses a valid token: an error in Graph's shape, with its headers."""

    hooks: ClassVar[frozenset[str]] = frozenset({"graph"})
    status: int
    code: str
    message: str
    retry_after: bool = False
    claims_challenge: bool = False

    def error(self, now: float, seconds: float | None) -> GraphError:
        headers: dict[str, str] = {}
        if self.status == 401:
            # Learn, "Claims challenges, claims requests and client capabilities": a CAE
            # challenge adds error="insufficient_claims" and the claims to ask for (base64).
            challenge = (
                'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                f'oauth2/authorize", client_id="{GRAPH_APP_ID}"'
            )
            if self.claims_challenge:
                wanted = {"access_token": {"nbf": {"essential": True, "value": str(int(now))}}}
                claims = base64.b64encode(json.dumps(wanted, separators=(",", ":")).encode())
                challenge += f', error="insufficient_claims", claims="{claims.decode()}"'
            headers["WWW-Authenticate"] = challenge
        if self.retry_after:
            headers["Retry-After"] = str(int(seconds or DEFAULT_RETRY_AFTER))
        return GraphError(self.status, self.code, self.message, headers)


@dataclass(frozen=True, kw_only=True)
class JwksFault(Scenario):
    """The keys endpoint is down."""

    hooks: ClassVar[frozenset[str]] = frozenset({"jwks"})
    scopable: ClassVar[bool] = False

    def response(self, seconds: float | None) -> FaultResponse:
        wait = str(int(DEFAULT_RETRY_AFTER if seconds is None else seconds))
        return FaultResponse(503, (("Retry-After", wait),), EntraError(AADSTS90033))


@dataclass(frozen=True, kw_only=True)
class KeyRotation(Scenario):
    """Entra rolls its signing key: the new key signs and is listed first; the old one
    stays listed for a grace period, then goes."""

    hooks: ClassVar[frozenset[str]] = frozenset({"jwks", "signing"})
    scopable: ClassVar[bool] = False

    def jwks_keys(
        self, keys: KeySet, started: float, now: float, grace: float | None
    ) -> list[SigningKey]:
        assert keys.rollover is not None
        if now - started < (DEFAULT_GRACE if grace is None else grace):
            return [keys.rollover, *keys.keys]
        return [keys.rollover, *keys.keys[1:]]  # the key that signed until now is gone


def _claims(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A claims transform: set each value (a callable gets the claims), or drop it (None)."""

    def transform(claims: dict[str, Any]) -> dict[str, Any]:
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value(claims) if callable(value) else value
        return claims

    return transform


def _narrow(body: dict[str, Any]) -> dict[str, Any]:
    granted = [s for s in str(body.get("scope", "")).split() if s.lower() in _OIDC]
    body["scope"] = " ".join(granted) or "openid"
    return body


_OIDC = {"openid", "profile", "email", "offline_access"}
_SILENT = frozenset({"refresh_token"})

CATALOGUE: tuple[Scenario, ...] = (
    IdTokenFault(
        name="id_token.wrong_iss",
        description="The ID token's `iss` names another tenant.",
        event="A token minted for another tenant or authority replayed to the app.",
        oidf="oidcc-client-test-invalid-iss",
        claims=_claims(iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"),
    ),
    IdTokenFault(
        name="id_token.wrong_aud",
        description="The ID token's `aud` is another app's client id.",
        event="A token issued to another app forwarded to this one.",
        oidf="oidcc-client-test-invalid-aud",
        claims=_claims(aud=OTHER_CLIENT),
    ),
    IdTokenFault(
        name="id_token.missing_aud",
        description="The ID token has no `aud`.",
        event="A forged or truncated token.",
        oidf="oidcc-client-test-missing-aud",
        claims=_claims(aud=None),
    ),
    IdTokenFault(
        name="id_token.missing_iat",
        description="The ID token has no `iat`.",
        event="A forged or truncated token.",
        oidf="oidcc-client-test-missing-iat",
        claims=_claims(iat=None),
    ),
    IdTokenFault(
        name="id_token.expired",
        description="The ID token expired an hour ago.",
        event="A token replayed late, or a server clock far behind.",
        claims=_claims(
            iat=lambda c: c["iat"] - 7200, nbf=lambda c: c["nbf"] - 7200, exp=lambda c: c["iat"]
        ),
    ),
    IdTokenFault(
        name="id_token.nbf_future",
        description="The ID token's `nbf` is an hour from now.",
        event="A token minted ahead of its use, or a client clock far behind.",
        claims=_claims(nbf=lambda c: c["iat"] + 3900),
    ),
    IdTokenFault(
        name="id_token.bad_signature",
        description="The ID token's signature does not verify.",
        event="A token altered in transit (claims edited after signing).",
        oidf="oidcc-client-test-invalid-sig-rs256",
        signing="bad_signature",
    ),
    IdTokenFault(
        name="id_token.alg_none",
        description="The ID token is unsigned (`alg: none`).",
        event="The classic JWT downgrade attack.",
        signing="alg_none",
    ),
    IdTokenFault(
        name="id_token.unknown_kid",
        description="The ID token is signed by a key the JWKS does not hold.",
        event="A token signed by an attacker's key, naming its own `kid`.",
        signing="unknown_kid",
    ),
    IdTokenFault(
        name="id_token.no_kid",
        description="The ID token's header names no `kid`.",
        event="A token from an issuer that omits `kid` while the JWKS holds several keys.",
        oidf="oidcc-client-test-kid-absent-multiple-jwks",
        signing="no_kid",
    ),
    IdTokenFault(
        name="id_token.wrong_nonce",
        description="The ID token's `nonce` is not the one the client sent.",
        event="An ID token injected from another sign-in (replay).",
        oidf="oidcc-client-test-nonce-invalid",
        claims=_claims(nonce="injected-" + "0" * 16),
    ),
    RedirectFault(
        name="redirect.missing_client_info",
        description="No `client_info` in the redirect or the token response.",
        event="A proxy or an older endpoint that drops MSAL's account hint.",
        drop=("client_info",),
    ),
    RedirectFault(
        name="redirect.state_altered",
        description="The `state` on the redirect is not the one the client sent.",
        event="A forged callback (login CSRF) or a mixed-up browser tab.",
        alter_state=True,
    ),
    KeyRotation(
        name="keys.rotated",
        description="A new signing key signs, listed first in the JWKS; the old one is "
        "removed after a grace period (`seconds`, default one day).",
        event="Entra rolling its signing keys (several times a year, or at once in an emergency).",
        oidf="oidcc-client-test-signing-key-rotation",
    ),
    JwksFault(
        name="jwks.unavailable",
        description="The JWKS endpoint answers 503.",
        event="An Entra outage or a network failure on the way to the keys.",
    ),
    TokenFault(
        name="token.server_error",
        description="The token endpoint answers 500 (`server_error`, AADSTS50000).",
        event="An Entra incident.",
        entry=AADSTS50000,
    ),
    TokenFault(
        name="token.unavailable",
        description="The token endpoint answers 503 with `Retry-After`.",
        event="An Entra outage or maintenance.",
        entry=AADSTS90033,
        retry_after=True,
    ),
    TokenFault(
        name="token.throttled",
        description="The token endpoint answers 429 with `Retry-After`.",
        event="Throttling: too many token requests from one app or tenant.",
        entry=AADSTS90055,
        retry_after=True,
    ),
    TokenFault(
        name="token.timeout",
        description="The token endpoint answers only after `seconds` (default 30).",
        event="A network stall or an overloaded service.",
        delay=True,
    ),
    TokenFault(
        name="token.not_json",
        description="The token endpoint answers 502 with an HTML page.",
        event="A proxy or gateway error page in front of the identity provider.",
        raw=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    ),
    TokenBodyFault(
        name="token.no_expires_in",
        description="The token response has no `expires_in`.",
        event="A non-conforming server or proxy (RFC 6749 only recommends it).",
        transform=_claims(expires_in=None, ext_expires_in=None),
    ),
    TokenBodyFault(
        name="token.narrow_scope",
        description="The token response grants fewer scopes than were asked for.",
        event="An admin revoked a permission, or consent covered less than requested.",
        transform=_narrow,
    ),
    TokenFault(
        name="refresh.expired",
        description="A refresh is refused: `invalid_grant`, AADSTS700082.",
        event="The refresh token went unused past its inactivity window.",
        entry=AADSTS700082,
        grants=_SILENT,
    ),
    TokenFault(
        name="refresh.password_changed",
        description="A refresh is refused: `invalid_grant`, AADSTS50173.",
        event="The user changed or reset their password; earlier grants are revoked.",
        entry=AADSTS50173,
        grants=_SILENT,
    ),
    TokenFault(
        name="silent.mfa_required",
        description="A silent request is refused: `interaction_required`, AADSTS50076.",
        event="A Conditional Access policy now demands multi-factor authentication.",
        entry=AADSTS50076,
        grants=_SILENT,
    ),
    TokenFault(
        name="silent.consent_required",
        description="A silent request is refused: `invalid_grant`/`consent_required`, AADSTS65001.",
        event="Consent was revoked, or the app now asks for more permissions.",
        entry=AADSTS65001,
        grants=_SILENT,
    ),
    GraphFault(
        name="graph.invalid_token",
        description="Graph answers 401 `InvalidAuthenticationToken` to a valid token.",
        event="A token revoked or expired by Graph's clock before the app's.",
        status=401,
        code="InvalidAuthenticationToken",
        message="Lifetime validation failed, the token is expired.",
    ),
    GraphFault(
        name="graph.claims_challenge",
        description="Graph answers 401 with a CAE claims challenge (`insufficient_claims`).",
        event="Continuous access evaluation: the user's session was revoked or a policy changed.",
        status=401,
        code="InvalidAuthenticationToken",
        message="Continuous access evaluation resulted in challenge with result: "
        "InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp",
        claims_challenge=True,
    ),
    GraphFault(
        name="graph.forbidden",
        description="Graph answers 403 `Authorization_RequestDenied`.",
        event="A permission was removed from the app or the user.",
        status=403,
        code="Authorization_RequestDenied",
        message="Insufficient privileges to complete the operation.",
    ),
    GraphFault(
        name="graph.throttled",
        description="Graph answers 429 `TooManyRequests` with `Retry-After`.",
        event="Graph throttling.",
        status=429,
        code="TooManyRequests",
        message="Too many requests. Please try again later.",
        retry_after=True,
    ),
    GraphFault(
        name="graph.unavailable",
        description="Graph answers 503 `serviceNotAvailable` with `Retry-After`.",
        event="A Graph outage or overload.",
        status=503,
        code="serviceNotAvailable",
        message="The service is temporarily unavailable. Please try again later.",
        retry_after=True,
    ),
)
SCENARIOS: Mapping[str, Scenario] = {s.name: s for s in CATALOGUE}


def scenario(name: str) -> Scenario:
    """The catalogue entry; `ScenarioError` listing every name for an unknown one."""
    found = SCENARIOS.get(name)
    if found is None:
        raise ScenarioError(f"unknown scenario {name!r:.80}; known: {', '.join(SCENARIOS)}")
    return found


# -- activations --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Activation:
    """A scenario switched on, and for whom: a client id, a user (username or object id),
    the next `times` matching requests; `seconds` tunes it (Retry-After, the delay, the
    rotation's grace period)."""

    name: str
    client_id: str | None = None
    user: str | None = None
    times: int | None = None
    seconds: float | None = None
    started: float = 0.0  # the mock's clock when it was switched on
    id: int | None = None  # the store's row; None for a config-file activation

    def __post_init__(self) -> None:
        found = scenario(self.name)
        if (self.client_id or self.user) and not found.scopable:
            raise ScenarioError(
                f"{self.name} applies to every client (the JWKS request names none): "
                "leave client_id and user out"
            )
        if self.times is not None and (
            isinstance(self.times, bool) or not 1 <= self.times <= MAX_TIMES
        ):
            raise ScenarioError(f"times: expected 1 to {MAX_TIMES}, or leave it out")
        for name in ("client_id", "user"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_SCOPE_LENGTH:
                raise ScenarioError(f"{name}: longer than {MAX_SCOPE_LENGTH} characters")
        if self.seconds is not None and not 0 <= self.seconds <= 7 * 86400:
            raise ScenarioError("seconds: expected 0 to 604800")

    @property
    def scenario(self) -> Scenario:
        return SCENARIOS[self.name]

    def matches(self, client_id: str | None, user: TestUser | None) -> bool:
        if self.client_id is not None and self.client_id != client_id:
            return False
        if self.user is not None:
            wanted = self.user.lower()
            if user is None or wanted not in (user.username.lower(), user.object_id.lower()):
                return False
        return True

    def to_json(self) -> str:
        data = {
            "name": self.name,
            "client_id": self.client_id,
            "user": self.user,
            "times": self.times,
            "seconds": self.seconds,
            "started": self.started,
        }
        return json.dumps(data, separators=(",", ":"))

    def describe(self, remaining: int | None = None) -> dict[str, Any]:
        """The admin API's view of it."""
        data = json.loads(self.to_json())
        data.update(id=self.id, remaining=remaining, description=self.scenario.description)
        return data

    @classmethod
    def from_json(cls, text: str, row_id: int) -> Activation | None:
        try:
            data = json.loads(text)
            return cls(**{k: data.get(k) for k in _FIELDS}, id=row_id)
        except (ValueError, TypeError):
            return None  # written by another version: ignored, never a 500


_FIELDS = ("name", "client_id", "user", "times", "seconds", "started")


def from_settings(settings: tuple[ScenarioSetting, ...], now: float) -> tuple[Activation, ...]:
    """The config file's `[[scenarios]]`, checked (a `ConfigError` naming the entry)."""
    out = []
    for i, s in enumerate(settings):
        try:
            out.append(
                Activation(
                    name=s.name,
                    client_id=s.client_id,
                    user=s.user,
                    times=s.times,
                    seconds=s.seconds,
                    started=now,
                )
            )
        except ScenarioError as error:
            raise ConfigError(f"scenarios[{i}]: {error}") from None
    return tuple(out)


@dataclass(frozen=True)
class Match:
    scenario: Any  # the Scenario subclass the hook asked for
    activation: Activation


@dataclass
class RequestFaults:
    """One request's view of the scenarios: those in force when it began, and how long its
    answer is to be held back (`token.timeout`)."""

    faults: Faults
    activations: tuple[Activation, ...]
    answer_delay: float = 0.0


_REQUEST: contextvars.ContextVar[RequestFaults | None] = contextvars.ContextVar(
    "mock_entra_faults", default=None
)


def delay_answer(seconds: float) -> None:
    """Hold the current request's answer back `seconds`. Inside `Faults.request()` the wait is
    left to whoever sends the answer (`web.front`): under `serve`, the worker's event loop
    waits without blocking, so a stalled client holds up nobody else. Outside one, here."""
    taken = _REQUEST.get()
    if taken is None:
        time.sleep(seconds)
    else:
        taken.answer_delay = max(taken.answer_delay, seconds)


@dataclass
class Faults:
    """The scenarios one mock honours: fixed ones from its config and, when `live` (its test
    controls are on), the shared store's, cached per process by version."""

    store: StoreBackend
    fixed: tuple[Activation, ...] = ()
    live: bool = False
    _version: str | None = field(default="(never read)", repr=False)
    _cached: tuple[Activation, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self._cached = self.fixed

    @classmethod
    def for_config(
        cls, config: MockConfig, store: StoreBackend, now: float, *, live: bool
    ) -> Faults:
        return cls(store, from_settings(config.scenarios, now), live)

    def current(self) -> tuple[Activation, ...]:
        """Every activation in force: the request's snapshot when one was taken."""
        taken = _REQUEST.get()
        if taken is not None and taken.faults is self:
            return taken.activations
        return self._load()

    def _load(self) -> tuple[Activation, ...]:
        if not self.live:
            return self.fixed
        version = self.store.scenario_version()
        if version != self._version:
            rows = self.store.scenarios()
            live = (Activation.from_json(text, row_id) for row_id, text, _ in rows)
            self._cached = self.fixed + tuple(a for a in live if a is not None)
            self._version = version
        return self._cached

    @contextlib.contextmanager
    def request(self) -> Iterator[RequestFaults]:
        """Read the store once for the whole request (`web.front` wraps each request); what
        the request's scenarios asked of its answer is on the object yielded."""
        taken = RequestFaults(self, self._load())
        token = _REQUEST.set(taken)
        try:
            yield taken
        finally:
            _REQUEST.reset(token)

    def find(
        self,
        hook: str,
        *,
        client_id: str | None = None,
        user: TestUser | None = None,
        grant_type: str | None = None,
        kind: type[Scenario] = Scenario,
    ) -> Match | None:
        """The first activation in force for this hook and caller (of this `kind`); a
        counted one is used up by the request that finds it (atomically: of two racing
        requests, one gets it)."""
        for activation in self.current():
            found = activation.scenario
            if hook not in found.hooks or not isinstance(found, kind):
                continue
            if not activation.matches(client_id, user):
                continue
            if isinstance(found, TokenFault) and not found.applies(grant_type):
                continue
            counted = activation.times is not None and activation.id is not None
            if counted and not self.store.take_scenario(activation.id):  # type: ignore[arg-type]
                continue
            return Match(found, activation)
        return None

    def any(self, hook: str) -> bool:
        """Whether some activation uses this hook (cheap: no store write)."""
        return any(hook in a.scenario.hooks for a in self.current())

    def listing(self) -> list[dict[str, Any]]:
        """The config's activations, then the run-time ones (the admin API's GET)."""
        return [a.describe() | {"source": "config"} for a in self.fixed] + listing(self.store)


# -- setting them (the admin API, `MockEntra.scenario`, the interceptor) -----------------------


def add(store: StoreBackend, activation: Activation) -> Activation:
    """Switch a scenario on for every process sharing `store`; returns it with its id
    (`ScenarioError` when the store holds `Limits.max_scenarios` already)."""
    row = store.add_scenario(activation.to_json(), activation.times)
    if row is None:
        raise ScenarioError(
            f"{store.limits.max_scenarios} scenarios are already set; clear some first"
        )
    return replace(activation, id=row)


def listing(store: StoreBackend) -> list[dict[str, Any]]:
    rows = []
    for row_id, text, remaining in store.scenarios():
        found = Activation.from_json(text, row_id)
        if found is not None:
            rows.append(found.describe(remaining) | {"source": "runtime"})
    return rows


@contextlib.contextmanager
def switched_on(
    store: StoreBackend,
    now: float,
    name: str,
    *,
    client_id: str | None = None,
    user: str | None = None,
    times: int | None = None,
    seconds: float | None = None,
) -> Iterator[Activation]:
    """A scenario in force for the `with` block, then cleared (even when the block fails)."""
    activation = add(
        store,
        Activation(
            name=name, client_id=client_id, user=user, times=times, seconds=seconds, started=now
        ),
    )
    try:
        yield activation
    finally:
        assert activation.id is not None
        store.delete_scenarios(activation.id)


def catalogue_rows() -> list[dict[str, str]]:
    """The catalogue as plain rows (the admin API's 400, the README table)."""
    return [
        {
            "name": s.name,
            "description": s.description,
            "event": s.event,
            "oidf": s.oidf or "",
        }
        for s in CATALOGUE
    ]


__all__ = [
    "CATALOGUE",
    "Activation",
    "FaultResponse",
    "Faults",
    "RequestFaults",
    "Scenario",
    "ScenarioError",
    "TokenContext",
    "add",
    "catalogue_rows",
    "scenario",
    "switched_on",
]
