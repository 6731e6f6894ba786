"""CSRF protection for the app's one state-changing form, Sign out (a POST to `/logout`).

A synchronizer token (OWASP CSRF Prevention Cheat Sheet): a random value kept in the user's
server-side session, rendered into the form as a hidden field and compared on the POST. A
cross-site page can make the browser send the session cookie, but it cannot read the token.
Browsers also say where a request comes from (`Sec-Fetch-Site`, Fetch Metadata): a
`cross-site` POST is refused before the token is even looked at.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Request, session

from client_app.errors import AppError

# The session key and the form field's name.
FIELD = "csrf_token"


def token() -> str:
    """The session's CSRF token, made on first use (a Jinja global: `csrf_token()`)."""
    value = session.get(FIELD)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        session[FIELD] = value
    return value


def rotate() -> None:
    """Forget the token (at sign-in: a token seen before it never outlives the identity)."""
    session.pop(FIELD, None)


def check(request: Request) -> None:
    """Raise `AppError` unless `request` is a same-site form post carrying the session's token.

    Nothing in the session changes on failure: a forged post never signs the user out.
    """
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise AppError(
            403,
            "Request refused",
            "This form was sent from another site. Use the app's own Sign out button.",
            code="cross_site_request",
        )
    expected = session.get(FIELD)
    sent = request.form.get(FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise AppError(
            400,
            "Request refused",
            "The form has expired or did not come from this app. Please try again.",
            code="invalid_csrf_token",
        )
