"""Claim builders for the tokens Entra issues (pure functions; signing is `tokens.signing`).

- v2.0 ID tokens: Learn "ID token claims reference".
- v1.0 Graph access tokens: Learn "Access token claims reference" and real tokens quoted in
  AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet#609; `iss` is
  `https://sts.windows.net/{tid}/`.
- Access tokens for APIs the config exposes: v1.0 unless the API's registration sets
  `access_token_accepted_version = 2` (the manifest's `requestedAccessTokenVersion`; Learn,
  "Access tokens": "the version is determined by the resource, not the client"). v1.0:
  `iss https://sts.windows.net/{tid}/`, `aud` the App ID URI, `appid`/`appidacr`,
  `upn`/`unique_name`; v2.0: `iss .../{tid}/v2.0`, `aud` the client id, `azp`/`azpacr`
  (Learn, "Access token claims reference").
- `roles`: the values of the user's roles that this token's app defines (an ID token: the
  client's; an access token: the API's); `groups` per the app's `groupMembershipClaims`, and
  over 200 groups the overage claims instead (`group_claims`); optional claims per app and
  token type (`optional_claim`); `xms_cc` from the `claims` request parameter.
Timing as in every real token: `iat == nbf == issue time - 300 s`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from mock_entra.core.aadsts import AADSTS50117
from mock_entra.core.b64 import b64url
from mock_entra.core.config import AppRegistration, Tenant, TestUser
from mock_entra.core.errors import EntraError
from mock_entra.core.json_input import JsonInputError, parse_json
from mock_entra.core.tokens.scopes import Scopes

CLOCK_SKEW_BACKDATE = 300
# Learn, "ID token claims reference" / "Access token claims reference" (`groups`): "to prevent
# exceeding header size limits, Microsoft identity platform limits the number of object IDs
# that it includes in the groups claim ... for JWTs, the limit is 200".
GROUP_OVERAGE_LIMIT = 200


def uti() -> str:
    return b64url(secrets.token_bytes(16))  # 22 characters, as Entra's


def aio() -> str:
    return base64.b64encode(secrets.token_bytes(48)).decode()


@functools.lru_cache(maxsize=1024)  # one value per tenant and app, needed in every token
def rh(tenant_id: str, client_id: str) -> str:
    seed = hashlib.sha256(f"{tenant_id}:{client_id}".encode()).digest()[:30]
    return "0.A" + b64url(seed) + "."


def pairwise_sub(oid: str, client_id: str, tenant_id: str) -> str:
    """Entra's `sub` is pairwise: unique per user and app, stable, and never the oid."""
    return b64url(hashlib.sha256(f"{tenant_id}|{client_id}|{oid}".encode()).digest())


def client_info(user: TestUser, tenant: Tenant) -> str:
    body = json.dumps({"uid": user.object_id, "utid": tenant.tenant_id}, separators=(",", ":"))
    return b64url(body.encode())  # base64url without padding, as Entra sends it


def lifetime(fixed: int | None) -> int:
    # Entra's default access-token lifetime is a random 60-90 minutes.
    return fixed if fixed is not None else random.randint(3600, 5399)


@dataclass(frozen=True)
class Issue:
    """When a set of tokens is issued: shared by the ID token and the access token."""

    now: int
    expires_in: int

    @property
    def times(self) -> dict[str, int]:
        iat = self.now - CLOCK_SKEW_BACKDATE
        return {"iat": iat, "nbf": iat, "exp": self.now + self.expires_in}


@dataclass(frozen=True)
class ClaimsRequest:
    """The `claims` request parameter (OIDC Core 5.5, as Entra reads it): what the mock uses
    of it is the client capabilities, `{"access_token": {"xms_cc": {"values": ["CP1"]}}}`
    (MSAL's `client_capabilities`), which go into the access token as `xms_cc`."""

    client_capabilities: tuple[str, ...] = ()


def parse_claims_request(raw: str | None) -> ClaimsRequest:
    """A `claims` parameter; JSON that is not an object of objects is AADSTS50117 ("Failed
    to deserialize policy specified in the request's claim parameter", Learn error codes)."""
    if raw is None:
        return ClaimsRequest()
    try:
        data = parse_json(raw)  # bounded: deep or huge JSON is the same AADSTS50117
    except JsonInputError:
        raise EntraError(AADSTS50117) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict | None) for v in data.values()):
        raise EntraError(AADSTS50117)
    xms_cc = (data.get("access_token") or {}).get("xms_cc")
    values = xms_cc.get("values") if isinstance(xms_cc, dict) else None
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return ClaimsRequest(tuple(dict.fromkeys(values)))
    return ClaimsRequest()


