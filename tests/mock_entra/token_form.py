"""The token endpoint as the in-process tests call it (the Flask test client): as a public
client, or as the default web app, authenticated with its secret."""

from __future__ import annotations

from .conftest import BASE, CLIENT_ID, REDIRECT, SECRET, TENANT

GRAPH_DEFAULT = "https://graph.microsoft.com/.default"


def token_request(client, **form: str):
    """POST `form` as it is (a public client's: no secret) to the default tenant's token
    endpoint."""
    return client.post(f"/{TENANT}/oauth2/v2.0/token", base_url=BASE, data=form)


def post_token(client, **form: str):
    """POST the default app's `form` to the default tenant's token endpoint."""
    return token_request(client, client_id=CLIENT_ID, client_secret=SECRET, **form)


def app_only_token(client):
    """The default app's client-credentials request for Microsoft Graph."""
    return post_token(client, grant_type="client_credentials", scope=GRAPH_DEFAULT)


def code_form(code: str, *, verifier: str, **extra: str) -> dict[str, str]:
    """The default web app's redemption of `code` (its secret, its redirect URI, the PKCE
    verifier), plus `extra` parameters."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **extra,
    }
