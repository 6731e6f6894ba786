"""The browser half of the authorize endpoint: Entra's sign-in pages and SSO session.

Pages copy the element ids of Entra's own pages so one Playwright page object drives
the mock and login.microsoftonline.com: username `#i0116`, password `#i0118`, the primary
button `#idSIButton9`, back/No/Cancel `#idBtn_Back`, "Stay signed in?" `#KmsiCheckboxField`.
The protocol lives in the core (validation and the pending sign-in in `core.signin.authorize`,
codes in `core.signin.codes`, the records in `core.store.records`); this module only decides which
page comes next, and keeps the cookies: the SSO session (`ESTSAUTH`) and the flow cookie
that binds a pending sign-in to its browser, checked with `Origin` on every sign-in post.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request

from mock_entra.core.aadsts import (
    AADSTS16000,
    AADSTS50058,
    AADSTS65001_AUTHORIZE,
    AADSTS65004,
    AADSTS90100,
    AADSTS9002313,
)
from mock_entra.core.config import AppRegistration, MockConfig, Tenant
from mock_entra.core.errors import EntraError
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin import authorize as core
from mock_entra.core.signin import codes, consent, device_code
from mock_entra.core.signin.lockout import Verdict, check_password
from mock_entra.core.store.records import (
    Account,
    AuthorizeRequest,
    PendingSignIn,
    ReplyTo,
    SsoSession,
)
from mock_entra.web.context import base_url, runtime
from mock_entra.web.page import html_page
from mock_entra.web.respond import authorize_redirect
from mock_entra.web.tenant import bp, current_tenant, tenant_segment

SSO_COOKIE = "ESTSAUTH"
# The flow cookie binds a pending sign-in (its `ctx`) to the browser that started it, as
# Entra's `esctx` does. SameSite=Lax, not Entra's None: the only requests that must carry it
# are the sign-in pages' own posts to the mock (same-site) and, so that a second tab reuses
# it, top-level navigations to authorize (Lax allows those; Strict would not). The pages
# cannot be framed, and form_post back to the app carries the app's cookies, not this one;
# a cross-site post then arrives without it, one more wall behind the ctx-to-cookie check.
FLOW_COOKIE = "esctx"
_FLOW_VALUE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
SESSION_TTL = 24 * 3600
KMSI_TTL = 90 * 24 * 3600
USERNAME_EMPTY = "Enter a valid email address, phone number, or Skype name."
USERNAME_UNKNOWN = (
    "This username may be incorrect. Make sure you typed it correctly. "
    "Otherwise, contact your admin."
)
# /consumers signs in personal Microsoft accounts only (the personal accounts' tenant);
# every other authority work accounts only.
WORK_ACCOUNT_AT_CONSUMERS = (
    "You can't sign in here with a work or school account. Use your personal account instead."
)
PERSONAL_ACCOUNT_AT_WORK = (
    "You can't sign in here with a personal account. Use your work or school account instead."
)
PASSWORD_EMPTY = "Please enter your password."
PASSWORD_WRONG = (
    "Your account or password is incorrect. If you don't remember your password, reset it now."
)
# Smart lockout's message on the password page (Learn, "Protect user accounts from attacks
# with Microsoft Entra smart lockout"); the token endpoint's twin is AADSTS50053.
ACCOUNT_LOCKED = (
    "Your account is temporarily locked to prevent unauthorized use. Try again later, and if "
    "you still have trouble, contact your admin."
)

DEVICE_CODE_WRONG = "That code didn't work. Check the code and try again."

Cookies = list[tuple[str, dict[str, Any]]]  # (name, set_cookie arguments) to send


# -- cookies ----------------------------------------------------------------------------------


def sso_session(rt: Runtime) -> tuple[str | None, SsoSession]:
    sid = request.cookies.get(SSO_COOKIE)
    if not sid or len(sid) > 64:
        return None, SsoSession()
    found = rt.records.sessions.get(sid)
    return (sid, found) if found is not None else (None, SsoSession())


def _accounts(session: SsoSession, tenant: Tenant) -> list[Account]:
    return [
        a
        for a in session.accounts
        if a.tenant_id == tenant.tenant_id and tenant.user_by_id(a.oid) is not None
    ]


def _remember(rt: Runtime, account: Account, cookies: Cookies) -> str:
    """After a credential sign-in: the browser's SSO session, with the account, under a new
    id. Never the id the browser brought: cookies ignore ports, so a page on any
    http://localhost port can plant an `ESTSAUTH` of its own, and a sign-in that joined it
    would hand the planter the user's session (session fixation; OWASP "Session Management
    Cheat Sheet": renew the session id after any authentication). The accounts already
    signed in are copied to the new id (the account picker keeps them). The old id is left as
    it was, never given the new account: Entra's session cookies are self-contained, and a copy
    of an earlier one elsewhere keeps working until it expires or the user's sessions are
    revoked (Learn, "Revoke user access in Microsoft Entra ID")."""
    _, session = sso_session(rt)
    sid = str(uuid.uuid4())
    ttl = KMSI_TTL if account.kmsi else SESSION_TTL
    rt.records.sessions.put(sid, session.with_account(account), ttl=ttl)
    cookies.append(
        (
            SSO_COOKIE,
            {
                "value": sid,
                "max_age": ttl if account.kmsi else None,
                "secure": True,
                "httponly": True,
                "samesite": "None",
                "path": "/",
            },
        )
    )
    return sid


def _flow_cookie() -> tuple[str, Cookies]:
    """This browser's flow cookie: the one it has, or a new one to set."""
    value = request.cookies.get(FLOW_COOKIE, "")
    if _FLOW_VALUE.match(value):
        return value, []
    value = secrets.token_urlsafe(32)
    settings = {"value": value, "secure": True, "httponly": True, "samesite": "Lax", "path": "/"}
    return value, [(FLOW_COOKIE, settings)]


