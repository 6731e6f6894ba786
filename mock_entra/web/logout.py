"""Logout (`/{tenant}/oauth2/v2.0/logout` and v1's `/oauth2/logout`): the SSO session ended,
then the browser sent to a registered post-logout URI, or Entra's "signed out" page."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, render_template, request

from mock_entra.web.context import runtime
from mock_entra.web.page import html_page
from mock_entra.web.signin import SSO_COOKIE, sso_session
from mock_entra.web.tenant import bp, current_tenant


def _logout() -> Response:
    rt = runtime()
    sid, _ = sso_session(rt)
    if sid:
        rt.records.sessions.delete(sid)
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
        html = render_template("signin.html", view="signed_out", rejected=bool(target))
        response = html_page(html)
    response.delete_cookie(SSO_COOKIE, path="/", secure=True, samesite="None", httponly=True)
    response.headers["Cache-Control"] = "no-store, no-cache"
    return response


@bp.route("/oauth2/v2.0/logout", methods=["GET", "POST"])
def logout() -> Response:
    return _logout()


@bp.route("/oauth2/logout", methods=["GET", "POST"])
def logout_v1() -> Response:
    return _logout()
