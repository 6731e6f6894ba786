"""Authorization codes: issued at the end of a sign-in, redeemed once at the token endpoint.

Learn: "Microsoft identity platform and OAuth 2.0 authorization code flow". A code is bound
to the client, the redirect URI, the PKCE challenge and the sign-in (`CodeRecord`); single
use is the store's `consume`.
"""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS54005, AADSTS70008, AADSTS9002313_GRANT
from mock_entra.core.config import Tenant
from mock_entra.core.errors import EntraError
from mock_entra.core.faults import Hook, RedirectFault
from mock_entra.core.runtime import Runtime, opaque
from mock_entra.core.store.records import (
    Account,
    AuthorizeRequest,
    AuthorizeResponse,
    CodeRecord,
)
from mock_entra.core.tokens.claims import client_info


def issue(
    rt: Runtime, request: AuthorizeRequest, tenant: Tenant, account: Account, *, sid: str
) -> AuthorizeResponse:
    """A one-time code for `account`, and the redirect that carries it to the client."""
    user = tenant.user_by_id(account.oid)
    assert user is not None
    code = opaque("1.AXoA", 512)  # real codes are ~1 KB
    record = CodeRecord(
        client_id=request.client_id,
        redirect_uri=request.reply.redirect_uri,
        scopes=request.scopes,
        account=account,
        sid=sid,
        nonce=request.nonce,
        code_challenge=request.code_challenge,
        method=request.method,
        max_age_sent=bool(request.max_age),
        platform=request.platform,
    )
    rt.records.codes.put(code, record, ttl=rt.config.code_lifetime)
    # Parameter order as in real redirects: code, client_info, state, session_state.
    params = [("code", code), ("client_info", client_info(user, tenant))]
    if request.reply.state is not None:
        params.append(("state", request.reply.state))
    params.append(("session_state", sid))
    fault = rt.faults.find(Hook.REDIRECT, client_id=request.client_id, user=user)
    if fault is not None and isinstance(fault.scenario, RedirectFault):
        params = fault.scenario.redirect(params)
    return AuthorizeResponse(request.reply.redirect_uri, request.reply.response_mode, params)


def redeem(rt: Runtime, code: str, *, read: CodeRecord | None = None) -> CodeRecord:
    """Take the code (once); AADSTS54005 when it was already redeemed, AADSTS70008 when it
    expired, AADSTS9002313 (`bad_token`) when it is unknown. `read`: the record as read
    before (by a fault check), taken without decoding it again."""
    taken = rt.records.codes.take(code, read=read)
    if taken is None:
        if rt.records.codes.was_taken(code):
            raise EntraError(AADSTS54005)
        raise EntraError(AADSTS9002313_GRANT)
    if taken.record is None:
        raise EntraError(AADSTS9002313_GRANT)
    if taken.expires_at <= rt.now():
        raise EntraError(AADSTS70008)
    return taken.record