def _with(response: Response, cookies: Cookies) -> Response:
    for name, settings in cookies:
        response.set_cookie(name, **settings)
    return response


# -- pages ------------------------------------------------------------------------------------


def _page(view: str, ctx: str, pending: PendingSignIn, **extra: Any) -> Response:
    rt = runtime()
    found = rt.config.find_app(pending.request.client_id)
    html = render_template(
        "signin.html",
        view=view,
        ctx=ctx,
        action=f"/{tenant_segment()}/login",
        app_name=found[1].display_name if found else "",
        username=extra.pop("username", pending.username),
        **extra,
    )
    return html_page(html, form_targets=[pending.request.reply.redirect_uri])


def _consent_page(ctx: str, pending: PendingSignIn) -> Response:
    """The permissions asked for; with incremental consent only those not granted yet
    (`prompt=consent` asks again for all of them)."""
    scopes = pending.request.scopes
    permissions: tuple[str, ...] = scopes.permissions
    rt = runtime()
    found = rt.config.find_app(pending.request.client_id)
    if pending.chosen is not None and found is not None and pending.request.prompt != "consent":
        tenant, app = found
        missing = set(consent.missing_consent(rt, tenant, pending.chosen.oid, app, scopes))
        permissions = tuple(p for p in permissions if f"{scopes.resource_key}/{p}" in missing)
    # Each permission in words (Graph's published user consent text), its name kept for tests.
    listed = [*(permissions or ("openid",)), *(s for s in scopes.oidc if s == "offline_access")]
    lines = [(name, consent.consent_text(scopes, name)) for name in listed]
    return _page("consent", ctx, pending, permissions=lines)


def _picker(ctx: str, pending: PendingSignIn, tenant: Tenant, accounts: list[Account]) -> Response:
    tiles = [tenant.user_by_id(a.oid) for a in accounts]
    return _page("picker", ctx, pending, tiles=[t for t in tiles if t is not None])


# -- flow -------------------------------------------------------------------------------------


def _needs_consent(
    rt: Runtime, tenant: Tenant, app: AppRegistration, oid: str, areq: AuthorizeRequest
) -> bool:
    if areq.prompt == "consent":
        return True
    if not app.require_consent:
        return False
    return bool(consent.missing_consent(rt, tenant, oid, app, areq.scopes))


def _finish(
    rt: Runtime,
    ctx: str | None,
    areq: AuthorizeRequest,
    tenant: Tenant,
    account: Account,
    sid: str,
    cookies: Cookies,
) -> Response:
    """Issue the code and send the browser back to the app (one-time: the ctx is dropped);
    for a device code, approve it: the device's next poll gets the tokens."""
    if areq.device_code is not None:
        device_code.approve(rt, areq.device_code, account, sid)
        if ctx:
            core.drop(rt, ctx)
        return _with(_device_end("device_done", areq.client_id), cookies)
    personal = rt.config.personal_tenant  # a personal account's code carries its `utid`
    if personal is not None and account.tenant_id == personal.tenant_id:
        tenant = personal
    answer = codes.issue(rt, areq, tenant, account, sid=sid)
    if ctx:
        core.drop(rt, ctx)
    return _with(authorize_redirect(answer), cookies)


def _continue_as(
    rt: Runtime,
    ctx: str,
    pending: PendingSignIn,
    tenant: Tenant,
    app: AppRegistration,
    account: Account,
    sid: str,
    cookies: Cookies,
) -> Response:
    """The user is known: consent if needed, then the code."""
    if _needs_consent(rt, tenant, app, account.oid, pending.request):
        pending = pending.evolve(chosen=account, sid=sid)
        core.save(rt, ctx, pending)
        return _with(_consent_page(ctx, pending), cookies)
    return _finish(rt, ctx, pending.request, tenant, account, sid, cookies)


