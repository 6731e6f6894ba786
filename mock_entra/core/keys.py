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
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_entra.core.b64 import b64url
from mock_entra.core.multiprime import MultiPrimeKey
from mock_entra.core.pki import SIGNING_KEY_COUNT, StatePaths

__all__ = ["KeySet", "SigningKey", "b64url"]


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass(frozen=True)
class SigningKey:
    kid: str  # == x5t: base64url SHA-1 thumbprint of the certificate, as Entra's
    private_key: MultiPrimeKey
    public_key: rsa.RSAPublicKey
    cert_der: bytes

    @functools.cached_property
    def v2_header(self) -> str:
        return _segment({"typ": "JWT", "alg": "RS256", "kid": self.kid})

    @functools.cached_property
    def v1_header(self) -> str:
        return _segment({"typ": "JWT", "alg": "RS256", "x5t": self.kid, "kid": self.kid})

    def graph_header(self, nonce: str) -> str:
        return _segment(
            {"typ": "JWT", "nonce": nonce, "alg": "RS256", "x5t": self.kid, "kid": self.kid}
        )

    def jws(self, header: str, payload: str, signed_header: str | None = None) -> str:
        """`header.payload.signature` from encoded segments; the signature covers
        `signed_header` instead of `header` when given (Graph's nonce)."""
        signing_input = f"{signed_header or header}.{payload}".encode()
        return f"{header}.{payload}.{b64url(self.private_key.sign(signing_input))}"

    def jwk(self, issuer: str | None) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        jwk: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": _int_b64(numbers.n),
            "e": _int_b64(numbers.e),
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
            cert = x509.load_pem_x509_certificate(paths.signing_cert(n).read_bytes())
            der = cert.public_bytes(serialization.Encoding.DER)
            kid = b64url(hashlib.sha1(der).digest())
            keys.append(SigningKey(kid, private, private.public_key(), der))
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
        return key.jws(header, _segment(claims))

    def sign_graph(self, claims: dict[str, Any], nonce: str, *, kid: str | None = None) -> str:
        """A Graph access token as Entra makes it: the header carries a `nonce`, but the
        signature covers the header with SHA-256(nonce) instead, so nobody but Graph can
        verify it (entra-fidelity §4.3). Apps must not validate Graph tokens; this keeps
        an app that tries honest."""
        key = self.active(kid)
        signed = key.graph_header(_hashed_nonce(nonce))
        return key.jws(key.graph_header(nonce), _segment(claims), signed_header=signed)

    def verify_graph(self, token: str, *, leeway: float = 0) -> dict[str, Any]:
        """Verify a Graph token the way only Graph can (undo the nonce transform).
        Raises `jwt.InvalidTokenError`; expiry is checked by the caller against its clock."""
        try:
            header_b64, payload_b64, sig_b64 = token.split(".")
        except ValueError:
            raise jwt.DecodeError("not a JWS") from None
        header = jwt.get_unverified_header(token)
        key = self.get(str(header.get("kid", "")))
        if key is None or header.get("alg") != "RS256":
            raise jwt.InvalidSignatureError("unknown key")
        nonce = header.get("nonce")
        if isinstance(nonce, str):
            header = {**header, "nonce": _hashed_nonce(nonce)}
            header_b64 = _segment(header)
        return jwt.decode(
            f"{header_b64}.{payload_b64}.{sig_b64}",
            key.public_key,
            algorithms=["RS256"],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
            },
            leeway=leeway,
        )

    def verify(self, token: str) -> dict[str, Any]:
        """Verify the signature of a token this mock signed (no nonce transform)."""
        header = jwt.get_unverified_header(token)
        key = self.get(str(header.get("kid", "")))
        if key is None:
            raise jwt.InvalidSignatureError("unknown key")
        return jwt.decode(
            token,
            key.public_key,
            algorithms=["RS256"],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
            },
        )


def _hashed_nonce(nonce: str) -> str:
    return b64url(hashlib.sha256(nonce.encode()).digest())
