"""The token endpoint's grants, one function each, dispatched through `GRANTS`.

Learn: "Microsoft identity platform and OAuth 2.0 authorization code flow" (redeem a code,
refresh), "... client credentials flow". Client authentication: `client_secret_post` and
`client_secret_basic`. Errors are `EntraError`s with the AADSTS codes Entra uses.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_entra.core.aadsts import (
    AADSTS70000,
    AADSTS70003,
    AADSTS70011,
    AADSTS500112,
    AADSTS700016,
    AADSTS700082,
    AADSTS700084,
    AADSTS1002012,
    AADSTS7000218,
    AADSTS9002313,
    AADSTS9002313_GRANT,
    AADSTS9002325,
    AADSTS9002326,
    AADSTS9002327,
    EntraError,
    missing,
    required,
    single_values,
)
from mock_entra.core.config import GRAPH_RESOURCE, MockConfig, Tenant, audience
from mock_entra.core.config.tenants import tenant_of
from mock_entra.core.faults import TokenContext, TokenFault
from mock_entra.core.grants import obo, ropc
from mock_entra.core.grants.client_auth import (
    Client,
    Endpoint,
    basic_credentials,
    entra_time,
    verify_credential,
)
from mock_entra.core.runtime import CODE, REFRESH, Runtime
from mock_entra.core.signin import codes, device_code, pkce
from mock_entra.core.signin.consent import require_consent
from mock_entra.core.store.records import Account, CodeRecord, RefreshRecord, load
from mock_entra.core.tokens.claims import (
    Issue,
    SignIn,
    app_access_token_claims,
    parse_claims_request,
    uti,
    v2_issuer,
)
from mock_entra.core.tokens.scopes import Scopes, parse_scopes

MAX_PARAM_LENGTH = 16 * 1024


@dataclass(frozen=True)
class TokenRequest:
    """A token request as the web layer hands it over: plain values, no Flask."""

    tenant: Tenant | None  # None for common / organizations
    tenant_segment: str
    form: Mapping[str, list[str]]  # every value of every parameter, to catch duplicates
    authorization: str | None  # the Authorization header, for client_secret_basic
    base_url: str  # scheme://host[:port] the client called: the issuer's host
    origin: str | None = None  # the Origin header: a browser's cross-origin request

    def user_tokens(
        self,
        rt: Runtime,
        p: Mapping[str, str],
        signin: SignIn,
        scopes: Scopes,
        *,
        nonce: str | None = None,
        max_age_sent: bool = False,
        platform: str = "web",
        refresh_expires_at: int | None = None,
    ) -> dict[str, Any]:
        """`Runtime.issue_user_tokens` with what every user grant takes from the request: the
        issuer's host, `client_info=1` and the `claims` parameter (client capabilities)."""
        return rt.issue_user_tokens(
            signin,
            scopes,
            base_url=self.base_url,
            nonce=nonce,
            want_client_info=p.get("client_info") == "1",
            max_age_sent=max_age_sent,
            platform=platform,
            refresh_expires_at=refresh_expires_at,
            claims_request=parse_claims_request(p.get("claims")),
        )


def authenticate_client(rt: Runtime, req: TokenRequest, params: dict[str, str]) -> Client:
    basic = basic_credentials(req.authorization)
    client_id = params.get("client_id") or (basic[0] if basic else None)
    if not client_id:
        raise missing("client_id")
    if basic and params.get("client_id") and basic[0] != params["client_id"]:
        raise EntraError(AADSTS9002313)
    found = rt.config.find_app(client_id)
    tenant_name = req.tenant.display_name if req.tenant else req.tenant_segment
    if found is None or (req.tenant is not None and found[0] is not req.tenant):
        raise EntraError(AADSTS700016, client_id=client_id, tenant=tenant_name)
    tenant, app = found
    audience.check(app, req.tenant, req.tenant_segment)  # /common etc. vs sign_in_audience
    endpoint = Endpoint(req.base_url, req.tenant_segment, rt.config)
    return verify_credential(tenant, app, params, basic, endpoint, rt.now())


def _user_tenant(config: MockConfig, client: Client, account: Account) -> Tenant | None:
    """Where the account lives: the app's tenant, or the personal accounts' tenant (a
    personal account signed in through /consumers: its tokens carry that `tid`)."""
    if account.tenant_id == client.tenant.tenant_id:
        return client.tenant
    personal = config.personal_tenant
    if personal is not None and account.tenant_id == personal.tenant_id:
        return personal
    return None


