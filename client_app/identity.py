"""Sign-in with MSAL Python's auth-code flow, one `ConfidentialClientApplication` per request.

The shape follows Microsoft's MSAL-direct sample (ms-identity-python-webapp before the
`identity` package): the token cache is a `SerializableTokenCache` kept in the user's
server-side session, loaded per request and written back only when it changed, so no two users
ever share one. Where that sample swallows a forged callback and turns a nonce mismatch into a
500, this module refuses both with a clear `SignInError`, validates the ID token itself (MSAL
1.38+ checks only the nonce) and leaves nothing of a failed sign-in in the session.
"""

from __future__ import annotations

import binascii
import hmac
import json
import logging
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import msal
import requests
from flask import current_app, session
from msal.exceptions import MsalServiceError

from client_app.errors import SignInError, idp_error_message
from client_app.id_token import IdTokenValidator
from client_app.settings import Settings

logger = logging.getLogger(__name__)

# Session keys. The flow holds the PKCE verifier and nonce; the cache holds the tokens.
FLOW = "auth_flow"
NEXT = "login_next"
USER = "user"
TOKEN_CACHE = "token_cache"

PROMPTS = frozenset({"login", "select_account", "consent", "none"})
# ID-token claims kept in the session to show who is signed in (never the token itself).
USER_CLAIMS = ("name", "preferred_username", "oid", "tid", "sub")
# OAuth errors that mean "the user or tenant said no" rather than "the request was bad".
FORBIDDEN_ERRORS = frozenset({"access_denied"})


def invalid_request() -> SignInError:
    """A callback without a matching pending sign-in: forged, replayed or expired."""
    return SignInError(
        400,
        "Sign-in request is invalid or expired",
        "The sign-in request is invalid or expired. Please sign in again.",
        code="invalid_state",
    )


def _idp_unavailable(what: str) -> SignInError:
    return SignInError(
        502,
        "Identity provider unavailable",
        f"The identity provider's {what} failed; try again later.",
        code="idp_unavailable",
    )


