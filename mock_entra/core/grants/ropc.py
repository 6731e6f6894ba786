"""The username/password grant (ROPC), for public clients that allow public client flows
(`is_fallback_public_client`) and for confidential clients.

Learn "Microsoft identity platform and OAuth 2.0 Resource Owner Password Credentials":
`grant_type=password`, `username`, `password`, `scope`; tenant-specific or `/organizations`
only (AADSTS9001023 on `/common` and `/consumers`). Nothing interactive can happen, so a
missing consent is AADSTS65001 (`consent_required`). A wrong password is AADSTS50126, an
unknown user AADSTS50034, a disabled one AADSTS50057; a client that neither authenticates nor
allows public client flows gets AADSTS7000218. Passwords are checked by smart lockout
(`lockout`): too many wrong ones and the account is locked, AADSTS50053.

ROPC is not for browsers: a request with an `Origin` is refused before anything is checked
(AADSTS9002326, the error Entra answers it with, and without CORS headers: `cors.token_headers`;
MicrosoftDocs/azure-docs#75699), so no web page can use its visitors' browsers to guess
passwords, nor lock their accounts.
"""

from __future__ import annotations

import uuid

from mock_entra.core.aadsts import (
    AADSTS50034,
    AADSTS50053,
    AADSTS50057,
    AADSTS50126,
    AADSTS7000218,
    AADSTS9001023,
    AADSTS9002326,
)
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import required
from mock_entra.core.grants.client_auth import Client
from mock_entra.core.grants.request import TokenRequest
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin.consent import require_consent
from mock_entra.core.signin.lockout import Verdict, check_password
from mock_entra.core.tokens.claims import SignIn
from mock_entra.core.tokens.scopes import parse_scopes


def password(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    if req.origin is not None:
        raise EntraError(AADSTS9002326, origin=req.origin)
    if req.tenant_segment.lower() in ("common", "consumers"):
        raise EntraError(AADSTS9001023)
    if not c.confidential and not c.app.is_fallback_public_client:
        raise EntraError(AADSTS7000218)
    username = required(p, "username")
    secret = required(p, "password")
    raw_scope = required(p, "scope")
    user = c.tenant.user_by_username(username)
    if user is None:
        raise EntraError(AADSTS50034, tenant_id=c.tenant.tenant_id)
    verdict = check_password(rt, c.tenant.tenant_id, user, secret)
    if verdict is Verdict.LOCKED:
        raise EntraError(AADSTS50053)
    if verdict is Verdict.WRONG:
        raise EntraError(AADSTS50126)
    if not user.account_enabled:
        raise EntraError(AADSTS50057)
    scopes = parse_scopes(raw_scope, rt.config, tenant_name=c.tenant.display_name, client=c.app)
    signin = SignIn(c.tenant, user, c.app, str(uuid.uuid4()), rt.now(), flow="password")
    require_consent(rt, signin, scopes)
    return req.user_tokens(
        rt,
        p,
        signin,
        scopes,
        # A public client flow's refresh tokens are redeemed without a credential too.
        platform="web" if c.confidential else "public",
        client_acr=c.acr,
    )
