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
import math
import time
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
from client_app.managed_identity import ManagedIdentityAssertion
from client_app.settings import Settings

logger = logging.getLogger(__name__)

# Session keys. The flow holds the PKCE verifier and nonce; the cache holds the tokens.
FLOW = "auth_flow"
NEXT = "login_next"
USER = "user"
TOKEN_CACHE = "token_cache"
CLAIMS = "claims_challenge"  # claims a resource asked for (CAE): the next sign-in requests them

PROMPTS = frozenset({"login", "select_account", "consent", "none"})
# ID-token claims kept in the session to show who is signed in (never the token itself).
USER_CLAIMS = ("name", "preferred_username", "oid", "tid", "sub")
# OAuth errors that mean "the user or tenant said no" rather than "the request was bad".
FORBIDDEN_ERRORS = frozenset({"access_denied"})
# Silent-request errors that only an interactive sign-in fixes (Learn, "Handle errors and
# exceptions in MSAL Python"): the refresh token expired or was revoked (invalid_grant:
# AADSTS700082, AADSTS50173), MFA or consent is now required. Anything else (a 5xx, 429,
# a timeout) is the identity provider's trouble: signing in again would not help.
REAUTHENTICATE_ERRORS = frozenset(
    {"invalid_grant", "interaction_required", "consent_required", "login_required"}
)
# Errors of an identity provider that is down or throttling (RFC 6749 §5.2 and §4.1.2.1).
UNAVAILABLE_ERRORS = frozenset({"temporarily_unavailable", "server_error"})


def invalid_request() -> SignInError:
    """A callback without a matching pending sign-in: forged, replayed or expired."""
    return SignInError(
        400,
        "Sign-in request is invalid or expired",
        "The sign-in request is invalid or expired. Please sign in again.",
        code="invalid_state",
    )


def _idp_unavailable(what: str, *, retry_after: int | None = None, code: str | None = None):
    """The IdP failed or throttled: 503 with its `Retry-After` when it sent one, else 502."""
    if retry_after is not None:
        return SignInError(
            503,
            "Identity provider busy",
            f"The identity provider's {what} asked us to wait; try again in {retry_after} seconds.",
            code=code or "idp_unavailable",
            retry_after=retry_after,
        )
    return SignInError(
        502,
        "Identity provider unavailable",
        f"The identity provider's {what} failed; try again later.",
        code=code or "idp_unavailable",
    )


