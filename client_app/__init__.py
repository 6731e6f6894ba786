"""client_app: a confidential Flask web app signing users in with Entra ID, as Learn's Python
web app tutorial builds it (https://learn.microsoft.com/en-us/entra/identity-platform/
tutorial-web-app-python-register-app).

MSAL Python's auth-code flow (client secret on the server), Microsoft Graph `/me`, server-side
sessions. It runs unchanged against real Entra and against the local mock; it talks to either
only over HTTPS and never imports the mock.

    >>> from client_app import Settings, create_app
    >>> app = create_app(Settings.from_env(os.environ))  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from client_app.settings import Settings, SettingsError

if TYPE_CHECKING:
    from flask import Flask, Response

__all__ = ["Settings", "SettingsError", "create_app"]

SESSION_COOKIE_NAME = "entra_lab_session"
SESSION_LIFETIME = timedelta(hours=12)
# The largest body the app accepts (a form_post callback is a few KB).
MAX_REQUEST_BYTES = 64 * 1024


def content_security_policy(authority: str) -> str:
    """No scripts, no third-party resources (also keeps the code out of Referer headers).

    `form-action` does not fall back to `default-src`; browsers apply it to the redirects
    that follow a form post too, so it names the authority's origin: the Sign-out form's
    POST answers with a redirect to Entra's logout endpoint.
    """
    parts = urlsplit(authority)
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"form-action 'self' {parts.scheme}://{parts.netloc}; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def create_app(settings: Settings, *, max_sessions: int | None = None) -> Flask:
    """Build the Flask app for `settings`; raise `SettingsError` if `SESSION_DIR` is not the
    app's own. `max_sessions` bounds the session files (default 10,000).

    Example (tests): ``create_app(dataclasses.replace(settings, session_dir=str(tmp_path)))``.
    """
    # Imported here, not at the top: the package itself stays light and imports on a mock-only
    # install (no `entra-lab[app]` extra: cachelib, flask-session, MSAL), so that `client-app`,
    # `conformance` and `entra-lab demo` can check for the extra first (`client_app.extra`).
    from flask import Flask
    from flask_session import Session
    from werkzeug.middleware.proxy_fix import ProxyFix

    from client_app import auth, csrf, errors, views
    from client_app.http_client import build_http_session
    from client_app.id_token import IdTokenValidator
    from client_app.identity import USER, Identity
    from client_app.session_store import DEFAULT_MAX_ENTRIES, SessionFiles

    sessions = SessionFiles(
        settings.session_dir,
        max_entries=max_sessions or DEFAULT_MAX_ENTRIES,
        is_pending=lambda value: isinstance(value, dict) and USER not in value,
    )

    app = Flask(__name__)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=sessions,
        SESSION_KEY_PREFIX="entra_lab:",
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_SAMESITE=_samesite(settings),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    Session(app)

    http = build_http_session(settings.ca_bundle, settings.http_timeout)
    app.extensions["client_app"] = Identity(settings, http, IdTokenValidator(settings, http))

    errors.register(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(auth.create_blueprint(settings.redirect_path))
    app.jinja_env.globals["csrf_token"] = csrf.token
    app.after_request(partial(_security_headers, csp=content_security_policy(settings.authority)))

    if settings.trust_proxy:
        # Only behind App Service's front end, which sets (and overwrites) these headers;
        # trusting them from the open internet would let clients forge the scheme and host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
    return app


def _samesite(settings: Settings) -> str:
    # A form_post callback is a cross-site POST from the IdP: a Lax cookie would not be sent
    # with it and the pending flow would look missing. SameSite=None requires Secure (https).
    if settings.response_mode == "form_post" and settings.secure_cookies:
        return "None"
    return "Lax"


def _security_headers(response: Response, *, csp: str) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # The callback URL carries the code and state: never leak it in a Referer.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", csp)
    # Pages show user data; no shared or browser cache may keep them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
