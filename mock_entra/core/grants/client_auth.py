"""Client authentication at the token endpoint, for every grant: a client secret
(`client_secret_post`, `client_secret_basic`) or a certificate credential (a `client_assertion`
JWT signed with the key of a certificate in the app's `key_credentials`, `private_key_jwt`).

The assertion's format is Learn's "Microsoft identity platform certificate credentials":
header `alg` (MSAL Python and azure-identity send PS256 with `x5t#S256`, or RS256 with `x5t`
when given a SHA-1 thumbprint), claims `aud` = the token endpoint, `iss` = `sub` = the client
id, `exp`, `nbf`, `jti`. Checked in Entra's order with Entra's codes (see `aadsts`).

`sub` is required: Learn's table has it ("use the same value as iss") and RFC 7523 §3 and
OpenID Connect Core §9 make it REQUIRED, equal to the client id; a missing one is the
AADSTS90014 "required field ... missing from the credential" that a missing `iss` or `aud`
gets. `exp` has no upper bound: Learn says "Microsoft Entra ID doesn't place restrictions on
the exp time currently" (an `exp` of 1e308 is accepted, as there); it must still be a number
(finite, and an integer within 64 bits).

`jti` is not single use: Learn says the assertion "can be used until" `exp`, and MSAL Python
reuses one assertion for every request of its first 9 minutes (`AutoRefresher`), so Entra
cannot refuse a repeated `jti`; neither does the mock.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlsplit

from mock_entra.core.aadsts import (
    AADSTS50027,
    AADSTS90014_CREDENTIAL,
    AADSTS90100,
    AADSTS700021,
    AADSTS700023,
    AADSTS700024,
    AADSTS700025,
    AADSTS700027_BAD_SIGNATURE,
    AADSTS700027_NO_KEY,
    AADSTS5002723,
    AADSTS5002738,
    AADSTS5002741,
    AADSTS7000215,
    AADSTS7000218,
    AADSTS9002313,
)
from mock_entra.core.config import AppRegistration, Tenant
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import missing

if TYPE_CHECKING:
    from mock_entra.core.config import MockConfig
    from mock_entra.core.config.credentials import KeyCredential

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# RS* as Entra's AADSTS5002738 lists them; PS256 is what Learn asks for and MSAL sends.
ASSERTION_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
# PyJWT checks an assertion's signature only: its claims are checked after, in Entra's order
# and with Entra's codes.
SIGNATURE_ONLY = {
    "verify_aud": False,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_iss": False,
}
# Microsoft.IdentityModel's default clock skew, which Entra's validation allows [INF].
CLOCK_SKEW = 300

_TOKEN_PATHS = ("oauth2/v2.0/token", "oauth2/token")

SECRET = "secret"
CERTIFICATE = "certificate"
NONE = "none"  # a public client (or "Allow public client flows" used without a credential)


@dataclass(frozen=True)
class Client:
    """The client of a token request and how it proved who it is."""

    tenant: Tenant
    app: AppRegistration
    # False: a confidential app that presented no credential. Allowed only where the flow is
    # a public client's (a code sent to a spa or public-client redirect URI, device code,
    # username/password with "Allow public client flows"); every other grant calls
    # `require_authenticated` (AADSTS7000218).
    authenticated: bool = True
    credential: str = NONE  # what was presented: SECRET, CERTIFICATE or NONE

    @property
    def acr(self) -> str:
        """How the client authenticated, as `appidacr`/`azpacr` say it: "0" a public client,
        "1" a client secret, "2" a certificate (Learn, "Access token claims reference")."""
        return {SECRET: "1", CERTIFICATE: "2"}.get(self.credential, "0")

    @property
    def confidential(self) -> bool:
        """Authenticated with a secret or a certificate (what OBO and client credentials need)."""
        return self.credential != NONE

    def require_authenticated(self) -> None:
        if not self.authenticated:
            raise EntraError(AADSTS7000218)


@dataclass(frozen=True)
class Endpoint:
    """Where the request arrived: what an assertion's `aud` must name."""

    base_url: str  # scheme://host[:port] the client called
    segment: str  # the tenant segment of the path (a GUID, a domain, common, organizations)
    config: MockConfig


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """`client_secret_basic`: the (client id, secret) of an `Authorization: Basic` header."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        user, _, password = decoded.partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise EntraError(AADSTS9002313) from None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return unquote_plus(user), unquote_plus(password)


def verify_credential(
    tenant: Tenant,
    app: AppRegistration,
    params: dict[str, str],
    basic: tuple[str, str] | None,
    endpoint: Endpoint,
    now: int,
) -> Client:
    """The credential the request carries, checked against the app registration.

    A confidential app that sends nothing gets an unauthenticated `Client`: each grant decides
    whether its flow is a public client's (else AADSTS7000218)."""
    secret = params.get("client_secret") or (basic[1] if basic else None)
    assertion = params.get("client_assertion")
    if not app.is_confidential:
        if secret or assertion:
            raise EntraError(AADSTS700025)
        return Client(tenant, app)
    if assertion:
        verify_assertion(app, assertion, params.get("client_assertion_type"), endpoint, now)
        return Client(tenant, app, credential=CERTIFICATE)
    if not secret:
        return Client(tenant, app, authenticated=False)  # the grant decides (public flows)
    if not any(hmac.compare_digest(secret.encode(), s.encode()) for s in app.client_secrets):
        raise EntraError(AADSTS7000215, client_id=app.client_id)
    return Client(tenant, app, credential=SECRET)