def _signin(config: MockConfig, client: Client, account: Account, sid: str) -> SignIn:
    tenant = _user_tenant(config, client, account)
    user = tenant.user_by_id(account.oid) if tenant is not None else None
    if tenant is None or user is None:  # the user was removed from the config since
        raise EntraError(AADSTS70000, detail="The user could not be found.")
    return SignIn(tenant, user, client.app, sid, account.auth_time, account.kmsi)


def check_platform(req: TokenRequest, c: Client, platform: str) -> None:
    """How a grant for a redirect URI of this platform may be redeemed (Learn, "Single-page
    application: Code redemption"): a spa's only cross-origin (an `Origin`), nobody else's
    cross-origin; a web app's with client authentication."""
    if platform == "spa":
        if req.origin is None:
            raise EntraError(AADSTS9002327)
        return
    if req.origin is not None:
        raise EntraError(AADSTS9002326, origin=req.origin)
    if platform == "web":
        c.require_authenticated()


def authorization_code(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    code = required(p, "code")
    redirect_uri = required(p, "redirect_uri")
    record = codes.redeem(rt, code)
    if record.client_id != c.app.client_id or _user_tenant(rt.config, c, record.account) is None:
        raise EntraError(AADSTS70000, detail="The code was issued to another client.")
    check_platform(req, c, record.platform)
    if record.platform == "spa" and record.code_challenge is None:
        raise EntraError(AADSTS9002325)
    if record.redirect_uri != redirect_uri:
        raise EntraError(AADSTS500112, got=redirect_uri, expected=record.redirect_uri)
    pkce.verify(p.get("code_verifier"), record.code_challenge, record.method)
    if "scope" in p:  # an optional narrowing; it may not widen what was authorized
        asked = parse_scopes(p["scope"], rt.config, tenant_name=c.tenant.display_name, client=c.app)
        if not set(asked.permissions) <= set(record.scopes.permissions):
            raise EntraError(AADSTS70011, scope=p["scope"])
    return req.user_tokens(
        rt,
        p,
        _signin(rt.config, c, record.account, record.sid),
        record.scopes,
        nonce=record.nonce,
        max_age_sent=record.max_age_sent,
        platform=record.platform,
    )


def refresh_token(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    token = required(p, "refresh_token")
    found = rt.store.get_with_expiry(REFRESH, token)
    record = load(RefreshRecord, found[0] if found else None, rt.config)
    if found is None or record is None:
        raise EntraError(AADSTS9002313_GRANT)
    check_platform(req, c, record.platform)
    if record.expires_at is not None and record.expires_at <= rt.now():
        raise EntraError(AADSTS700084, issued=entra_time(record.issued_at))
    if found[1] <= rt.now():
        raise EntraError(AADSTS700082, issued=entra_time(record.issued_at), inactive="90.00:00:00")
    if record.client_id != c.app.client_id:
        raise EntraError(AADSTS70000, detail="The refresh token was issued to another client.")
    signin = _signin(rt.config, c, record.account, record.sid)
    raw = p.get("scope") or " ".join(["openid", "profile", "offline_access"])
    scopes = parse_scopes(raw, rt.config, tenant_name=c.tenant.display_name, client=c.app)
    require_consent(rt, signin, scopes)
    # Entra issues a new refresh token each time and does not revoke the old one.
    return req.user_tokens(
        rt,
        p,
        signin,
        scopes,
        platform=record.platform,
        refresh_expires_at=record.expires_at,
    )


def client_credentials(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    check_platform(req, c, "web")  # a confidential client's grant, never from a browser
    if not c.confidential:  # a public client has no identity of its own to get a token for
        raise EntraError(AADSTS7000218)
    raw = required(p, "scope")
    parts = raw.split()
    if len(parts) != 1 or not parts[0].endswith("/.default"):
        raise EntraError(AADSTS1002012, scope=raw)
    scopes = parse_scopes(raw, rt.config, tenant_name=c.tenant.display_name)
    resource_key = GRAPH_RESOURCE if scopes.resource.is_graph else scopes.resource.identifier
    api = scopes.resource.app
    granted: tuple[str, ...] = ()
    for key, roles in c.app.application_permissions.items():
        if key == resource_key or (api is not None and key in (api.app_id_uri, api.client_id)):
            granted = tuple(roles)
    issue = Issue(rt.now(), rt.token_lifetime())
    claims = app_access_token_claims(
        c.tenant,
        c.app,
        scopes,
        granted,
        issue,
        v2_iss=v2_issuer(req.base_url, c.tenant.tenant_id),
        token_uti=uti(),
    )
    kid = rt.active_kid()
    if scopes.resource.is_graph:
        token = rt.keys.sign_graph(claims, secrets.token_urlsafe(32), kid=kid)
    else:
        token = rt.keys.sign(claims, kid=kid)
    # No `scope` in a client-credentials response (Learn, client credentials flow).
    return {
        "token_type": "Bearer",
        "expires_in": issue.expires_in,
        "ext_expires_in": issue.expires_in,
        "access_token": token,
    }


def device_code_grant(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    """A poll of the device authorization grant (`device_code`)."""
    code = required(p, "device_code")
    device_code.require_client(c.app, c.authenticated)
    check_platform(req, c, "public")  # a device polls; never cross-origin
    record = device_code.poll(rt, c.app.client_id, code)
    assert record.account is not None and record.sid is not None  # approved
    return req.user_tokens(
        rt,
        p,
        _signin(rt.config, c, record.account, record.sid),
        record.scopes,
        platform="public",
    )


Grant = Callable[[Runtime, TokenRequest, dict[str, str], Client], dict]
GRANTS: dict[str, Grant] = {
    "authorization_code": authorization_code,
    "refresh_token": refresh_token,
    "client_credentials": client_credentials,
    device_code.GRANT_TYPE: device_code_grant,
    obo.JWT_BEARER: obo.on_behalf_of,
    "password": ropc.password,
}


def exchange(
    rt: Runtime,
    segment: str,
    form: Mapping[str, list[str]],
    *,
    authorization: str | None,
    base_url: str,
    origin: str | None = None,
) -> dict[str, Any]:
    """The token endpoint for `/{segment}/oauth2/v2.0/token`: the success body, or
    `EntraError` (unknown tenant, or the grant's own)."""
    req = TokenRequest(
        tenant=tenant_of(rt.config, segment),
        tenant_segment=segment,
        form=form,
        authorization=authorization,
        base_url=base_url,
        origin=origin,
    )
    return token(rt, req)


def token(rt: Runtime, req: TokenRequest) -> dict[str, Any]:
    """Run a token request; returns the success body or raises `EntraError`."""
    params = single_values(req.form, MAX_PARAM_LENGTH)
    grant_type = required(params, "grant_type")
    client = authenticate_client(rt, req, params)
    parse_claims_request(params.get("claims"))  # malformed JSON: AADSTS50117, for every grant
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise EntraError(AADSTS70003, grant_type=grant_type)
    if rt.faults.any("token"):  # a fault scenario in force: this request may be its target
        _token_fault(rt, grant_type, params, client)
    return grant(rt, req, params, client)


def _token_fault(rt: Runtime, grant_type: str, params: dict[str, str], client: Client) -> None:
    """Raise (or delay) as the token-endpoint scenario in force for this client or user says.
    The user is read from the code or refresh token without using it up."""
    record = None
    if grant_type == "authorization_code" and params.get("code"):
        found = rt.store.get_with_expiry(CODE, params["code"])
        record = load(CodeRecord, found[0] if found else None, rt.config)
    elif grant_type == "refresh_token" and params.get("refresh_token"):
        found = rt.store.get_with_expiry(REFRESH, params["refresh_token"])
        record = load(RefreshRecord, found[0] if found else None, rt.config)
    tenant = _user_tenant(rt.config, client, record.account) if record is not None else None
    user = tenant.user_by_id(record.account.oid) if tenant and record is not None else None
    fault = rt.faults.find(
        "token", client_id=client.app.client_id, user=user, grant_type=grant_type
    )
    if fault is not None and isinstance(fault.scenario, TokenFault):
        context = TokenContext(
            client.app.client_id, client.app.display_name, grant_type, rt.clock.now()
        )
        fault.scenario.intervene(context, fault.activation.seconds)