class Identity:
    """The app's sign-in service: builds MSAL apps and keeps sign-in state in `flask.session`."""

    def __init__(
        self, settings: Settings, http: requests.Session, validator: IdTokenValidator
    ) -> None:
        self.settings = settings
        self.http = http
        self.validator = validator
        # Shared by all MSAL apps of this Flask app: discovery is fetched once a day, not per
        # request. Per Flask app (not per process) so two apps never share cached responses.
        self.http_cache: dict[str, Any] = {}

    # -- MSAL plumbing -----------------------------------------------------------------

    def _msal_app(self, cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
        try:
            return msal.ConfidentialClientApplication(
                self.settings.client_id,
                client_credential=self.settings.client_secret,
                authority=self.settings.authority,
                token_cache=cache,
                http_client=self.http,
                http_cache=self.http_cache,
                instance_discovery=self.settings.instance_discovery,
            )
        except (ValueError, requests.RequestException, MsalServiceError) as error:
            # The constructor fetches the discovery document (4xx → ValueError, 5xx → HTTPError).
            logger.warning("MSAL could not load the authority: %s", type(error).__name__)
            raise _idp_unavailable("discovery document") from None

    @staticmethod
    def _load_cache() -> msal.SerializableTokenCache:
        cache = msal.SerializableTokenCache()
        serialized = session.get(TOKEN_CACHE)
        if serialized:
            cache.deserialize(serialized)
        return cache

    @staticmethod
    def _save_cache(cache: msal.SerializableTokenCache) -> None:
        if cache.has_state_changed:
            session[TOKEN_CACHE] = cache.serialize()

    # -- sign-in -----------------------------------------------------------------------

    @property
    def user(self) -> dict[str, Any] | None:
        """The signed-in user's ID-token claims (a safe subset), or None."""
        return session.get(USER)

    def begin_login(self, prompt: str | None = None, next_path: str = "/") -> str:
        """Start an auth-code flow (PKCE S256, state, nonce); return the authorize URL."""
        app = self._msal_app(msal.SerializableTokenCache())
        flow = app.initiate_auth_code_flow(
            list(self.settings.scopes),
            redirect_uri=self.settings.redirect_uri,
            response_mode=self.settings.response_mode,
            prompt=prompt if prompt in PROMPTS else None,
        )
        session[FLOW] = flow
        session[NEXT] = next_path
        return flow["auth_uri"]

    def complete_login(self, auth_response: Mapping[str, str]) -> str:
        """Redeem the authorization response; return the local path to go to next.

        A callback whose `state` is not the pending flow's (none pending, forged, replayed)
        raises `SignInError` and changes nothing in the session: a cross-site page cannot end
        or disturb the user's session with a made-up callback. A matching callback consumes
        the flow; if it then fails, the user (if any) stays as they were: nothing of the
        failed sign-in is written to the session.
        """
        flow = session.get(FLOW)
        if not _state_matches(flow, auth_response.get("state")):
            raise invalid_request()
        # Popping makes the callback single use (RFC 9700 §4.2.4): a replay finds no flow.
        session.pop(FLOW, None)
        next_path = session.pop(NEXT, "/")
        self._redeem(flow, dict(auth_response))
        return next_path

    def _redeem(self, flow: dict[str, Any], response: dict[str, str]) -> None:
        if "error" in response:
            raise self._idp_error(response)
        if not response.get("code"):
            raise invalid_request()

        cache = msal.SerializableTokenCache()  # a new sign-in never inherits old tokens
        app = self._msal_app(cache)
        result = self._acquire_by_auth_code(app, flow, response)
        if "error" in result:
            logger.warning("token endpoint returned error=%s", result.get("error"))
            raise SignInError(
                502,
                "Sign-in failed at the token endpoint",
                idp_error_message(result.get("error_description")),
                code=str(result["error"]),
            )
        id_token = result.get("id_token")
        if not id_token:
            raise SignInError(
                502,
                "Sign-in failed",
                "The identity provider returned no ID token.",
                code="invalid_id_token",
            )
        claims = self.validator.validate(id_token)

        session[USER] = {k: claims[k] for k in USER_CLAIMS if k in claims}
        self._save_cache(cache)
        # New identity, new session id (defeats session fixation); Flask-Session >= 0.6.
        regenerate = getattr(current_app.session_interface, "regenerate", None)
        if regenerate is not None:
            regenerate(session)
        logger.info("sign-in completed for oid=%s tid=%s", claims.get("oid"), claims.get("tid"))

    @staticmethod
    def _acquire_by_auth_code(
        app: msal.ConfidentialClientApplication, flow: dict[str, Any], response: dict[str, str]
    ) -> dict[str, Any]:
        try:
            return app.acquire_token_by_auth_code_flow(flow, response)
        except RuntimeError:
            # MSAL's nonce check: the ID token was not minted for this sign-in (injection).
            raise SignInError(
                400,
                "Sign-in failed",
                "The ID token does not belong to this sign-in request (nonce mismatch).",
                code="invalid_nonce",
            ) from None
        except json.JSONDecodeError:
            raise _idp_unavailable("token endpoint (not JSON)") from None
        except binascii.Error:
            # Malformed client_info in the redirect.
            raise invalid_request() from None
        except ValueError:
            raise invalid_request() from None
        except (MsalServiceError, requests.RequestException) as error:
            logger.warning("token request failed: %s", type(error).__name__)
            raise _idp_unavailable("token endpoint") from None

    @staticmethod
    def _idp_error(response: Mapping[str, str]) -> SignInError:
        error = response.get("error") or "unknown_error"
        status = 403 if error in FORBIDDEN_ERRORS else 400
        return SignInError(
            status,
            "Sign-in was not completed",
            idp_error_message(response.get("error_description")),
            code=error,
        )

    # -- tokens and sign-out -------------------------------------------------------------

    def access_token(self, *, force_refresh: bool = False) -> str | None:
        """An access token for SCOPE from the session's cache (refreshed by MSAL if expired,
        or always with `force_refresh`), or None when the user must sign in again."""
        user = self.user
        if not user:
            return None
        cache = self._load_cache()
        app = self._msal_app(cache)
        accounts = app.get_accounts(username=user.get("preferred_username")) or app.get_accounts()
        if not accounts:
            return None
        try:
            result = app.acquire_token_silent(
                list(self.settings.scopes), account=accounts[0], force_refresh=force_refresh
            )
        except (MsalServiceError, requests.RequestException) as error:
            logger.warning("silent token request failed: %s", type(error).__name__)
            raise _idp_unavailable("token endpoint") from None
        self._save_cache(cache)
        if not result or "access_token" not in result:
            logger.info("no token without interaction: %s", (result or {}).get("error"))
            return None
        return str(result["access_token"])

    def logout_url(self) -> str:
        """Entra's v2 end-session URL, returning to POST_LOGOUT_REDIRECT_URI."""
        query = urlencode({"post_logout_redirect_uri": self.settings.post_logout_redirect_uri})
        return f"{self.settings.authority}/oauth2/v2.0/logout?{query}"


def _state_matches(flow: object, state: object) -> bool:
    """Whether `state` is the pending `flow`'s state (compared in constant time)."""
    if not isinstance(flow, dict) or not isinstance(state, str):
        return False
    expected = flow.get("state")
    if not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(state.encode(), expected.encode())


def quiet_query_mode_advice(settings: Settings) -> None:
    """In `query` mode, stop MSAL's "response_mode='form_post' is recommended" warning.

    The app asks for form_post whenever REDIRECT_URI is https (`Settings`): MSAL is then
    silent. `query` is left for an http redirect URI (local development), where form_post
    cannot work (the cross-site POST would arrive without the session cookie), so the advice
    cannot be acted on. Process-wide and set once at start, by the launchers (`client-app`,
    `client_app.wsgi`); only that one message, only in that case.
    """
    if settings.response_mode == "query":
        warnings.filterwarnings(
            "ignore",
            message=r"response_mode='form_post' is recommended",
            category=UserWarning,
            module=r"msal\.",
        )


def get_identity() -> Identity:
    """The `Identity` of the current Flask app."""
    identity: Identity = current_app.extensions["client_app"]
    return identity
