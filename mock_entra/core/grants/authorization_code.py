"""The authorization code grant: redeem a code issued at the end of a browser sign-in.

Learn: "Microsoft identity platform and OAuth 2.0 authorization code flow" (redeem a code);
"Single-page application: Code redemption" (a spa's code needs PKCE)."""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS70000, AADSTS70011, AADSTS500112, AADSTS9002325
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import required
from mock_entra.core.grants.client_auth import Client
from mock_entra.core.grants.request import TokenRequest, check_platform, signin_of, user_tenant
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin import codes, pkce
from mock_entra.core.tokens.scopes import parse_scopes


def authorization_code(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    code = required(p, "code")
    redirect_uri = required(p, "redirect_uri")
    record = codes.redeem(rt, code, read=req.code_read)
    if record.client_id != c.app.client_id or user_tenant(rt.config, c, record.account) is None:
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
        signin_of(rt.config, c, record.account, record.sid),
        record.scopes,
        nonce=record.nonce,
        max_age_sent=record.max_age_sent,
        platform=record.platform,
        client_acr=c.acr,
    )
