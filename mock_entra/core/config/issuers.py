"""The keys of an external issuer (`external_issuers[]`): a JWKS document, given inline or in
a file, parsed once into public keys by `kid`. Entra fetches them from the issuer's
`jwks_uri` (Learn, "Workload identity federation": "Microsoft Entra ID ... uses the issuer's
OIDC discovery document to get the keys"); offline, the config holds them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MAX_JWKS_BYTES = 64 * 1024  # a few keys; not a file dump
MAX_KEYS = 20
# RSA and EC keys are what issuers publish (Kubernetes, GitHub Actions, Entra itself).
_KEY_TYPES = ("RSA", "EC")


def read_jwks_file(path: str) -> Mapping[str, Any]:
    """A JWKS file's document; ValueError (one line) when it cannot be read or parsed."""
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_JWKS_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_JWKS_BYTES:
        raise ValueError(f"{path} is larger than {MAX_JWKS_BYTES // 1024} KiB; not a JWKS")
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise ValueError(f"{path} is not a JWKS (a JSON object with keys)")
    return document


def parse_jwks(document: Mapping[str, Any]) -> dict[str, Any]:
    """The public keys of a JWKS by `kid`; ValueError saying what is wrong."""
    import jwt  # PyJWT (and cryptography) only when a config has external issuers

    keys = document.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ValueError('expected a JWKS: {"keys": [ ...at least one key... ]}')
    if len(keys) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys")
    found: dict[str, Any] = {}
    for i, jwk in enumerate(keys):
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
            raise ValueError(f"keys[{i}]: a JWK with a `kid`")
        if jwk.get("kty") not in _KEY_TYPES:
            raise ValueError(f"keys[{i}]: kty must be one of {', '.join(_KEY_TYPES)}")
        if "d" in jwk:
            raise ValueError(f"keys[{i}]: a private key; give the public key only")
        try:
            found[jwk["kid"]] = jwt.PyJWK.from_dict(dict(jwk)).key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"keys[{i}]: not a usable key: {exc}") from None
    return found