@dataclass(frozen=True)
class Context:
    """What a token needs besides the sign-in: the client's `claims` request and how it
    authenticated."""

    claims_request: ClaimsRequest = ClaimsRequest()
    # How the client authenticated (`appidacr`/`azpacr`): "0" public, "1" secret, "2"
    # certificate (Learn, "Access token claims reference").
    client_acr: str = "0"


@dataclass(frozen=True)
class SignIn:
    """Who signed in, where, and how: the facts a delegated token describes."""

    tenant: Tenant
    user: TestUser
    app: AppRegistration
    sid: str
    auth_time: int
    kmsi: bool = False
    # How the user signed in. Only a browser sign-in leaves a session, so only its ID token
    # names one (`sid`); nor does an on-behalf-of ID token carry `aio` (recorded:
    # Azure/azure-sdk-for-python sdk/identity/azure-identity/tests/recordings/
    # test_cae.test_device_code.yaml, test_cae.test_username_password.yaml and
    # test_obo.test_obo_cert.yaml).
    flow: Literal["browser", "device", "password", "obo"] = "browser"


def v2_issuer(base_url: str, tenant_id: str) -> str:
    return f"{base_url}/{tenant_id}/v2.0"


def id_token_claims(
    signin: SignIn,
    scopes: Scopes,
    issue: Issue,
    *,
    issuer: str,
    nonce: str | None,
    token_uti: str,
    max_age_sent: bool = False,
    context: Context | None = None,
) -> dict[str, Any]:
    user, tenant, app = signin.user, signin.tenant, signin.app
    claims: dict[str, Any] = {"aud": app.client_id, "iss": issuer, **issue.times}
    if max_age_sent:
        claims["auth_time"] = signin.auth_time
    if signin.flow != "obo":
        claims["aio"] = aio()
    if "email" in scopes.oidc and user.mail:
        claims["email"] = user.mail
    if "profile" in scopes.oidc:
        claims["name"] = user.display_name
    if nonce is not None:
        claims["nonce"] = nonce
    claims["oid"] = user.object_id
    if "profile" in scopes.oidc:
        claims["preferred_username"] = user.username
    claims["rh"] = rh(tenant.tenant_id, app.client_id)
    if signin.flow == "browser":
        claims["sid"] = signin.sid
    claims["sub"] = pairwise_sub(user.object_id, app.client_id, tenant.tenant_id)
    claims["tid"] = tenant.tenant_id
    claims["uti"] = token_uti
    claims["ver"] = "2.0"
    _app_claims(claims, signin, app, app.optional_claims.id_token, context)
    return claims


def _app_claims(
    claims: dict[str, Any],
    signin: SignIn,
    app: AppRegistration,
    optional: tuple[str, ...],
    context: Context | None,
) -> None:
    """What the token's own app decides: its roles, its group claims, its optional claims."""
    roles = app_roles_of(signin.user, app)
    if roles:
        claims["roles"] = roles
    claims.update(group_claims(signin.tenant, signin.user, app))
    for name in optional:
        value = optional_claim(name, signin)
        if value is not None:
            claims.setdefault(name, value)


def app_roles_of(user: TestUser, app: AppRegistration) -> list[str]:
    """The user's role values that this app defines: roles belong to the app (Learn, "Add
    app roles to your application and receive them in the token")."""
    return [r for r in user.roles if r in app.app_roles]


def group_ids(tenant: Tenant, user: TestUser, app: AppRegistration) -> list[str]:
    """The groups `groupMembershipClaims` selects, transitive as Entra emits them (Learn,
    "Configure group claims for applications"): SecurityGroup the security groups, All every
    group (security, Microsoft 365, distribution), ApplicationGroup only groups assigned to
    the app, DirectoryRole none here (the mock has no directory roles)."""
    kind = app.group_claims
    if kind in ("None", "DirectoryRole") or not user.groups:
        return []
    ids = tenant.transitive_group_ids(user)  # the same memberships Graph answers with
    if kind == "SecurityGroup":
        return [i for i in ids if (g := tenant.group(i)) is None or g.security_enabled]
    if kind == "ApplicationGroup":
        return [i for i in ids if i in app.assigned_groups]
    return ids


