"""Microsoft Graph calls: `GET {GRAPH_ENDPOINT}/me` with the user's access token.

Graph reports errors as `{"error": {"code", "message", "innerError"}}` (Microsoft Learn,
"Microsoft Graph error responses"); any failure becomes a `GraphError` carrying `code`: 502,
or 503 with Graph's `Retry-After` when Graph throttles (429) or is unavailable (503, Learn
"Microsoft Graph throttling guidance": wait that long, never retry at once). A 401 with a
claims challenge (continuous access evaluation, Learn "Claims challenges, claims requests and
client capabilities") carries the claims the next sign-in must ask for.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from typing import Any

import requests

from client_app.errors import GraphError
from client_app.http_client import retry_after_seconds

logger = logging.getLogger(__name__)

# The /me properties the profile page shows, in display order.
PROFILE_FIELDS = ("displayName", "userPrincipalName", "id", "mail", "jobTitle")


def get_me(http: requests.Session, graph_endpoint: str, access_token: str) -> dict[str, Any]:
    """Return the signed-in user's `/me` object; raise `GraphError` on any failure."""
    url = f"{graph_endpoint}/me"
    try:
        response = http.get(
            url,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
    except requests.RequestException as error:
        logger.warning("Graph call failed: %s", type(error).__name__)
        raise GraphError(
            502, "Microsoft Graph unavailable", "Could not reach Microsoft Graph."
        ) from None

    body = _json_or_none(response)
    if response.ok and isinstance(body, dict):
        return body

    code, message = _graph_error(body)
    logger.warning("Graph /me returned HTTP %s code=%s", response.status_code, code)
    if response.status_code in (429, 503):
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise GraphError(
            503,
            "Microsoft Graph is busy",
            f"Graph answered HTTP {response.status_code}: {message} "
            f"Try again in {wait or 'a few'} seconds.",
            code=code,
            retry_after=wait,
        )
    error = GraphError(
        502,
        "Microsoft Graph refused the request",
        f"Graph answered HTTP {response.status_code}: {message}",
        code=code,
    )
    if response.status_code == 401:
        error.claims_challenge = claims_challenge(response.headers.get("WWW-Authenticate", ""))
    raise error


_CLAIMS = re.compile(r'\bclaims="([A-Za-z0-9+/=_-]{1,4096})"')


def claims_challenge(www_authenticate: str) -> str | None:
    """The claims (JSON text) of a CAE challenge (`error="insufficient_claims"`), or None."""
    if 'error="insufficient_claims"' not in www_authenticate:
        return None
    match = _CLAIMS.search(www_authenticate)
    if match is None:
        return None
    raw = match.group(1)
    try:
        text = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_").decode()
        json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _graph_error(body: Any) -> tuple[str | None, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        return (
            code if isinstance(code, str) else None,
            message if isinstance(message, str) and message else "no message",
        )
    return None, "unexpected response"
