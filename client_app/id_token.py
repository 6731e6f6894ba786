"""ID-token validation with PyJWT, because MSAL (since 1.38) checks only the nonce.

Follows Microsoft Learn "ID tokens" / "Validate tokens" and OpenID Connect Core 3.1.3.7:
RS256 signature against the tenant's JWKS (found through the authority's v2.0 discovery
document), `iss` = the discovery issuer with `{tenantid}` replaced by the token's `tid`,
`aud` = our client id, `exp`/`nbf`/`iat` required with 120 s of clock skew, `tid` present
(and equal to TENANT_ID when that is a GUID).

JWKS is fetched with the app's HTTP session (PyJWKClient uses urllib, which would ignore
CA_BUNDLE), cached, and refetched once when a token names an unknown `kid` (key rollover).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import jwt
import requests

from client_app.errors import SignInError
from client_app.settings import Settings

logger = logging.getLogger(__name__)

LEEWAY_SECONDS = 120
ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["exp", "nbf", "iat", "iss", "aud", "tid"]


def _invalid(reason: str) -> SignInError:
    return SignInError(
        400,
        "Sign-in failed",
        f"The ID token from the identity provider was rejected: {reason}.",
        code="invalid_id_token",
    )


def _unreachable(what: str) -> SignInError:
    return SignInError(
        502,
        "Identity provider unavailable",
        f"Could not fetch the identity provider's {what}; try again later.",
        code="idp_unavailable",
    )


class IdTokenValidator:
    """Validates ID tokens for one `Settings`; keeps the discovery document and keys cached."""

    def __init__(self, settings: Settings, http: requests.Session) -> None:
        self._settings = settings
        self._http = http
        self._lock = threading.Lock()
        self._discovery: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] | None = None

    @property
    def discovery_url(self) -> str:
        """`{authority}/v2.0/.well-known/openid-configuration`, as MSAL uses it."""
        return f"{self._settings.authority}/v2.0/.well-known/openid-configuration"

    def validate(self, id_token: str) -> dict[str, Any]:
        """Return the claims of a valid ID token; raise `SignInError` otherwise."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise _invalid("it is not a well-formed JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise _invalid(f"algorithm {header.get('alg')!r} is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _invalid("it names no signing key (kid)")

        key = self._signing_key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self._settings.client_id,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise _invalid("it has expired") from None
        except jwt.ImmatureSignatureError:
            raise _invalid("it is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise _invalid("it was issued for another application (aud)") from None
        except jwt.InvalidSignatureError:
            raise _invalid("its signature does not verify") from None
        except jwt.MissingRequiredClaimError as error:
            raise _invalid(f"the {error.claim!r} claim is missing") from None
        except jwt.PyJWTError as error:
            raise _invalid(f"{type(error).__name__}") from None

        self._check_tenant_and_issuer(claims)
        return claims

    def _check_tenant_and_issuer(self, claims: dict[str, Any]) -> None:
        tid = claims["tid"]
        if not isinstance(tid, str):
            raise _invalid("the 'tid' claim is malformed")
        if self._settings.tenant_is_guid and tid.lower() != self._settings.tenant_id.lower():
            raise _invalid("it was issued for another tenant (tid)")
        template = self._discovery_document().get("issuer")
        if not isinstance(template, str) or not template:
            raise _unreachable("discovery document (no issuer)")
        # Multi-tenant authorities (common/organizations) publish "{tenantid}" in the issuer.
        expected = template.replace("{tenantid}", tid)
        if claims["iss"] != expected:
            raise _invalid("it was issued by an unexpected issuer (iss)")

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if self._keys is None:
                self._keys = self._fetch_keys()
            key = self._keys.get(kid)
            if key is None:
                # Entra rolls keys; refetch once, then give up (never loop on attacker kids).
                logger.info("ID token names unknown kid %s; refetching JWKS", kid)
                self._keys = self._fetch_keys()
                key = self._keys.get(kid)
        if key is None:
            raise _invalid("it is signed with an unknown key (kid)")
        return key

    def _discovery_document(self) -> dict[str, Any]:
        if self._discovery is None:
            self._discovery = self._get_json(self.discovery_url, "discovery document")
        return self._discovery

    def _fetch_keys(self) -> dict[str, jwt.PyJWK]:
        jwks_uri = self._discovery_document().get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
            raise _unreachable("discovery document (no https jwks_uri)")
        jwks = self._get_json(jwks_uri, "signing keys")
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in jwks.get("keys") or []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
                continue
            if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid"), str):
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256")
            except jwt.PyJWTError:
                logger.warning("skipping unusable JWKS key %s", jwk.get("kid"))
        return keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError):
            logger.warning("could not fetch %s from %s", what, url)
            raise _unreachable(what) from None
        if not isinstance(document, dict):
            raise _unreachable(what)
        return document
