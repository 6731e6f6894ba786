"""Microsoft Graph calls: `GET {GRAPH_ENDPOINT}/me` with the user's access token.

Graph reports errors as `{"error": {"code", "message", "innerError"}}` (Microsoft Learn,
"Microsoft Graph error responses"); any failure becomes a `GraphError` (502) carrying `code`.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from client_app.errors import GraphError

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
    raise GraphError(
        502,
        "Microsoft Graph refused the request",
        f"Graph answered HTTP {response.status_code}: {message}",
        code=code,
    )


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
