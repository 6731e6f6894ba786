"""An external OIDC issuer for workload identity federation tests (a GitHub Actions or
Kubernetes stand-in): an RSA key, its public JWKS, and tokens it signs."""

from __future__ import annotations

import functools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://token.actions.example.test"
SUBJECT = "repo:contoso/entra-lab:ref:refs/heads/main"
EXCHANGE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class Issuer:
    issuer: str
    kid: str
    key: rsa.RSAPrivateKey

    @property
    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "sub": SUBJECT,
            "aud": EXCHANGE,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


@functools.cache
def issuer(name: str = ISSUER, kid: str = "key-1") -> Issuer:
    """One key per (issuer, kid), made once per test session (RSA generation is slow)."""
    return Issuer(name, kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))
