"""Blueprint `views`: the home page, the Graph-backed profile page and `/healthz`."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from client_app.auth import SIGNED_OUT_COOKIE
from client_app.errors import GraphError
from client_app.graph import PROFILE_FIELDS, get_me
from client_app.identity import get_identity

bp = Blueprint("views", __name__)


@bp.get("/")
def home() -> Response:
    """Signed out: a Sign-in link ("You are signed out" once, right after Sign out). Signed
    in: the user's name and Profile; Sign out in the header, as on every signed-in page."""
    identity = get_identity()
    signed_out = SIGNED_OUT_COOKIE in request.cookies
    page = render_template("home.html", user=identity.user, signed_out=signed_out)
    response = make_response(page)
    if signed_out:
        secure = identity.settings.secure_cookies
        response.delete_cookie(SIGNED_OUT_COOKIE, secure=secure, httponly=True, samesite="Lax")
    return response


@bp.get("/profile")
def profile() -> Response | str:
    """The user's Graph `/me` properties; sends the user to sign in when no token can be had."""
    identity = get_identity()
    token = identity.access_token()
    if token is None:
        return redirect(url_for("auth.login", next=url_for("views.profile")))
    try:
        me = get_me(identity.http, identity.settings.graph_endpoint, token)
    except GraphError as error:
        if error.claims_challenge:
            # Continuous access evaluation: the session was revoked or a policy changed; a
            # refreshed token would be refused too. Sign in again, asking for the claims.
            identity.request_claims(error.claims_challenge)
            return redirect(url_for("auth.login", next=url_for("views.profile")))
        # MSAL judges expiry by this machine's clock; Graph by its own (and tokens can be
        # revoked). On InvalidAuthenticationToken, refresh once with the refresh token.
        if error.code != "InvalidAuthenticationToken":
            raise
        token = identity.access_token(force_refresh=True)
        if token is None:
            return redirect(url_for("auth.login", next=url_for("views.profile")))
        me = get_me(identity.http, identity.settings.graph_endpoint, token)
    rows = [(name, _display(me.get(name))) for name in PROFILE_FIELDS]
    return render_template("profile.html", user=identity.user, rows=rows)


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Anonymous liveness probe for App Service: 200 "ok", never touches the session."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


def _display(value: object) -> str:
    # Graph returns null for unset properties and lists for e.g. businessPhones.
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