def verify_assertion(
    app: AppRegistration,
    assertion: str,
    assertion_type: str | None,
    endpoint: Endpoint,
    now: int,
) -> None:
    """A `client_assertion` signed by one of the app's certificates, for this endpoint."""
    import jwt  # PyJWT: verified with the registered certificate's public key

    if not assertion_type:
        raise missing("client_assertion_type")
    if assertion_type != CLIENT_ASSERTION_TYPE:
        raise EntraError(AADSTS90100, name="client_assertion_type")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise EntraError(AADSTS50027) from None
    alg = header.get("alg")
    if alg not in ASSERTION_ALGORITHMS:
        raise EntraError(AADSTS5002738, alg=str(alg))
    x5t, x5t_s256 = header.get("x5t"), header.get("x5t#S256")
    if not isinstance(x5t, str | None) or not isinstance(x5t_s256, str | None):
        raise EntraError(AADSTS50027)
    if not x5t and not x5t_s256:
        raise EntraError(AADSTS5002723)
    # MSAL Python pads its thumbprints (`base64.urlsafe_b64encode`); Entra takes both forms.
    cred = app.certificate(
        x5t=x5t.rstrip("=") if x5t else None, x5t_s256=x5t_s256.rstrip("=") if x5t_s256 else None
    )
    if cred is None:
        thumbprint = _thumbprint_hex(x5t_s256 or x5t or "")
        raise EntraError(AADSTS700027_NO_KEY, thumbprint=thumbprint, client_id=app.client_id)
    try:
        claims = jwt.decode(
            assertion,
            key=cred.public_key,
            algorithms=[alg],
            options=SIGNATURE_ONLY,
        )
    except jwt.InvalidSignatureError:
        raise _bad_signature(app, cred) from None
    except jwt.PyJWTError:
        raise EntraError(AADSTS50027) from None
    _check_claims(app, claims, endpoint, now)


def _check_claims(app: AppRegistration, claims: dict[str, Any], endpoint: Endpoint, now: int):
    for name in ("iss", "sub", "aud"):
        if name not in claims:
            raise EntraError(AADSTS90014_CREDENTIAL, name=name)
    aud = claims["aud"]
    if isinstance(aud, list):
        if len(aud) != 1:
            raise EntraError(AADSTS5002741, count=len(aud))
        aud = aud[0]
    if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
        raise EntraError(AADSTS700021)
    if not isinstance(aud, str) or not _is_token_endpoint(aud, endpoint):
        raise EntraError(AADSTS700023)
    check_lifetime(claims, now)


def check_lifetime(claims: dict[str, Any], now: float) -> None:
    """An assertion's `exp` and `nbf`, with Entra's clock skew: AADSTS50027 when they are not
    numbers, AADSTS700024 outside them."""
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not number(exp) or (nbf is not None and not number(nbf)):
        raise EntraError(AADSTS50027)
    if now >= exp + CLOCK_SKEW or (nbf is not None and nbf > now + CLOCK_SKEW):
        raise EntraError(
            AADSTS700024, now=entra_time(now), nbf=entra_time(nbf or 0), exp=entra_time(exp)
        )


def _is_token_endpoint(aud: str, endpoint: Endpoint) -> bool:
    """The v2.0 token endpoint Learn names, or the v1.0 one older clients (ADAL) used (not
    confirmed against a tenant), of this host and of the request's tenant (by id, domain, or
    the segment the client used)."""
    try:
        parts = urlsplit(aud)
    except ValueError:  # not a URL: not the token endpoint
        return False
    here = urlsplit(endpoint.base_url)
    if parts.scheme != "https" or parts.netloc.lower() != here.netloc.lower() or parts.query:
        return False
    path = parts.path.split("/")
    if len(path) < 4 or path[0] != "" or "/".join(path[2:]) not in _TOKEN_PATHS:
        return False
    segment = path[1]
    if segment.lower() == endpoint.segment.lower():
        return True
    wanted = endpoint.config.tenant(endpoint.segment)
    return wanted is not None and endpoint.config.tenant(segment) is wanted


def _bad_signature(app: AppRegistration, cred: KeyCredential) -> EntraError:
    cert = cred.certificate
    return EntraError(
        AADSTS700027_BAD_SIGNATURE,
        thumbprint=cred.thumbprint,
        start=cert.not_valid_before_utc.strftime("%m/%d/%Y %H:%M:%S"),
        end=cert.not_valid_after_utc.strftime("%m/%d/%Y %H:%M:%S"),
        client_id=app.client_id,
    )


def _thumbprint_hex(b64: str) -> str:
    """A thumbprint as the portal and Entra's messages show it (hex, upper case)."""
    try:
        raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
    except (binascii.Error, ValueError):
        return ""
    return raw.hex().upper()


def number(value: Any) -> bool:
    """A JSON number a time claim may hold: not NaN or Infinity (JSON parsers read them), and
    not an integer beyond 64 bits (`math.isfinite(10**400)` raised: a 500)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def entra_time(seconds: float) -> str:
    """Entra's time format in these messages: `2024-10-02T22:05:03.6755165Z` (7 digits; as
    AADSTS700084 says when an SPA's refresh token "was issued on 2023-12-11T12:31:44.1947275Z",
    AzureAD/microsoft-authentication-library-for-js#6765)."""
    stamp = datetime.fromtimestamp(max(0, min(seconds, 253402300799)), UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond * 10:07d}Z"