def _missing_scopes(wanted: tuple[str, ...], granted: object) -> list[str]:
    """The app's scopes the token response did not grant (Entra returns Graph's scopes short:
    `User.Read`; a resource's with its URI)."""
    if not isinstance(granted, str):
        return []  # no `scope` in the response: RFC 6749 §5.1 means "as requested"
    have = {s.lower() for s in granted.split()}
    have |= {s.rsplit("/", 1)[-1] for s in have if s.startswith("https://graph.microsoft.com/")}
    return [s for s in wanted if s.lower() not in have]


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
        # Until when the IdP asked us to wait (its Retry-After): MSAL then answers from its
        # throttle cache without calling it, and without the header, so we remember it.
        self._busy_until = 0.0
        # Secretless: the managed identity's token is the client assertion (one per app: its
        # token is cached between requests).
        self.credential: str | dict[str, Any] = settings.client_secret
        if settings.secretless:
            assert settings.managed_identity_client_id is not None
            assertion = ManagedIdentityAssertion(settings.managed_identity_client_id, http)
            self.credential = {"client_assertion": assertion}

    # -- MSAL plumbing -----------------------------------------------------------------

    def _msal_app(self, cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
        try:
            return msal.ConfidentialClientApplication(
                self.settings.client_id,
                client_credential=self.credential,
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

    def request_claims(self, claims: str) -> None:
        """Remember a resource's claims challenge: the next sign-in asks Entra for them."""
        session[CLAIMS] = claims

    def begin_login(self, prompt: str | None = None, next_path: str = "/") -> str:
        """Start an auth-code flow (PKCE S256, state, nonce); return the authorize URL."""
        app = self._msal_app(msal.SerializableTokenCache())
        claims = session.pop(CLAIMS, None)
        flow = app.initiate_auth_code_flow(
            list(self.settings.scopes),
            redirect_uri=self.settings.redirect_uri,
            response_mode=self.settings.response_mode,
            prompt=prompt if prompt in PROMPTS else None,
            claims_challenge=claims if isinstance(claims, str) else None,
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
        self._take_retry_after()
        result = self._acquire_by_auth_code(app, flow, response)
        if "error" in result:
            logger.warning("token endpoint returned error=%s", result.get("error"))
            retry_after = self._retry_after()
            if result.get("error") in UNAVAILABLE_ERRORS or retry_after is not None:
                raise _idp_unavailable(
                    "token endpoint", retry_after=retry_after, code=str(result["error"])
                )
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
        missing = _missing_scopes(self.settings.scopes, result.get("scope"))
        if missing:
            # As Microsoft's `identity` package does: a sign-in without the permissions the
            # app needs would only fail later, on every Graph call.
            raise SignInError(
                403,
                "Permissions not granted",
                "The identity provider did not grant the permissions this app needs: "
                f"{' '.join(missing)}. Ask an administrator to grant consent.",
                code="invalid_scope",
            )

        session[USER] = {k: claims[k] for k in USER_CLAIMS if k in claims}
        self._save_cache(cache)
        # New identity, new session id (defeats session fixation); Flask-Session >= 0.6.
        regenerate = getattr(current_app.session_interface, "regenerate", None)
        if regenerate is not None:
            regenerate(session)
        logger.info("sign-in completed for oid=%s tid=%s", claims.get("oid"), claims.get("tid"))

    def _acquire_by_auth_code(
        self,
        app: msal.ConfidentialClientApplication,
        flow: dict[str, Any],
        response: dict[str, str],
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
            # A 5xx page from a proxy: MSAL parses every answer as JSON.
            raise _idp_unavailable("token endpoint (not JSON)") from None
        except binascii.Error:
            # Malformed client_info in the redirect.
            raise invalid_request() from None
        except ValueError:
            raise invalid_request() from None
        except (MsalServiceError, requests.RequestException) as error:
            # MSAL raises for a 5xx (and a timeout); a 503's Retry-After is still worth telling.
            logger.warning("token request failed: %s", type(error).__name__)
            raise _idp_unavailable("token endpoint", retry_after=self._take_retry_after()) from None

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
        self._take_retry_after()
        try:
            # `_with_error`: MSAL's `acquire_token_silent` answers None for every failure, and
            # "sign in again" is the wrong answer to a throttled or failing token endpoint.
            result = app.acquire_token_silent_with_error(
                list(self.settings.scopes), account=accounts[0], force_refresh=force_refresh
            )
        except (MsalServiceError, requests.RequestException, ValueError) as error:
            logger.warning("silent token request failed: %s", type(error).__name__)
            raise _idp_unavailable("token endpoint") from None
        self._save_cache(cache)
        if result and "access_token" in result:
            return str(result["access_token"])
        error = (result or {}).get("error")
        if error is None or error in REAUTHENTICATE_ERRORS:
            logger.info("no token without interaction: %s", error)
            return None
        logger.warning("silent token request failed: error=%s", error)
        raise _idp_unavailable("token endpoint", retry_after=self._retry_after(), code=str(error))

    def _take_retry_after(self) -> int | None:
        take = getattr(self.http, "take_retry_after", None)
        return take() if take is not None else None

    def _retry_after(self) -> int | None:
        """The wait the IdP asked for: its last answer's Retry-After, else what is left of
        an earlier one (MSAL answered from its throttle cache)."""
        now = time.monotonic()
        seconds = self._take_retry_after()
        if seconds is not None:
            self._busy_until = now + seconds
            return seconds
        if self._busy_until > now:
            return math.ceil(self._busy_until - now)
        return None

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