def group_claims(tenant: Tenant, user: TestUser, app: AppRegistration) -> dict[str, Any]:
    """`groups`, or over 200 groups the overage claims. Their endpoint is the Azure AD Graph
    URL Entra still sends (`https://graph.windows.net/{tid}/users/{oid}/getMemberObjects`,
    Learn, "Access token claims reference", groups overage claim); Azure AD Graph is retired
    and Learn tells apps to call Microsoft Graph's `users/{oid}/getMemberObjects` themselves,
    so an app that follows the URL fails here as it would against Entra."""
    ids = group_ids(tenant, user, app)
    if not ids:
        return {}
    if len(ids) > GROUP_OVERAGE_LIMIT:
        endpoint = (
            f"https://graph.windows.net/{tenant.tenant_id}/users/{user.object_id}/getMemberObjects"
        )
        return {
            "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": endpoint}},
        }
    return {"groups": ids}


def login_hint(user: TestUser, tenant: Tenant) -> str:
    """An opaque, stable value an app sends back as `login_hint` (Learn: "not a UPN")."""
    body = json.dumps({"oid": user.object_id, "tid": tenant.tenant_id}, separators=(",", ":"))
    return b64url(body.encode())


def optional_claim(name: str, signin: SignIn) -> Any:
    """An optional claim's value (Learn, "Optional claims reference"), or None when the user
    has nothing for it (Entra then omits the claim)."""
    user, tenant = signin.user, signin.tenant
    values: dict[str, Any] = {
        "acct": 1 if user.user_type == "Guest" else 0,
        "auth_time": signin.auth_time,
        "ctry": user.usage_location,
        "email": user.mail,
        "family_name": user.surname,
        "given_name": user.given_name,
        "idtyp": "user",  # a delegated token (app-only tokens: app_access_token_claims)
        "ipaddr": "127.0.0.1",  # the client's address as Entra saw it; the mock is local
        "login_hint": login_hint(user, tenant),
        "sid": signin.sid,
        "tenant_region_scope": tenant.region_scope,
        "upn": user.username,
        "xms_pdl": user.preferred_data_location,
        "xms_pl": user.preferred_language,
        "xms_tpl": tenant.preferred_language,
    }
    return values.get(name)


def graph_access_token_claims(
    signin: SignIn,
    scopes: Scopes,
    issue: Issue,
    *,
    token_uti: str,
    context: Context | None = None,
) -> dict[str, Any]:
    user, tenant, app = signin.user, signin.tenant, signin.app
    claims: dict[str, Any] = {
        "aud": scopes.resource.audience(),
        "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
        **issue.times,
        "acct": 0,
        "acr": "1",
        "aio": aio(),
        "amr": ["pwd"],
        "app_displayname": app.display_name,
        "appid": app.client_id,
        "appidacr": context.client_acr if context else "0",
        "family_name": user.surname,
        "given_name": user.given_name,
        "idtyp": "user",
        "ipaddr": "127.0.0.1",
        "name": user.display_name,
        "oid": user.object_id,
        "platf": "3",
        "puid": hashlib.sha256(user.object_id.encode()).hexdigest()[:16].upper(),
        "rh": rh(tenant.tenant_id, app.client_id),
        "scp": scopes.scp(),
        "sid": signin.sid,
        "sub": pairwise_sub(user.object_id, "graph", tenant.tenant_id),
        "tenant_region_scope": tenant.region_scope,
        "tid": tenant.tenant_id,
        "unique_name": user.username,
        "upn": user.username,
        "uti": token_uti,
        "ver": "1.0",
        "xms_st": {"sub": pairwise_sub(user.object_id, app.client_id, tenant.tenant_id)},
    }
    if signin.kmsi:
        claims["signin_state"] = ["kmsi"]
    _capabilities(claims, context)
    return {k: v for k, v in claims.items() if v is not None}


def _capabilities(claims: dict[str, Any], context: Context | None) -> None:
    # Learn, "Claims challenges, claims requests, and client capabilities": the resource sees
    # the client's capabilities as `xms_cc` in the access token.
    if context is not None and context.claims_request.client_capabilities:
        claims["xms_cc"] = list(context.claims_request.client_capabilities)


