"""Fault hooks: the places the mock asks for a fault (`Hook`), and the scenario kinds, each the
transform its hooks apply: the ID token's claims, header or signature (at signing); the
token endpoint's response (`grants.dispatch`, the one entry point of every grant); the
authorize redirect (`signin.codes.issue`); the JWKS document (`web.front`); a Graph response
(`graph.gate`). No view branches on a scenario's name: a hook asks
`Faults.find(Hook.X, ...)` (`activation`) and applies what it gets.

A hook is a `Hook` member, never a string: a scenario kind naming anything else fails when
its class is defined (at import), and `Faults.find`/`Faults.any` refuse anything else, so a
misspelt hook cannot silently never fire.
"""

from __future__ import annotations

import base64
import contextvars
import enum
import functools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_entra.core.aadsts import AADSTS90033, Aadsts
from mock_entra.core.b64 import b64url
from mock_entra.core.config import GRAPH_APP_ID
from mock_entra.core.errors import EntraError, GraphError
from mock_entra.core.tokens.signing import KeySet, SigningKey, segment

DEFAULT_RETRY_AFTER = 5  # seconds; Entra and Graph both send small integers
DEFAULT_DELAY = 30.0  # seconds: past the timeouts of MSAL's and most apps' HTTP clients
DEFAULT_GRACE = 24 * 3600.0  # how long the old key stays published after a rotation


class Hook(enum.Enum):
    """Where the mock asks whether a fault is in force (the call site in the comment)."""

    ID_TOKEN = "id_token"  # grants.issue.sign_id_token
    TOKEN_BODY = "token_body"  # grants.issue.shape_token_body
    TOKEN = "token"  # grants.dispatch (every grant)
    REDIRECT = "redirect"  # signin.codes.issue
    JWKS = "jwks"  # web.front (the keys documents)
    SIGNING = "signing"  # runtime.Runtime.active_kid
    GRAPH = "graph"  # graph.gate


def checked_hook(hook: object) -> Hook:
    """`hook` if it is a `Hook`; a `TypeError` otherwise (a string would never match)."""
    if not isinstance(hook, Hook):
        raise TypeError(f"a fault hook is a faults.Hook member, not {hook!r:.40}")
    return hook


# -- the scenario kinds -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A catalogue entry: what it is called, simulates, stands for and mirrors."""

    name: str
    description: str
    event: str
    oidf: str | None = None
    hooks: ClassVar[frozenset[Hook]] = frozenset()
    # False: the hook's request names no client or user (JWKS), so it applies to everyone.
    scopable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for hook in cls.hooks:  # checked when the class is defined: at import
            checked_hook(hook)


@dataclass(frozen=True, kw_only=True)
class IdTokenFault(Scenario):
    """Signs the ID token wrongly, or with claims a client must refuse."""

    hooks: ClassVar[frozenset[Hook]] = frozenset({Hook.ID_TOKEN})
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

    hooks: ClassVar[frozenset[Hook]] = frozenset({Hook.REDIRECT, Hook.TOKEN_BODY})
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

    hooks: ClassVar[frozenset[Hook]] = frozenset({Hook.TOKEN_BODY})
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

    hooks: ClassVar[frozenset[Hook]] = frozenset({Hook.TOKEN})
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

    hooks: ClassVar[frozenset[Hook]] = frozenset({Hook.GRAPH})
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

    hooks: ClassVar[frozenset[Hook]] = frozenset({Hook.JWKS})
    scopable: ClassVar[bool] = False

    def response(self, seconds: float | None) -> FaultResponse:
        wait = str(int(DEFAULT_RETRY_AFTER if seconds is None else seconds))
        return FaultResponse(503, (("Retry-After", wait),), EntraError(AADSTS90033))


@dataclass(frozen=True, kw_only=True)
class KeyRotation(Scenario):
    """Entra rolls its signing key: the new key signs and is listed first; the old one
    stays listed for a grace period, then goes."""

    hooks: ClassVar[frozenset[Hook]] = frozenset({Hook.JWKS, Hook.SIGNING})
    scopable: ClassVar[bool] = False

    def jwks_keys(
        self, keys: KeySet, started: float, now: float, grace: float | None
    ) -> list[SigningKey]:
        assert keys.rollover is not None
        if now - started < (DEFAULT_GRACE if grace is None else grace):
            return [keys.rollover, *keys.keys]
        return [keys.rollover, *keys.keys[1:]]  # the key that signed until now is gone


# -- what a hook does to the request's answer ---------------------------------------------------


@dataclass
class RequestFaults:
    """One request's view of the scenarios: those in force when it began (`activations`, of
    the `faults` that took them), and how long its answer is to be held back
    (`token.timeout`)."""

    faults: Any  # the `activation.Faults` that took the snapshot
    activations: tuple[Any, ...]  # `activation.Activation`s
    answer_delay: float = 0.0


REQUEST: contextvars.ContextVar[RequestFaults | None] = contextvars.ContextVar(
    "mock_entra_faults", default=None
)


def delay_answer(seconds: float) -> None:
    """Hold the current request's answer back `seconds`. Inside `Faults.request()` the wait is
    left to whoever sends the answer (`web.front`): under `serve`, the worker's event loop
    waits without blocking, so a stalled client holds up nobody else. Outside one, here."""
    taken = REQUEST.get()
    if taken is None:
        time.sleep(seconds)
    else:
        taken.answer_delay = max(taken.answer_delay, seconds)