@bp.route("/oauth2/v2.0/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    rt = runtime()
    raw = (request.form if request.method == "POST" else request.args).to_dict(flat=False)
    areq, tenant, app = core.validate(rt, current_tenant(), tenant_segment(), raw)
    sid, session = sso_session(rt)
    accounts = _accounts(session, tenant)
    if areq.max_age is not None:
        accounts = [a for a in accounts if rt.now() - a.auth_time <= areq.max_age]
    hint = (areq.login_hint or "").lower()
    hinted = [a for a in accounts if hint and tenant.user_by_id(a.oid).username.lower() == hint]

    if areq.prompt == "none":
        chosen = hinted[0] if hinted else (accounts[0] if len(accounts) == 1 else None)
        # A login_hint names the session to use (Learn, "Silent login with ssoSilent()"): a
        # hinted user who is not signed in here has none, whoever else is.
        if not accounts or sid is None or (hint and not hinted):
            raise areq.error(AADSTS50058)
        if chosen is None:
            raise areq.error(AADSTS16000)
        if _needs_consent(rt, tenant, app, chosen.oid, areq):
            raise areq.error(
                AADSTS65001_AUTHORIZE, client_id=app.client_id, app_name=app.display_name
            )
        return _finish(rt, None, areq, tenant, chosen, sid, [])

    flow, cookies = _flow_cookie()
    ctx, pending = core.begin(rt, areq, flow_cookie=flow, sso_sid=sid)
    return _first_page(rt, ctx, pending, tenant, app, sid, accounts, hinted, cookies)


def _first_page(
    rt: Runtime,
    ctx: str,
    pending: PendingSignIn,
    tenant: Tenant,
    app: AppRegistration,
    sid: str | None,
    accounts: list[Account],
    hinted: list[Account],
    cookies: Cookies,
) -> Response:
    """The first sign-in page: username, the account picker, or straight on (SSO)."""
    areq = pending.request
    hint_elsewhere = bool(areq.login_hint) and not hinted  # another user than those here
    if areq.prompt in ("login", "create") or not accounts or sid is None or hint_elsewhere:
        return _with(_page("username", ctx, pending, username=areq.login_hint or ""), cookies)
    if areq.prompt == "select_account" or (len(accounts) > 1 and not hinted):
        return _with(_picker(ctx, pending, tenant, accounts), cookies)
    account = hinted[0] if hinted else accounts[0]
    return _continue_as(rt, ctx, pending, tenant, app, account, sid, cookies)


def _check_origin() -> None:
    """The sign-in forms post to the mock from the mock's own pages: a post from anywhere
    else (the `Origin` a browser sends) is a cross-site request forgery."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != base_url():
        raise EntraError(AADSTS90100, name="flowToken")


def _home_tenant(config: MockConfig, tenant: Tenant, consumers: bool) -> Tenant | None:
    """Whose users may sign in here: the personal accounts' tenant at /consumers, else the
    app's tenant."""
    return config.personal_tenant if consumers else tenant


def _account_refusal(
    config: MockConfig, tenant: Tenant, consumers: bool, username: str
) -> str | None:
    """The username page's error for `username`, or None when the user may go on: a work
    account at /consumers and a personal account elsewhere are refused by name, as Entra's
    pages refuse them."""
    home = _home_tenant(config, tenant, consumers)
    if home is not None and home.user_by_username(username) is not None:
        return None
    other = tenant if consumers else config.personal_tenant
    if other is not None and other.user_by_username(username) is not None:
        return WORK_ACCOUNT_AT_CONSUMERS if consumers else PERSONAL_ACCOUNT_AT_WORK
    return USERNAME_UNKNOWN


@bp.route("/login", methods=["POST"])
def login() -> Response:
    """Every sign-in form posts here, as Entra's do (`$Config.urlPost`)."""
    rt = runtime()
    _check_origin()
    ctx = request.form.get("ctx", "")
    pending = core.resume(rt, ctx, request.cookies.get(FLOW_COOKIE))
    found = rt.config.find_app(pending.request.client_id)
    tenant = rt.config.tenant(pending.request.tenant_id)
    if found is None or tenant is None:
        raise EntraError(AADSTS9002313)
    app = found[1]
    step = request.form.get("step", "")

    if step == "username":
        username = request.form.get("loginfmt", "").strip()[:113]
        if not username:
            return _page("username", ctx, pending, username=username, username_error=USERNAME_EMPTY)
        refusal = _account_refusal(rt.config, tenant, pending.request.consumers, username)
        if refusal is not None:
            return _page("username", ctx, pending, username=username, username_error=refusal)
        pending = pending.evolve(username=username)
        core.save(rt, ctx, pending)
        return _page("password", ctx, pending)

    if step == "password":
        if "back" in request.form:
            return _page("username", ctx, pending)
        home = _home_tenant(rt.config, tenant, pending.request.consumers)
        user = home.user_by_username(pending.username) if home is not None else None
        password = request.form.get("passwd", "")
        if home is None or user is None:
            return _page("username", ctx, pending, username_error=USERNAME_UNKNOWN)
        if not password:
            return _page("password", ctx, pending, password_error=PASSWORD_EMPTY)
        verdict = check_password(rt, home.tenant_id, user, password)
        if verdict is Verdict.LOCKED:
            return _page("password", ctx, pending, password_error=ACCOUNT_LOCKED)
        if verdict is Verdict.WRONG:
            return _page("password", ctx, pending, password_error=PASSWORD_WRONG)
        pending = pending.evolve(verified=Account(user.object_id, home.tenant_id, rt.now()))
        core.save(rt, ctx, pending)
        return _page("kmsi", ctx, pending)

    if step == "kmsi":
        if pending.verified is None:
            raise EntraError(AADSTS9002313)
        account = replace(pending.verified, kmsi=request.form.get("choice", "").lower() == "yes")
        cookies: Cookies = []
        sid = _remember(rt, account, cookies)
        return _continue_as(rt, ctx, pending, tenant, app, account, sid, cookies)

    if step == "device_confirm" and pending.request.device_code is not None:
        if request.form.get("choice") != "continue":
            core.drop(rt, ctx)
            device_code.decline(rt, pending.request.device_code)
            return _device_end("device_declined", app.client_id)
        # Walk the same pages as a browser sign-in (SSO included): username or picker.
        sid, session = sso_session(rt)
        accounts = _accounts(session, tenant)
        return _first_page(rt, ctx, pending, tenant, app, sid, accounts, [], [])

    if step == "picker":
        choice = request.form.get("account", "")
        sid, session = sso_session(rt)
        account = next((a for a in _accounts(session, tenant) if a.oid == choice), None)
        if choice == "other" or account is None or sid is None:
            return _page("username", ctx, pending)
        return _continue_as(rt, ctx, pending, tenant, app, account, sid, [])

    if step == "consent":
        if pending.chosen is None or pending.sid is None:
            raise EntraError(AADSTS9002313)
        if request.form.get("choice") != "accept":
            core.drop(rt, ctx)
            if pending.request.device_code is not None:
                device_code.decline(rt, pending.request.device_code)
                return _device_end("device_declined", app.client_id)
            raise pending.request.error(AADSTS65004, error_subcode="cancel")
        rt.add_consent(
            tenant, pending.chosen.oid, app.client_id, pending.request.scopes.consent_key()
        )
        return _finish(rt, ctx, pending.request, tenant, pending.chosen, pending.sid, [])

    raise EntraError(AADSTS9002313)


# -- device code: the verification page -------------------------------------------------------

device_bp = Blueprint("devicelogin", __name__)


@device_bp.get("/devicelogin")
def devicelogin() -> Response:
    """`verification_uri` (Entra's https://microsoft.com/devicelogin leads here too)."""
    return redirect("/common/oauth2/deviceauth", code=302)


def _device_end(view: str, client_id: str) -> Response:
    found = runtime().config.find_app(client_id)
    name = found[1].display_name if found else ""
    html = render_template("signin.html", view=view, app_name=name)
    return html_page(html)


@bp.route("/oauth2/deviceauth", methods=["GET", "POST"])
def deviceauth() -> Response:
    """The code box (`#otc`, Next `#idSIButton9`); a known code asks "Are you trying to sign
    in to <app>?" and then walks the ordinary sign-in pages, which approve the device code
    at their end (`_finish`)."""
    rt = runtime()
    action = f"/{tenant_segment()}/oauth2/deviceauth"
    if request.method == "GET":
        html = render_template("signin.html", view="device_code", action=action, otc="")
        return html_page(html)
    _check_origin()
    typed = request.form.get("otc", "")[:64]
    found = device_code.pending_by_user_code(rt, typed)
    if found is None:
        html = render_template(
            "signin.html", view="device_code", action=action, otc=typed, otc_error=DEVICE_CODE_WRONG
        )
        return html_page(html)
    code, record = found
    areq = AuthorizeRequest(
        tenant_id=record.tenant_id,
        client_id=record.client_id,
        reply=ReplyTo("", "query"),  # nowhere: the device polls for its tokens
        scopes=record.scopes,
        platform="public",
        device_code=code,
        consumers=record.consumers,  # /consumers: work accounts are refused on the page
    )
    flow, cookies = _flow_cookie()
    sid, _ = sso_session(rt)
    ctx, pending = core.begin(rt, areq, flow_cookie=flow, sso_sid=sid)
    return _with(_page("device_confirm", ctx, pending), cookies)
