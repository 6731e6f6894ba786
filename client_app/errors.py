"""The app's one error type and the one place it becomes an HTML page.

Every failure the user can see (an IdP error redirect, a forged callback, a token-endpoint or
Graph failure, an unusable ID token) is raised as an `AppError` carrying the HTTP status, a
title, a message and, when there is one, the protocol or Graph error code. `register` installs
the handlers; anything else that escapes a view becomes a 500 page without a traceback.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, make_response, render_template
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)

_AADSTS = re.compile(r"\bAADSTS\d+\b")
# IdP-supplied text is reflected on the page (escaped); keep it short.
_MAX_DETAIL = 500


class AppError(Exception):
    """A failure shown to the user as `status` + `title` + `detail` (+ `code` if known)."""

    # Whether the page offers "Sign in again": only where a new sign-in can help (a failed
    # sign-in, a token Graph refused), not on a 404, a refused form or an unexpected error.
    offers_sign_in = False

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        code: str | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail[:_MAX_DETAIL]
        self.code = code
        self.retry_after = retry_after  # seconds, passed on to the browser as Retry-After

    @property
    def aadsts(self) -> str | None:
        """The `AADSTSnnnn` code quoted in the detail, if any (what users search for)."""
        match = _AADSTS.search(self.detail)
        return match.group(0) if match else None


class SignInError(AppError):
    """A sign-in that cannot complete; the session holds nothing from it."""

    offers_sign_in = True


class GraphError(AppError):
    """Microsoft Graph refused or failed the call (shown as 502 with Graph's error code, or
    503 with `Retry-After` when Graph is throttling or unavailable)."""

    claims_challenge: str | None = None  # a CAE challenge's claims (JSON): sign in again
    offers_sign_in = True


def idp_error_message(description: str | None) -> str:
    """The first line of an Entra `error_description` (drops Trace/Correlation ID lines)."""
    if not description:
        return "The identity provider returned an error."
    return description.replace("\r\n", "\n").split("\n", 1)[0].strip()


def register(app: Flask) -> None:
    """Render `AppError`, HTTP errors and unexpected exceptions with `error.html`."""

    @app.errorhandler(AppError)
    def _app_error(error: AppError) -> Response:
        logger.info(
            "request failed: status=%s code=%s aadsts=%s title=%s",
            error.status,
            error.code,
            error.aadsts,
            error.title,
        )
        response = make_response(_render(error), error.status)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        response = make_response(_render(AppError(status, error.name, error.description or "")))
        response.status_code = status
        # Keep protocol headers such as Allow (405) or Retry-After.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        # Logged with the traceback for operators; the page shows none of it.
        logger.exception("unhandled error: %s", type(error).__name__)
        page = AppError(500, "Something went wrong", "An unexpected error occurred.")
        return _render(page), 500


def _render(error: AppError) -> str:
    return render_template("error.html", error=error)
