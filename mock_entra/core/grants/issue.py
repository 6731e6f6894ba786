"""The token response of the grants that issue tokens for a user (authorization code,
refresh, device code, on-behalf-of, username/password): the access token for the resource,
a refresh token and an ID token when the scopes ask for them, `client_info` when asked; every
scope consented for the resource is in the token and the response's `scope` (`consent`)."""

from __future__ import annotations

import secrets
from typing import Any

from mock_entra.core.config import GRAPH_RESOURCE, PERSONAL_TENANT_ID, AppRegistration, Tenant
from mock_entra.core.faults import Hook, IdTokenFault, RedirectFault, TokenBodyFault
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin.consent import with_consented
from mock_entra.core.tokens.claims import (
    ClaimsRequest,
    Context,
    Issue,
    SignIn,
    api_access_token_claims,
    app_access_token_claims,
    client_info,
    graph_access_token_claims,
    id_token_claims,
    uti,
    v2_issuer,
)
from mock_entra.core.tokens.scopes import Scopes
from mock_entra.core.tokens.signing import compact_ticket


def user_tokens(
    rt: Runtime,
    signin: SignIn,
    scopes: Scopes,
    *,
    base_url: str,
    nonce: str | None,
    want_client_info: bool,
    max_age_sent: bool = False,
    platform: str = "web",
    refresh_expires_at: int | None = None,
    claims_request: ClaimsRequest | None = None,
    client_acr: str = "0",
) -> dict[str, Any]:
    """The token response of the grants that issue tokens for a user. The token and the
    response's `scope` carry every scope consented for the resource (`consent`)."""
    scopes = with_consented(rt, signin, scopes)
    context = Context(
        claims_request=claims_request or ClaimsRequest(),
        client_acr=client_acr,
    )
    issue = Issue(rt.now(), rt.token_lifetime())
    token_uti = uti()
    kid = rt.active_kid()
    issuer = v2_issuer(base_url, signin.tenant.tenant_id)
    if scopes.resource.is_graph:
        claims = graph_access_token_claims(
            signin, scopes, issue, token_uti=token_uti, context=context
        )
        access_token = rt.keys.sign_graph(claims, secrets.token_urlsafe(32), kid=kid)
        if signin.tenant.tenant_id == PERSONAL_TENANT_ID:
            access_token = compact_ticket(access_token)  # not a JWT for a personal account
    else:
        claims = api_access_token_claims(
            signin, scopes, issue, issuer=issuer, token_uti=token_uti, context=context
        )
        access_token = rt.keys.sign(claims, kid=kid)
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": scopes.response_scope(),
        "expires_in": issue.expires_in,
        "ext_expires_in": issue.expires_in,
        "access_token": access_token,
    }
    if scopes.wants_refresh_token:
        end = rt.refresh_end(platform, refresh_expires_at)
        body["refresh_token"] = rt.new_refresh_token(
            signin, scopes, platform=platform, expires_at=end
        )
        if end is not None:
            # A SPA's refresh token ends 24 hours after sign-in (Learn, "Refresh tokens"), and
            # Entra says when: MSAL.js reads `refresh_token_expires_in` (seconds) from a SPA's
            # token answers to skip an expired one (AzureAD/microsoft-authentication-library-
            # for-js#6703, lib/msal-common/src/response/ResponseHandler.ts).
            body["refresh_token_expires_in"] = max(0, end - rt.now())
    if scopes.wants_id_token:
        id_claims = id_token_claims(
            signin,
            scopes,
            issue,
            issuer=issuer,
            nonce=nonce,
            token_uti=token_uti,
            max_age_sent=max_age_sent,
            context=context,
        )
        body["id_token"] = sign_id_token(rt, id_claims, signin, kid)
    if want_client_info:
        body["client_info"] = client_info(signin.user, signin.tenant)
    return shape_token_body(rt, body, signin)


def sign_id_token(rt: Runtime, claims: dict[str, Any], signin: SignIn, kid: str | None) -> str:
    """An ID token, signed as the fault scenario in force for this client says, if any."""
    fault = rt.faults.find(Hook.ID_TOKEN, client_id=signin.app.client_id, user=signin.user)
    if fault is not None and isinstance(fault.scenario, IdTokenFault):
        return fault.scenario.sign(claims, rt.keys.active(kid))
    return rt.keys.sign(claims, kid=kid)


def shape_token_body(rt: Runtime, body: dict[str, Any], signin: SignIn) -> dict[str, Any]:
    """The token response as a fault scenario in force reshapes it (a missing field)."""
    fault = rt.faults.find(Hook.TOKEN_BODY, client_id=signin.app.client_id, user=signin.user)
    if fault is not None and isinstance(fault.scenario, RedirectFault | TokenBodyFault):
        return fault.scenario.body(body)
    return body


def app_only_token(
    rt: Runtime,
    tenant: Tenant,
    app: AppRegistration,
    scopes: Scopes,
    *,
    base_url: str,
    client_acr: str,
    extra: dict[str, Any] | None = None,
) -> tuple[str, Issue]:
    """An app-only access token of `app`'s service principal for the resource `scopes` names
    (`/.default`): its application permissions for that resource as `roles`. The client
    credentials grant and managed identities issue it; `extra` claims are a managed
    identity's own (`xms_mirid`); `client_acr` says how the client authenticated
    (`appidacr`/`azpacr`: "1" secret, "2" certificate or assertion)."""
    resource_key = GRAPH_RESOURCE if scopes.resource.is_graph else scopes.resource.identifier
    api = scopes.resource.app
    granted: tuple[str, ...] = ()
    for key, roles in app.application_permissions.items():
        if key == resource_key or (api is not None and key in (api.app_id_uri, api.client_id)):
            granted = tuple(roles)
    issue = Issue(rt.now(), rt.token_lifetime())
    claims = app_access_token_claims(
        tenant,
        app,
        scopes,
        granted,
        issue,
        v2_iss=v2_issuer(base_url, tenant.tenant_id),
        token_uti=uti(),
        client_acr=client_acr,
    )
    claims.update(extra or {})
    kid = rt.active_kid()
    if scopes.resource.is_graph:
        return rt.keys.sign_graph(claims, secrets.token_urlsafe(32), kid=kid), issue
    return rt.keys.sign(claims, kid=kid), issue
