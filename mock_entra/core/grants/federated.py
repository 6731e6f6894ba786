"""Workload identity federation at the token endpoint: a `client_assertion` issued by another
identity provider (GitHub Actions, Kubernetes, another cloud: `external_issuers`) or by the
mock itself for one of its managed identities, accepted in place of a secret when it matches
one of the app's federated identity credentials (Learn, "Workload identity federation";
"Configure an application to trust a managed identity").

Told apart from a certificate assertion (`client_auth`) by its issuer: a certificate
assertion's `iss` is the client id; a federated one's is its identity provider. Checked as
Entra does: the credential by issuer (AADSTS700211), subject (AADSTS700213) and audience
(AADSTS700212), all case-sensitive; then the signature with the issuer's key (AADSTS7000272
for a key it does not publish); then `exp`/`nbf` (AADSTS700024, with the clock skew of
certificate assertions).

A token the mock issued is trusted when its `kid` is one of the mock's keys and its `iss` is
`https://{any host}/{tenant}/v2.0` for a tenant of the config: the mock answers at whatever
host a client reaches it by. Credentials name that issuer as registered on Azure,
`https://login.microsoftonline.com/{tenant}/v2.0`, or exactly as the mock's token says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mock_entra.core.aadsts import (
    AADSTS50027,
    AADSTS90014_CREDENTIAL,
    AADSTS90100,
    AADSTS700211,
    AADSTS700212,
    AADSTS700213,
    AADSTS5002738,
    AADSTS7000272,
)
from mock_entra.core.config import (
    TOKEN_EXCHANGE_APP_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    AppRegistration,
    FederatedCredential,
    MockConfig,
    Tenant,
)
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import missing
from mock_entra.core.grants.client_auth import (
    CLIENT_ASSERTION_TYPE,
    SIGNATURE_ONLY,
    Client,
    check_lifetime,
)
from mock_entra.core.tokens.signing import KeySet

FEDERATED = "federated"  # `Client.credential`: authenticated by a federated credential
ENTRA_AUTHORITY = "https://login.microsoftonline.com"
# What issuers sign with (RSA, and EC for some, e.g. GitHub Actions' are RSA, AWS's EC).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


def presented(app: AppRegistration, params: Mapping[str, str]) -> bool:
    """Whether the request's assertion is a federated one: the app trusts some issuer and
    the assertion's `iss` is not the app itself (that is a certificate assertion)."""
    assertion = params.get("client_assertion")
    if not app.federated_credentials or not assertion:
        return False
    claims = _unverified(assertion)
    return claims is not None and claims.get("iss") != app.client_id


def verify(
    tenant: Tenant,
    app: AppRegistration,
    params: Mapping[str, str],
    config: MockConfig,
    own_keys: KeySet,
    now: int,
) -> Client:
    """The app, authenticated by the federated credential the assertion matches."""
    import jwt  # PyJWT

    kind = params.get("client_assertion_type")
    if not kind:
        raise missing("client_assertion_type")
    if kind != CLIENT_ASSERTION_TYPE:
        raise EntraError(AADSTS90100, name="client_assertion_type")
    assertion = params["client_assertion"]
    claims = _unverified(assertion)
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        header = None
    if claims is None or header is None:
        raise EntraError(AADSTS50027)
    for name in ("iss", "sub", "aud"):
        if name not in claims:
            raise EntraError(AADSTS90014_CREDENTIAL, name=name)
    iss, sub, aud = claims["iss"], claims["sub"], claims["aud"]
    audiences = aud if isinstance(aud, list) else [aud]
    if not all(isinstance(v, str) for v in (iss, sub, *audiences)):
        raise EntraError(AADSTS50027)
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    own_tenant = _own_tenant(iss, config) if kid and own_keys.get(kid) else None
    names = {iss} | ({f"{ENTRA_AUTHORITY}/{own_tenant}/v2.0"} if own_tenant else set())
    _match(app.federated_credentials, names, sub, audiences, iss)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise EntraError(AADSTS5002738, alg=str(alg))
    key = _key(iss, kid, own_tenant, config, own_keys)
    try:
        jwt.decode(
            assertion,
            key=key,
            algorithms=[alg],
            options=SIGNATURE_ONLY,
        )
    except jwt.PyJWTError:
        raise EntraError(AADSTS50027) from None  # a signature the issuer's key does not match
    check_lifetime(claims, now)
    return Client(tenant, app, credential=FEDERATED)


def _unverified(assertion: str) -> dict[str, Any] | None:
    import jwt

    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


def _own_tenant(iss: str, config: MockConfig) -> str | None:
    """The tenant id of a v2.0 issuer of the mock (`https://{host}/{tenant}/v2.0`)."""
    try:
        parts = urlsplit(iss)
    except ValueError:  # not a URL (an unclosed IPv6 bracket): not the mock's
        return None
    segments = parts.path.strip("/").split("/")
    if parts.scheme != "https" or len(segments) != 2 or segments[1] != "v2.0":
        return None
    tenant = config.tenant(segments[0])
    return tenant.tenant_id if tenant is not None and tenant.tenant_id == segments[0] else None


def _match(
    credentials: tuple[FederatedCredential, ...],
    issuers: set[str],
    subject: str,
    audiences: list[Any],
    iss: str,
) -> FederatedCredential:
    by_issuer = [c for c in credentials if c.issuer in issuers]
    if not by_issuer:
        raise EntraError(AADSTS700211, issuer=iss)
    by_subject = [c for c in by_issuer if c.subject == subject]
    if not by_subject:
        raise EntraError(AADSTS700213, subject=subject)
    # A managed identity's token names the AzureADTokenExchange app by its id.
    sent = {TOKEN_EXCHANGE_AUDIENCE if a == TOKEN_EXCHANGE_APP_ID else a for a in audiences}
    for credential in by_subject:
        if sent & set(credential.audiences):
            return credential
    shown = ", ".join(str(a) for a in audiences)
    raise EntraError(AADSTS700212, audience=shown)


def _key(
    iss: str, kid: str | None, own_tenant: str | None, config: MockConfig, own_keys: KeySet
) -> Any:
    if own_tenant is not None and kid:
        own = own_keys.get(kid)
        if own is not None:
            return own.public_key
    external = config.external_issuer(iss)
    key = external.keys.get(kid or "") if external is not None else None
    if key is None:
        raise EntraError(AADSTS7000272, kid=kid or "", issuer=iss)
    return key
