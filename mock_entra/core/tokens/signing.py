"""Token-signing keys, loaded once per process, with the JWKS precomputed.

Each key is an ordinary RSA-2048 key loaded (and self-tested) once through `cryptography`,
then reused for every token (loading an RSA key per token is the classic way to make a mock
issue tens of tokens a second). Tokens are signed by PyJWT: measured side by side in one
process, it costs 4-8% more CPU than the same JWS put together by hand, a few % of a token
request (`bench/bench_mock.py` signing_cpu): one standard implementation is worth that.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_entra.core.b64 import b64url
from mock_entra.core.pki import certificates
from mock_entra.core.pki.state import ROLLOVER_KEY, SIGNING_KEY_COUNT, StateError, StatePaths

__all__ = ["KeySet", "SigningKey", "b64url", "hashed_nonce", "segment"]


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def segment(value: dict[str, Any]) -> str:
    """A JOSE header as one base64url segment, encoded as PyJWT encodes it."""
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass(frozen=True)
class SigningKey:
    kid: str  # == x5t: base64url SHA-1 thumbprint of the certificate, as Entra's
    private_key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @functools.cached_property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def sign(self, claims: dict[str, Any], headers: dict[str, Any]) -> str:
        # PyJWT writes `typ` and `alg` first, then `headers` in their order, as Entra does.
        return jwt.encode(
            claims, self.private_key, algorithm="RS256", headers=headers, sort_headers=False
        )

    def jwk(self, issuer: str | None) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        der = self.cert.public_bytes(serialization.Encoding.DER)
        jwk: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": _int_b64(numbers.n),
            "e": _int_b64(numbers.e),
            "x5c": [base64.b64encode(der).decode()],
        }
        if issuer is not None:
            jwk["issuer"] = issuer
        return jwk


class KeySet:
    """The mock's signing keys; the first is the active one unless told otherwise. `rollover`
    is the key Entra would roll to next: unpublished until the `keys.rotated` scenario."""

    def __init__(self, keys: list[SigningKey], rollover: SigningKey | None = None) -> None:
        self.keys = keys
        self.rollover = rollover
        self._by_kid = {k.kid: k for k in (*keys, *([rollover] if rollover else []))}
        self._jwks_cache: dict[tuple[str | None, tuple[str, ...]], bytes] = {}

    @classmethod
    def load(cls, paths: StatePaths) -> KeySet:
        """The keys of a state dir completed by `pki.state.ensure_state`."""
        keys = []
        for n in range(1, ROLLOVER_KEY + 1):
            key_path, cert_path = paths.signing_key(n), paths.signing_cert(n)
            pair = certificates.load_pair(key_path.read_bytes(), cert_path.read_bytes())
            if pair is None or not certificates.is_signing_key(pair):
                raise StateError(f"{key_path} is not an RSA-2048 key matching {cert_path}")
            assert isinstance(pair.key, rsa.RSAPrivateKey)
            kid = b64url(pair.cert.fingerprint(hashes.SHA1()))  # SHA-1: Entra's x5t
            keys.append(SigningKey(kid, pair.key, pair.cert))
        return cls(keys[:SIGNING_KEY_COUNT], keys[SIGNING_KEY_COUNT])

    def get(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    def active(self, kid: str | None = None) -> SigningKey:
        return self._by_kid.get(kid or "", self.keys[0])

    def jwks_bytes(self, issuer: str | None, keys: list[SigningKey] | None = None) -> bytes:
        """The JWKS document (v2 keys carry `issuer`, v1 keys don't), built once per issuer
        (and per key list, for a rotation in progress)."""
        published = self.keys if keys is None else keys
        cache_key = (issuer, tuple(k.kid for k in published))
        cached = self._jwks_cache.get(cache_key)
        if cached is None:
            body = {"keys": [k.jwk(issuer) for k in published]}
            cached = json.dumps(body, separators=(",", ":")).encode()
            if len(self._jwks_cache) < 64:  # bounded: the issuer follows the Host header
                self._jwks_cache[cache_key] = cached
        return cached

    # -- signing ---------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any], *, x5t: bool = False, kid: str | None = None) -> str:
        key = self.active(kid)
        # v2 tokens carry `kid`; v1 tokens `x5t` as well (https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference).
        headers = {"x5t": key.kid, "kid": key.kid} if x5t else {"kid": key.kid}
        return key.sign(claims, headers)

    def sign_graph(self, claims: dict[str, Any], nonce: str, *, kid: str | None = None) -> str:
        """A Graph access token as Entra makes it: the header carries a `nonce`, but the
        signature covers the header with SHA-256(nonce) instead, so nobody but Graph can
        verify it (AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet#609).
        Apps must not validate Graph tokens; this keeps
        an app that tries honest.

        PyJWT signs the header with the hashed nonce; the header sent is the same with the
        nonce itself (`graph.gate.verify_graph_token` undoes it). Entra writes `nonce` before
        `alg`; PyJWT writes `typ` and `alg` first (JSON key order carries no meaning)."""
        key = self.active(kid)
        headers = {"nonce": hashed_nonce(nonce), "x5t": key.kid, "kid": key.kid}
        _, payload, signature = key.sign(claims, headers).split(".")
        sent = segment({"typ": "JWT", "alg": "RS256", **headers, "nonce": nonce})
        return f"{sent}.{payload}.{signature}"


# Graph's access tokens for a personal Microsoft account are not JWTs but compact tickets
# ("EwB...", shorter than a JWT, unreadable at jwt.ms; microsoftgraph/msgraph-metadata#541), that
# only Graph reads. The mock's ticket wraps its signed Graph token, so its Graph reads it the
# same way and an app that tries to decode it fails, as it would online.
COMPACT_TICKET_PREFIX = "EwB"


def compact_ticket(token: str) -> str:
    return COMPACT_TICKET_PREFIX + base64.b64encode(token.encode()).decode()


def from_compact_ticket(token: str) -> str | None:
    """The signed token inside a compact ticket (None: not one of the mock's tickets)."""
    if not token.startswith(COMPACT_TICKET_PREFIX) or len(token) > 16384:
        return None
    try:
        inner = base64.b64decode(token[len(COMPACT_TICKET_PREFIX) :], validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return inner if inner.count(".") == 2 else None


def hashed_nonce(nonce: str) -> str:
    return b64url(hashlib.sha256(nonce.encode()).digest())
