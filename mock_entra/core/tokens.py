"""Claim builders for the tokens Entra issues (pure functions; signing is `keys`).

- v2.0 ID tokens: Learn "ID token claims reference".
- v1.0 Graph access tokens: Learn "Access token claims reference" and real tokens
  (entra-fidelity §4.3); `iss` is `https://sts.windows.net/{tid}/`.
- v2.0 access tokens for APIs the config exposes, with the API's client id as `aud`.
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
from typing import Any

from mock_entra.core.b64 import b64url
from mock_entra.core.config import AppRegistration, Tenant, TestUser
from mock_entra.core.scopes import Scopes

CLOCK_SKEW_BACKDATE = 300


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
class SignIn:
    """Who signed in, where, and how: the facts a delegated token describes."""

    tenant: Tenant
    user: TestUser
    app: AppRegistration
    sid: str
    auth_time: int
    kmsi: bool = False


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
) -> dict[str, Any]:
    user, tenant, app = signin.user, signin.tenant, signin.app
    claims: dict[str, Any] = {"aud": app.client_id, "iss": issuer, **issue.times}
    if max_age_sent:
        claims["auth_time"] = signin.auth_time
    claims["aio"] = aio()
    if "email" in scopes.oidc and user.mail:
        claims["email"] = user.mail
    if app.group_membership_claims and user.groups:
        claims["groups"] = list(user.groups)
    if "profile" in scopes.oidc:
        claims["name"] = user.display_name
    if nonce is not None:
        claims["nonce"] = nonce
    claims["oid"] = user.object_id
    if "profile" in scopes.oidc:
        claims["preferred_username"] = user.username
    claims["rh"] = rh(tenant.tenant_id, app.client_id)
    if user.roles:
        claims["roles"] = list(user.roles)
    claims["sid"] = signin.sid
    claims["sub"] = pairwise_sub(user.object_id, app.client_id, tenant.tenant_id)
    claims["tid"] = tenant.tenant_id
    claims["uti"] = token_uti
    claims["ver"] = "2.0"
    return claims


def graph_access_token_claims(
    signin: SignIn, scopes: Scopes, issue: Issue, *, token_uti: str
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
        "appidacr": "1" if app.is_confidential else "0",
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
    return {k: v for k, v in claims.items() if v is not None}


def api_access_token_claims(
    signin: SignIn, scopes: Scopes, issue: Issue, *, issuer: str, token_uti: str
) -> dict[str, Any]:
    """A v2.0 delegated access token for an API app of the config."""
    user, tenant, app = signin.user, signin.tenant, signin.app
    api = scopes.resource.app
    assert api is not None
    claims: dict[str, Any] = {
        "aud": api.client_id,
        "iss": issuer,
        **issue.times,
        "aio": aio(),
        "azp": app.client_id,
        "azpacr": "1" if app.is_confidential else "0",
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
    roles = [r for r in user.roles if r in api.app_roles]
    if roles:
        claims["roles"] = roles
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
) -> dict[str, Any]:
    """An app-only token (client credentials): `roles`, `idtyp=app`, no `scp`."""
    api = scopes.resource.app
    base: dict[str, Any]
    if api is None:
        base = {
            "aud": scopes.resource.audience(),
            "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
            **issue.times,
            "aio": aio(),
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": "1",
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
            "azpacr": "1",
            "idtyp": "app",
            "oid": app.sp_object_id,
            "rh": rh(tenant.tenant_id, api.client_id),
            "sub": app.sp_object_id,
            "tid": tenant.tenant_id,
            "uti": token_uti,
            "ver": "2.0",
        }
    if roles:
        base["roles"] = list(roles)
    return base
