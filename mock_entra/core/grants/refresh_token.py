"""The refresh token grant: a new access token (and a new refresh token) for the same sign-in.

Learn: "Microsoft identity platform and OAuth 2.0 authorization code flow" ("Refresh the
access token") and "Refresh tokens in the Microsoft identity platform"."""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS70000, AADSTS700082, AADSTS700084, AADSTS9002313_GRANT
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import required
from mock_entra.core.grants.client_auth import Client, entra_time
from mock_entra.core.grants.request import TokenRequest, check_platform, signin_of
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin.consent import require_consent
from mock_entra.core.tokens.scopes import parse_scopes


def refresh_token(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    token = required(p, "refresh_token")
    # Read by the fault check already when a token fault is in force.
    found = req.refresh_read or rt.records.refresh_tokens.get_with_expiry(token)
    if found is None:
        raise EntraError(AADSTS9002313_GRANT)
    record = found.record
    check_platform(req, c, record.platform)
    if record.expires_at is not None and record.expires_at <= rt.now():
        raise EntraError(AADSTS700084, issued=entra_time(record.issued_at))
    if found.expires_at <= rt.now():
        raise EntraError(AADSTS700082, issued=entra_time(record.issued_at), inactive="90.00:00:00")
    if record.client_id != c.app.client_id:
        raise EntraError(AADSTS70000, detail="The refresh token was issued to another client.")
    signin = signin_of(rt.config, c, record.account, record.sid)
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
        client_acr=c.acr,
    )
