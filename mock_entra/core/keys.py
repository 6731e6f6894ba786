"""Token-signing keys, loaded once per process, with the JWKS precomputed.

Each key is loaded and self-tested once, then reused for every token (loading an RSA key per
token is the classic way to make a mock issue tens of tokens a second). Tokens are compact
JWS made here: the signer is `multiprime`'s, which PyJWT cannot hold as a key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_entra.core.b64 import b64url
from mock_entra.core.multiprime import E, MultiPrimeKey
from mock_entra.core.pki import SIGNING_KEY_COUNT, StatePaths

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["KeySet", "SigningKey", "b64url", "hashed_nonce", "segment"]


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass(frozen=True)
class SigningKey:
    kid: str  # == x5t: base64url SHA-1 thumbprint of the certificate, as Entra's
    private_key: MultiPrimeKey
    cert_der: bytes

    @functools.cached_property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @functools.cached_property
    def v2_header(self) -> str:
        return segment({"typ": "JWT", "alg": "RS256", "kid": self.kid})

    @functools.cached_property
    def v1_header(self) -> str:
        return segment({"typ": "JWT", "alg": "RS256", "x5t": self.kid, "kid": self.kid})

    def graph_header(self, nonce: str) -> str:
        return segment(
            {"typ": "JWT", "nonce": nonce, "alg": "RS256", "x5t": self.kid, "kid": self.kid}
        )

    def jws(self, header: str, payload: str, signed_header: str | None = None) -> str:
        """`header.payload.signature` from encoded segments; the signature covers
        `signed_header` instead of `header` when given (Graph's nonce)."""
        signing_input = f"{signed_header or header}.{payload}".encode()
        return f"{header}.{payload}.{b64url(self.private_key.sign(signing_input))}"

    def jwk(self, issuer: str | None) -> dict[str, Any]:
        jwk: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": _int_b64(int(self.private_key.n)),
            "e": _int_b64(E),
            "x5c": [base64.b64encode(self.cert_der).decode()],
        }
        if issuer is not None:
            jwk["issuer"] = issuer
        return jwk


class KeySet:
    """The mock's signing keys; the first is the active one unless told otherwise."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.keys = keys
        self._by_kid = {k.kid: k for k in keys}
        self._jwks_cache: dict[str | None, bytes] = {}

    @classmethod
    def load(cls, paths: StatePaths) -> KeySet:
        keys = []
        for n in range(1, SIGNING_KEY_COUNT + 1):
            private = MultiPrimeKey.from_jwk(json.loads(paths.signing_key(n).read_text()))
            private.check()
            der = _pem_to_der(paths.signing_cert(n).read_text())
            kid = b64url(hashlib.sha1(der).digest())
            keys.append(SigningKey(kid, private, der))
        return cls(keys)

    def get(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    def active(self, kid: str | None = None) -> SigningKey:
        return self._by_kid.get(kid or "", self.keys[0])

    def jwks_bytes(self, issuer: str | None) -> bytes:
        """The JWKS document (v2 keys carry `issuer`, v1 keys don't), built once per issuer."""
        cached = self._jwks_cache.get(issuer)
        if cached is None:
            body = {"keys": [k.jwk(issuer) for k in self.keys]}
            cached = self._jwks_cache[issuer] = json.dumps(body, separators=(",", ":")).encode()
        return cached

    # -- signing ---------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any], *, x5t: bool = False, kid: str | None = None) -> str:
        key = self.active(kid)
        header = key.v1_header if x5t else key.v2_header  # v1 tokens carry x5t as well as kid
        return key.jws(header, segment(claims))

    def sign_graph(self, claims: dict[str, Any], nonce: str, *, kid: str | None = None) -> str:
        """A Graph access token as Entra makes it: the header carries a `nonce`, but the
        signature covers the header with SHA-256(nonce) instead, so nobody but Graph can
        verify it (entra-fidelity §4.3). Apps must not validate Graph tokens; this keeps
        an app that tries honest."""
        key = self.active(kid)
        signed = key.graph_header(hashed_nonce(nonce))
        return key.jws(key.graph_header(nonce), segment(claims), signed_header=signed)


def _pem_to_der(pem: str) -> bytes:
    # A PEM certificate is its DER in base64 between the armour lines (RFC 7468).
    body = [line for line in pem.strip().splitlines() if not line.startswith("-----")]
    return base64.b64decode("".join(body))


def hashed_nonce(nonce: str) -> str:
    return b64url(hashlib.sha256(nonce.encode()).digest())