def api_access_token_claims(
    signin: SignIn,
    scopes: Scopes,
    issue: Issue,
    *,
    issuer: str,
    token_uti: str,
    context: Context | None = None,
) -> dict[str, Any]:
    """A delegated access token for an API app of the config, v1.0 or v2.0 as the API's
    registration says."""
    user, tenant, app = signin.user, signin.tenant, signin.app
    api = scopes.resource.app
    assert api is not None
    claims: dict[str, Any]
    if api.token_version == 1:
        claims = {
            "aud": scopes.resource.audience(),
            "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
            **issue.times,
            "acr": "1",
            "aio": aio(),
            "amr": ["pwd"],
            "appid": app.client_id,
            "appidacr": context.client_acr if context else "0",
            "family_name": user.surname,
            "given_name": user.given_name,
            "ipaddr": "127.0.0.1",
            "name": user.display_name,
            "oid": user.object_id,
            "rh": rh(tenant.tenant_id, api.client_id),
            "scp": scopes.scp(),
            "sid": signin.sid,
            "sub": pairwise_sub(user.object_id, api.client_id, tenant.tenant_id),
            "tid": tenant.tenant_id,
            "unique_name": user.username,
            "upn": user.username,
            "uti": token_uti,
            "ver": "1.0",
        }
        claims = {k: v for k, v in claims.items() if v is not None}
    else:
        claims = {
            "aud": api.client_id,
            "iss": issuer,
            **issue.times,
            "aio": aio(),
            "azp": app.client_id,
            "azpacr": context.client_acr if context else "0",
            "name": user.display_name,
            "oid": user.object_id,
            "preferred_username": user.username,
            "rh": rh(tenant.tenant_id, api.client_id),
            "scp": scopes.scp(),
            "sid": signin.sid,
            "sub": pairwise_sub(user.object_id, api.client_id, tenant.tenant_id),
            "tid": tenant.tenant_id,
            "uti": token_uti,
            "ver": "2.0",
        }
    _app_claims(claims, signin, api, api.optional_claims.access_token, context)
    _capabilities(claims, context)
    return claims


def app_access_token_claims(
    tenant: Tenant,
    app: AppRegistration,
    scopes: Scopes,
    roles: tuple[str, ...],
    issue: Issue,
    *,
    v2_iss: str,
    token_uti: str,
    client_acr: str,
) -> dict[str, Any]:
    """An app-only token (client credentials): `roles`, no `scp`; `appidacr`/`azpacr` "1" for
    a secret, "2" for a certificate. `idtyp=app` is an optional claim the resource configures
    (Learn, "Optional claims reference"): Graph's tokens carry it, an API's only when its
    registration asks for it."""
    api = scopes.resource.app
    base: dict[str, Any]
    if api is None or api.token_version == 1:
        base = {
            "aud": scopes.resource.audience(),
            "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
            **issue.times,
            "aio": aio(),
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": client_acr,
            "idp": f"https://sts.windows.net/{tenant.tenant_id}/",
            "idtyp": "app",
            "oid": app.sp_object_id,
            "rh": rh(tenant.tenant_id, app.client_id),
            "sub": app.sp_object_id,
            "tenant_region_scope": tenant.region_scope,
            "tid": tenant.tenant_id,
            "uti": token_uti,
            "ver": "1.0",
        }
    else:
        base = {
            "aud": api.client_id,
            "iss": v2_iss,
            **issue.times,
            "aio": aio(),
            "azp": app.client_id,
            "azpacr": client_acr,
            "idtyp": "app",
            "oid": app.sp_object_id,
            "rh": rh(tenant.tenant_id, api.client_id),
            "sub": app.sp_object_id,
            "tid": tenant.tenant_id,
            "uti": token_uti,
            "ver": "2.0",
        }
    if api is not None:
        # `idtyp` and `tenant_region_scope` are optional claims the resource configures
        # (Learn, "Optional claims reference"; the default claims of "Access token claims
        # reference" name neither): Graph's tokens carry them, an API's when it asks.
        wanted = api.optional_claims.access_token
        base.pop("tenant_region_scope", None)
        if "tenant_region_scope" in wanted and tenant.region_scope is not None:
            base["tenant_region_scope"] = tenant.region_scope
        if "idtyp" not in wanted:
            del base["idtyp"]
    if roles:
        base["roles"] = list(roles)
    return base
