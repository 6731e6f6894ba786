"""The authorize endpoint's protocol half: validate the request, then issue the code.

Learn: "Microsoft identity platform and OAuth 2.0 authorization code flow" and "OpenID
Connect on the Microsoft identity platform". Rule (RFC 6749 §4.1.2.1, and what Entra does):
errors found before the client and its redirect URI are trusted are shown on Entra's page;
every later error goes back to the redirect URI with `state`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from mock_entra.core.aadsts import (
    AADSTS50011,
    AADSTS50089,
    AADSTS90100,
    AADSTS700016,
    AADSTS700051,
    AADSTS700054,
    AADSTS900144,
    AADSTS900971,
    AADSTS9002313,
)
from mock_entra.core.config import AppRegistration, Tenant, audience, redirects
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import missing, single_values
from mock_entra.core.runtime import Runtime, opaque
from mock_entra.core.signin import pkce
from mock_entra.core.store.records import (
    AuthorizeRequest,
    PendingSignIn,
    ReplyTo,
)
from mock_entra.core.tokens.claims import parse_claims_request
from mock_entra.core.tokens.scopes import parse_scopes

RESPONSE_MODES = ("query", "form_post", "fragment")
PROMPTS = ("none", "login", "consent", "select_account", "create")
MAX_PARAM_LENGTH = 8 * 1024
MAX_CTX_LENGTH = 256


def validate(
    rt: Runtime, tenant: Tenant | None, segment: str, raw: Mapping[str, list[str]]
) -> tuple[AuthorizeRequest, Tenant, AppRegistration]:
    """Check an authorization request; raise `EntraError` (page or redirect). The scopes
    are parsed here, once, and travel in the request."""
    p = single_values(raw, MAX_PARAM_LENGTH)
    client_id = p.get("client_id")
    if not client_id:
        raise missing("client_id")
    found = rt.config.find_app(client_id)
    if found is None or (tenant is not None and found[0] is not tenant):
        name = tenant.display_name if tenant else segment
        raise EntraError(AADSTS700016, client_id=client_id, tenant=name)
    app_tenant, app = found
    redirect_uri = p.get("redirect_uri")
    if not redirect_uri:
        raise EntraError(AADSTS900971)
    # Entra's matching rules (the localhost port, trailing slash, case): `redirects`.
    registered = redirects.match(app, redirect_uri)
    if registered is None:
        raise EntraError(AADSTS50011, uri=redirect_uri, client_id=client_id)
    state = p.get("state")
    mode = p.get("response_mode", "query")
    if mode not in RESPONSE_MODES:
        raise EntraError(AADSTS9002313, redirect_uri=redirect_uri, state=state)
    reply = ReplyTo(redirect_uri, mode, state)
    try:
        audience.check(app, tenant, segment)  # /common etc. against sign_in_audience
    except EntraError as exc:
        raise reply.error(exc.entry, **exc.args_) from None
    response_type = p.get("response_type")
    if not response_type:
        raise reply.error(AADSTS900144, name="response_type")
    if response_type != "code":
        # The implicit grant is off for every app: an access token asked for is AADSTS700051,
        # an ID token AADSTS700054 (each names its own response_type).
        if "token" in response_type.split():
            raise reply.error(AADSTS700051)
        raise reply.error(AADSTS700054, response_type="id_token")
    try:
        scopes = parse_scopes(
            p.get("scope"), rt.config, tenant_name=app_tenant.display_name, client=app
        )
        parse_claims_request(p.get("claims"))  # malformed: AADSTS50117, back to the app
        challenge, method = pkce.check_challenge(
            p.get("code_challenge"), p.get("code_challenge_method")
        )
    except EntraError as exc:
        raise reply.error(exc.entry, **exc.args_) from None
    prompt = p.get("prompt")
    if prompt is not None and prompt not in PROMPTS:
        raise reply.error(AADSTS90100, name="prompt")
    max_age = p.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) < 12):
        raise reply.error(AADSTS90100, name="max_age")
    request = AuthorizeRequest(
        tenant_id=app_tenant.tenant_id,
        client_id=client_id,
        reply=reply,
        scopes=scopes,
        nonce=p.get("nonce"),
        code_challenge=challenge,
        method=method,
        prompt=prompt,
        login_hint=p.get("login_hint"),
        domain_hint=p.get("domain_hint"),
        max_age=int(max_age) if max_age is not None else None,
        platform=registered.platform,
        consumers=audience.consumers_only(tenant, segment),
    )
    return request, app_tenant, app


# -- the pending sign-in (the `ctx` of the sign-in pages) -------------------------------------


def browser_binding(flow_cookie: str) -> str:
    """What a pending sign-in keeps of the flow cookie of the browser that started it."""
    return hashlib.sha256(flow_cookie.encode()).hexdigest()


def begin(
    rt: Runtime, request: AuthorizeRequest, *, flow_cookie: str, sso_sid: str | None
) -> tuple[str, PendingSignIn]:
    """A new pending sign-in for this browser, under a new `ctx`."""
    ctx = opaque("", 24)
    pending = PendingSignIn(request=request, browser=browser_binding(flow_cookie), sso_sid=sso_sid)
    save(rt, ctx, pending)
    return ctx, pending


def save(rt: Runtime, ctx: str, pending: PendingSignIn) -> None:
    rt.records.pending.put(ctx, pending, ttl=rt.config.signin_page_lifetime)


def resume(rt: Runtime, ctx: str | None, flow_cookie: str | None) -> PendingSignIn:
    """The pending sign-in a sign-in form posted, if it belongs to this browser.

    A ctx that is unknown, or that another browser started (a cross-site post of someone
    else's half-finished sign-in), is refused as Entra refuses a flow token it cannot use:
    "AADSTS90100: flowToken parameter is empty or not valid." on its error page (Learn,
    "Troubleshoot certificate-based authentication"); one that expired, with AADSTS50089
    ("Flow token expired", Learn, "Microsoft Entra authentication and authorization error
    codes"). Nothing of the sign-in happens first, so no SSO session can be planted.
    """
    if not ctx or len(ctx) > MAX_CTX_LENGTH or not flow_cookie:
        raise EntraError(AADSTS90100, name="flowToken")
    found = rt.records.pending.get_with_expiry(ctx)
    if found is None or not hmac.compare_digest(found.record.browser, browser_binding(flow_cookie)):
        raise EntraError(AADSTS90100, name="flowToken")
    if found.expires_at <= rt.now():
        raise EntraError(AADSTS50089)
    return found.record


def drop(rt: Runtime, ctx: str) -> None:
    rt.records.pending.delete(ctx)
