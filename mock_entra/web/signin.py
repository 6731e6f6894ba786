"""The browser half of the authorize endpoint: Entra's sign-in pages and SSO session.

Pages copy Entra's DOM contract (entra-fidelity §6.1) so one Playwright page object drives
the mock and login.microsoftonline.com: username `#i0116`, password `#i0118`, the primary
button `#idSIButton9`, back/No/Cancel `#idBtn_Back`, "Stay signed in?" `#KmsiCheckboxField`.
The protocol (validation, codes) lives in `mock_entra.core.authorize`; this module only
decides which page comes next.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Response, make_response, render_template, request

from mock_entra.core import authorize as core
from mock_entra.core.aadsts import (
    AADSTS16000,
    AADSTS50058,
    AADSTS65001_AUTHORIZE,
    AADSTS65004,
    AADSTS9002313,
    EntraError,
)
from mock_entra.core.config import AppRegistration, Tenant
from mock_entra.core.runtime import CONTEXT, SESSION, Runtime
from mock_entra.core.scopes import Scopes, parse_scopes
from mock_entra.web.context import runtime
from mock_entra.web.respond import authorize_redirect
from mock_entra.web.tenant import bp, current_tenant, tenant_segment

SSO_COOKIE = "ESTSAUTH"
SESSION_TTL = 24 * 3600
KMSI_TTL = 90 * 24 * 3600
USERNAME_EMPTY = "Enter a valid email address, phone number, or Skype name."
USERNAME_UNKNOWN = (
    "This username may be incorrect. Make sure you typed it correctly. "
    "Otherwise, contact your admin."
)
PASSWORD_EMPTY = "Please enter your password."
PASSWORD_WRONG = (
    "Your account or password is incorrect. If you don't remember your password, reset it now."
)


# -- SSO session ------------------------------------------------------------------------------


def _session(rt: Runtime) -> tuple[str | None, dict[str, Any] | None]:
    sid = request.cookies.get(SSO_COOKIE)
    if not sid or len(sid) > 64:
        return None, None
    return sid, rt.store.get(SESSION, sid)


def _accounts(rt: Runtime, tenant: Tenant) -> list[dict[str, Any]]:
    _, session = _session(rt)
    if not session:
        return []
    return [
        a
        for a in session["accounts"]
        if a["tenant_id"] == tenant.tenant_id and tenant.user_by_id(a["oid"]) is not None
    ]


def _remember(
    rt: Runtime, response: Response, oid: str, tenant: Tenant, auth_time: int, kmsi: bool
) -> str:
    sid, session = _session(rt)
    if session is None:
        sid, session = str(uuid.uuid4()), {"accounts": []}
    accounts = [a for a in session["accounts"] if a["oid"] != oid]
    accounts.insert(
        0, {"oid": oid, "tenant_id": tenant.tenant_id, "auth_time": auth_time, "kmsi": kmsi}
    )
    ttl = KMSI_TTL if kmsi else SESSION_TTL
    rt.store.put(SESSION, sid, {"accounts": accounts}, ttl=ttl)
    response.set_cookie(
        SSO_COOKIE,
        sid,
        max_age=ttl if kmsi else None,
        secure=True,
        httponly=True,
        samesite="None",
        path="/",
    )
    return sid


# -- pages ------------------------------------------------------------------------------------


def _page(view: str, ctx: str, data: dict[str, Any], **extra: Any) -> Response:
    rt = runtime()
    found = rt.config.find_app(data["client_id"])
    app = found[1] if found else None
    html = render_template(
        "signin.html",
        view=view,
        ctx=ctx,
        action=f"/{tenant_segment()}/login",
        app_name=app.display_name if app else "",
        username=data.get("username") or "",
        **extra,
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store, no-cache"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _consent_page(ctx: str, data: dict[str, Any], scopes: Scopes) -> Response:
    return _page(
        "consent", ctx, data, permissions=scopes.permissions or ("openid",), oidc=scopes.oidc
    )


def _picker(ctx: str, data: dict[str, Any], tenant: Tenant, accounts: list) -> Response:
    tiles = [tenant.user_by_id(a["oid"]) for a in accounts]
    return _page("picker", ctx, data, tiles=[t for t in tiles if t is not None])


# -- flow -------------------------------------------------------------------------------------


def _needs_consent(
    rt: Runtime, tenant: Tenant, app: AppRegistration, oid: str, scopes: Scopes
) -> bool:
    if not app.require_consent:
        return False
    return not set(scopes.consent_key()) <= rt.consented(tenant, oid, app.client_id)


def _finish(
    rt: Runtime,
    ctx: str | None,
    data: dict[str, Any],
    tenant: Tenant,
    oid: str,
    auth_time: int,
    kmsi: bool,
    response_cookies: Response | None = None,
) -> Response:
    """Issue the code and send the browser back to the app (one-time: the ctx is dropped)."""
    request_ = core.request_from_context(data)
    sid = data.get("sid") or str(uuid.uuid4())
    answer = core.issue_code(rt, request_, tenant, oid=oid, sid=sid, auth_time=auth_time, kmsi=kmsi)
    if ctx:
        rt.store.delete(CONTEXT, ctx)
    response = authorize_redirect(answer)
    if response_cookies is not None:
        for value in response_cookies.headers.getlist("Set-Cookie"):
            response.headers.add("Set-Cookie", value)
    return response


def _continue_as(
    rt: Runtime,
    ctx: str,
    data: dict[str, Any],
    tenant: Tenant,
    app: AppRegistration,
    account: dict[str, Any],
    *,
    cookies: Response | None = None,
) -> Response:
    """The user is known: consent if needed, then the code."""
    scopes = parse_scopes(data["scope"], rt.config, tenant_name=tenant.display_name)
    data = {
        **data,
        "oid": account["oid"],
        "auth_time": account["auth_time"],
        "kmsi": account.get("kmsi", False),
        "sid": data.get("sid") or account.get("sid"),
    }
    if data.get("prompt") == "consent" or _needs_consent(rt, tenant, app, account["oid"], scopes):
        rt.store.put(CONTEXT, ctx, data, ttl=rt.config.signin_page_lifetime)
        response = _consent_page(ctx, data, scopes)
        if cookies is not None:
            for value in cookies.headers.getlist("Set-Cookie"):
                response.headers.add("Set-Cookie", value)
        return response
    return _finish(
        rt,
        ctx,
        data,
        tenant,
        account["oid"],
        account["auth_time"],
        bool(account.get("kmsi")),
        cookies,
    )


@bp.route("/oauth2/v2.0/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    rt = runtime()
    raw = (request.form if request.method == "POST" else request.args).to_dict(flat=False)
    areq, tenant, app, scopes = core.validate(rt, current_tenant(), tenant_segment(), raw)
    accounts = _accounts(rt, tenant)
    sid_cookie, _ = _session(rt)
    if areq.max_age is not None:
        accounts = [a for a in accounts if rt.now() - a["auth_time"] <= areq.max_age]
    hinted = [
        a
        for a in accounts
        if areq.login_hint
        and (tenant.user_by_id(a["oid"]).username.lower() == areq.login_hint.lower())
    ]
    prompt = areq.prompt
    data = {**areq.to_dict(), "sid": sid_cookie}

    if prompt == "none":
        chosen = hinted[0] if hinted else (accounts[0] if len(accounts) == 1 else None)
        if not accounts:
            raise areq.error(AADSTS50058)
        if chosen is None:
            raise areq.error(AADSTS16000)
        if _needs_consent(rt, tenant, app, chosen["oid"], scopes):
            raise areq.error(
                AADSTS65001_AUTHORIZE, client_id=app.client_id, app_name=app.display_name
            )
        return _finish(
            rt, None, data, tenant, chosen["oid"], chosen["auth_time"], bool(chosen.get("kmsi"))
        )

    ctx = core.save_context(rt, areq, sid=sid_cookie)
    if prompt in ("login", "create") or not accounts:
        return _page("username", ctx, {**data, "username": areq.login_hint})
    if prompt == "select_account" or (len(accounts) > 1 and not hinted):
        return _picker(ctx, data, tenant, accounts)
    return _continue_as(rt, ctx, data, tenant, app, hinted[0] if hinted else accounts[0])


@bp.route("/login", methods=["POST"])
def login() -> Response:
    """Every sign-in form posts here, as Entra's do (`$Config.urlPost`)."""
    rt = runtime()
    ctx = request.form.get("ctx", "")
    data = core.load_context(rt, ctx)
    if data is None:
        raise EntraError(AADSTS9002313)
    found = rt.config.find_app(data["client_id"])
    tenant = rt.config.tenant(data["tenant_id"])
    if found is None or tenant is None:
        raise EntraError(AADSTS9002313)
    app = found[1]
    step = request.form.get("step", "")
    areq = core.request_from_context(data)

    if step == "username":
        username = request.form.get("loginfmt", "").strip()[:113]
        data = {**data, "username": username}
        if not username:
            return _page("username", ctx, data, username_error=USERNAME_EMPTY)
        if tenant.user_by_username(username) is None:
            return _page("username", ctx, data, username_error=USERNAME_UNKNOWN)
        rt.store.put(CONTEXT, ctx, data, ttl=rt.config.signin_page_lifetime)
        return _page("password", ctx, data)

    if step == "password":
        if "back" in request.form:
            return _page("username", ctx, data)
        user = tenant.user_by_username(data.get("username") or "")
        password = request.form.get("passwd", "")
        if user is None:
            return _page("username", ctx, data, username_error=USERNAME_UNKNOWN)
        if not password:
            return _page("password", ctx, data, password_error=PASSWORD_EMPTY)
        if password != user.password:
            return _page("password", ctx, data, password_error=PASSWORD_WRONG)
        data = {**data, "authenticated_oid": user.object_id, "auth_time": rt.now()}
        rt.store.put(CONTEXT, ctx, data, ttl=rt.config.signin_page_lifetime)
        return _page("kmsi", ctx, data)

    if step == "kmsi":
        oid = data.get("authenticated_oid")
        if not oid:
            raise EntraError(AADSTS9002313)
        kmsi = request.form.get("choice", "").lower() == "yes"
        cookies = make_response("")
        sid = _remember(rt, cookies, oid, tenant, data["auth_time"], kmsi)
        account = {"oid": oid, "auth_time": data["auth_time"], "kmsi": kmsi, "sid": sid}
        return _continue_as(rt, ctx, {**data, "sid": sid}, tenant, app, account, cookies=cookies)

    if step == "picker":
        choice = request.form.get("account", "")
        if choice == "other":
            return _page("username", ctx, data)
        account = next((a for a in _accounts(rt, tenant) if a["oid"] == choice), None)
        if account is None:
            return _page("username", ctx, data)
        return _continue_as(rt, ctx, data, tenant, app, account)

    if step == "consent":
        oid = data.get("oid")
        if not oid:
            raise EntraError(AADSTS9002313)
        if request.form.get("choice") != "accept":
            rt.store.delete(CONTEXT, ctx)
            raise EntraError(
                AADSTS65004,
                redirect_uri=areq.redirect_uri,
                state=areq.state,
                response_mode=areq.response_mode,
                error_subcode="cancel",
            )
        scopes = parse_scopes(data["scope"], rt.config, tenant_name=tenant.display_name)
        rt.add_consent(tenant, oid, app.client_id, scopes.consent_key())
        return _finish(rt, ctx, data, tenant, oid, data["auth_time"], bool(data.get("kmsi")))

    raise EntraError(AADSTS9002313)


# -- logout -----------------------------------------------------------------------------------


def _logout() -> Response:
    rt = runtime()
    sid, _ = _session(rt)
    if sid:
        rt.store.delete(SESSION, sid)
    target = request.values.get("post_logout_redirect_uri", "")
    tenant = current_tenant()
    tenants = [tenant] if tenant else list(rt.config.tenants)
    allowed = {
        u for t in tenants for a in t.apps for u in (*a.post_logout_redirect_uris, *a.redirect_uris)
    }
    if target and target in allowed:
        state = request.values.get("state")
        location = target + (
            ("&" if "?" in target else "?") + urlencode({"state": state}) if state else ""
        )
        response = Response(status=302)
        response.headers["Location"] = location
    else:
        response = make_response(
            render_template("signin.html", view="signed_out", rejected=bool(target))
        )
    response.delete_cookie(SSO_COOKIE, path="/", secure=True, samesite="None", httponly=True)
    response.headers["Cache-Control"] = "no-store, no-cache"
    return response


@bp.route("/oauth2/v2.0/logout", methods=["GET", "POST"])
def logout() -> Response:
    return _logout()


@bp.route("/oauth2/logout", methods=["GET", "POST"])
def logout_v1() -> Response:
    return _logout()
