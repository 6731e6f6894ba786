"""Secretless sign-in: the app's managed identity's token is its client assertion (Learn,
"Configure an application to trust a managed identity": a federated identity credential on
the app registration with issuer `https://login.microsoftonline.com/{tenant}/v2.0`, subject
the identity's object id, audience `api://AzureADTokenExchange`).

With `MANAGED_IDENTITY_CLIENT_ID` and no `CLIENT_SECRET`, MSAL's `client_credential` is
`{"client_assertion": ManagedIdentityAssertion(...)}`: MSAL calls it for every token request
that needs client authentication, and it answers the identity's token for
`api://AzureADTokenExchange`, which MSAL's `ManagedIdentityClient` gets from the platform
(App Service's `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`, else IMDS) and keeps until it is near
expiry: refreshed, never stored by the app, never logged.
"""

from __future__ import annotations

import logging
import threading

import msal
import requests

from client_app.errors import SignInError

TOKEN_EXCHANGE = "api://AzureADTokenExchange"

logger = logging.getLogger(__name__)


class ManagedIdentityAssertion:
    """A callable client assertion: the managed identity's current token exchange token."""

    def __init__(self, client_id: str, http: requests.Session) -> None:
        self.client_id = client_id
        # One client per app: its cache keeps the token across requests.
        self._client = msal.ManagedIdentityClient(
            msal.UserAssignedManagedIdentity(client_id=client_id), http_client=http
        )
        self._lock = threading.Lock()  # one platform call at a time, the others use its token

    def __call__(self) -> str:
        with self._lock:
            try:
                result = self._client.acquire_token_for_client(resource=TOKEN_EXCHANGE)
            except (requests.RequestException, ValueError) as error:
                logger.warning("managed identity endpoint failed: %s", type(error).__name__)
                result = {"error": type(error).__name__}
        token = result.get("access_token")
        if not token:
            logger.warning("no managed identity token: error=%s", result.get("error"))
            raise SignInError(
                502,
                "Managed identity unavailable",
                "The app's managed identity could not get a token to sign in with; "
                "check MANAGED_IDENTITY_CLIENT_ID and the platform's identity endpoint.",
                code="managed_identity_unavailable",
            )
        return str(token)
