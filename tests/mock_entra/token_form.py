"""The token endpoint as the in-process tests call it (the Flask test client), as the default
web app, authenticated with its secret."""

from __future__ import annotations

from .conftest import BASE, CLIENT_ID, SECRET, TENANT

GRAPH_DEFAULT = "https://graph.microsoft.com/.default"


def post_token(client, **form: str):
    """POST the default app's `form` to the default tenant's token endpoint."""
    data = {"client_id": CLIENT_ID, "client_secret": SECRET, **form}
    return client.post(f"/{TENANT}/oauth2/v2.0/token", base_url=BASE, data=data)


def app_only_token(client):
    """The default app's client-credentials request for Microsoft Graph."""
    return post_token(client, grant_type="client_credentials", scope=GRAPH_DEFAULT)
