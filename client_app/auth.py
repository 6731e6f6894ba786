"""Blueprint `auth`: `/login`, the redirect endpoint (REDIRECT_URI's path) and `/logout`.

Sign-out changes state, so it is a POST with a CSRF token (`client_app.csrf`); a GET of
`/logout` (a link, a bookmark, or a cross-site page's top-level navigation) only shows the
confirmation form.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from client_app import csrf
from client_app.identity import get_identity

SIGNED_OUT_COOKIE = "entra_lab_signed_out"
SIGNED_OUT_SECONDS = 300  # the way to Entra's logout page and back


def safe_next_path(value: str | None) -> str | None:
    """`value` if it is a local path ("/x", not "//host", no scheme, no backslash), else None.

    Only local paths are accepted so `/login?next=` can never become an open redirect
    (RFC 9700 §4.11).
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    # Browsers read "/\\host" as "//host"; control characters can split headers.
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def create_blueprint(redirect_path: str) -> Blueprint:
    """The auth blueprint, with the callback mounted at `redirect_path` (REDIRECT_URI's path)."""
    bp = Blueprint("auth", __name__)

    @bp.get("/login")
    def login() -> Response:
        """Start a sign-in: remember `next` (local paths only) and redirect to the IdP."""
        next_path = safe_next_path(request.args.get("next")) or "/"
        auth_uri = get_identity().begin_login(request.args.get("prompt"), next_path)
        return redirect(auth_uri)

    @bp.route(redirect_path, methods=["GET", "POST"])
    def authorized() -> Response:
        """The redirect endpoint: `query` responses arrive as GET, `form_post` ones as POST."""
        auth_response = request.form if request.method == "POST" else request.args
        next_path = get_identity().complete_login(auth_response.to_dict())
        csrf.rotate()
        return redirect(safe_next_path(next_path) or "/")

    @bp.get("/logout")
    def confirm_logout() -> Response | str:
        """Ask before signing out (never signs out: a GET can be forced by any site)."""
        identity = get_identity()
        if not identity.user:
            return redirect(url_for("views.home"))
        return render_template("logout.html", user=identity.user)

    @bp.post("/logout")
    def logout() -> Response:
        """Check the CSRF token, forget the user locally, then end the Entra session too."""
        csrf.check(request)
        session.clear()
        identity = get_identity()
        response = redirect(identity.logout_url())
        # Entra returns to the home page, which then says "You are signed out" once. A cookie
        # of its own, not the session: the session is gone, and its cookie with it.
        response.set_cookie(
            SIGNED_OUT_COOKIE,
            "1",
            max_age=SIGNED_OUT_SECONDS,
            httponly=True,
            secure=identity.settings.secure_cookies,
            samesite="Lax",  # sent on Entra's redirect back: a top-level GET navigation
        )
        return response

    return bp
