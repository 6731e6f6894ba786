"""Configuration of the client app: the only module that reads the environment.

`Settings.from_env(environ)` parses and checks every variable once, at start-up, and raises
one `SettingsError` naming every missing or malformed variable, so a misconfigured
deployment fails before it serves a request instead of in the middle of a sign-in.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com/v1.0"
DEFAULT_REDIRECT_PATH = "/getAToken"
DEFAULT_DEV_REDIRECT_URI = "http://localhost:5000" + DEFAULT_REDIRECT_PATH
# Per user: a shared, predictable name lets another local user create it first (the app
# refuses a directory it does not own, see client_app.session_store).
DEFAULT_SESSION_DIR = os.path.join(
    tempfile.gettempdir(),
    "entra-lab-client-app-sessions-"
    + (str(os.geteuid()) if hasattr(os, "geteuid") else os.environ.get("USERNAME", "user")),
)

# MSAL 1.39's WELL_KNOWN_AUTHORITY_HOSTS: the hosts its instance discovery knows. Any other
# host (the local mock) needs instance_discovery=False, or MSAL calls the real Entra first.
MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
        "login-us.microsoftonline.com",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login.sovcloud-identity.fr",
        "login.sovcloud-identity.de",
        "login.sovcloud-identity.sg",
    }
)
# MSAL adds these itself and raises ValueError if the app asks for them.
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
# Routes the app owns; the redirect URI's path must not shadow them.
APP_ROUTES = frozenset({"/", "/login", "/logout", "/profile", "/healthz"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Every environment variable `Settings.from_env` reads (launchers clear inherited ones).
ENV_VARIABLES = (
    "TENANT_ID",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "MANAGED_IDENTITY_CLIENT_ID",
    "AUTHORITY",
    "REDIRECT_URI",
    "POST_LOGOUT_REDIRECT_URI",
    "GRAPH_ENDPOINT",
    "SCOPE",
    "SECRET_KEY",
    "CA_BUNDLE",
    "TRUST_PROXY",
    "SESSION_DIR",
    "APP_ENV",
    "RESPONSE_MODE",
    "LOG_LEVEL",
    "HTTP_TIMEOUT",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(Exception):
    """The environment is incomplete or malformed; `problems` lists every issue found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "invalid client_app configuration:\n" + "\n".join(f"  - {p}" for p in self.problems)
        )


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Typed, validated configuration of the client app (see `from_env` for the variables)."""

    tenant_id: str
    """TENANT_ID: tenant GUID, or a domain / `organizations` / `common`."""
    client_id: str
    """CLIENT_ID: the app registration's application (client) id."""
    client_secret: str = field(repr=False)
    """CLIENT_SECRET: the app's client secret (sent to the token endpoint only); empty when
    the app is secretless (`managed_identity_client_id`)."""
    authority: str
    """AUTHORITY: `https://login.microsoftonline.com/<TENANT_ID>` or the mock's authority."""
    redirect_uri: str
    """REDIRECT_URI: absolute; its path is where the callback route is mounted."""
    secret_key: str = field(repr=False)
    """SECRET_KEY: Flask secret; random (with a warning) only when APP_ENV=development."""
    post_logout_redirect_uri: str
    """POST_LOGOUT_REDIRECT_URI: where Entra returns after sign-out; default REDIRECT_URI's
    origin + "/"."""
    graph_endpoint: str = DEFAULT_GRAPH_ENDPOINT
    """GRAPH_ENDPOINT: Microsoft Graph base URL, without a trailing slash."""
    scopes: tuple[str, ...] = ("User.Read",)
    """SCOPE: space-separated resource scopes (MSAL adds openid/profile/offline_access)."""
    ca_bundle: str | None = None
    """CA_BUNDLE: PEM file trusted for every outgoing HTTPS call; None → requests' default
    (which honours REQUESTS_CA_BUNDLE)."""
    trust_proxy: bool = False
    """TRUST_PROXY: trust one hop of X-Forwarded-Proto/Host (only behind App Service)."""
    session_dir: str = DEFAULT_SESSION_DIR
    """SESSION_DIR: directory of the server-side session files."""
    app_env: Literal["production", "development"] = "production"
    """APP_ENV: `production` (default) or `development`."""
    response_mode: Literal["query", "form_post"] = "query"
    """RESPONSE_MODE: how Entra returns the authorization response; from the environment,
    `form_post` when REDIRECT_URI is https, else `query`."""
    log_level: str = "INFO"
    """LOG_LEVEL: DEBUG, INFO, WARNING, ERROR or CRITICAL."""
    http_timeout: float = 10.0
    """HTTP_TIMEOUT: seconds allowed for each outgoing HTTP call (1 to 120)."""
    managed_identity_client_id: str | None = None
    """MANAGED_IDENTITY_CLIENT_ID: with no CLIENT_SECRET, the client id of the user-assigned
    managed identity whose token is the app's client assertion (secretless: the app
    registration has a federated credential trusting it). Its token comes from the platform
    (IDENTITY_ENDPOINT and IDENTITY_HEADER on App Service, else IMDS)."""

    @property
    def secretless(self) -> bool:
        return not self.client_secret and self.managed_identity_client_id is not None

    @property
    def instance_discovery(self) -> bool:
        """False for a non-Microsoft authority host (the mock), so MSAL never calls Entra."""
        host = (urlsplit(self.authority).hostname or "").lower()
        return host in MICROSOFT_AUTHORITY_HOSTS

    @property
    def redirect_path(self) -> str:
        """The path part of REDIRECT_URI, where the callback view is mounted."""
        return urlsplit(self.redirect_uri).path

    @property
    def secure_cookies(self) -> bool:
        """Session cookies are `Secure` when the app is served over https."""
        return urlsplit(self.redirect_uri).scheme == "https"

    @property
    def tenant_is_guid(self) -> bool:
        """True when TENANT_ID pins one tenant (so ID tokens must carry that `tid`)."""
        return bool(GUID.match(self.tenant_id))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from `environ` (usually `os.environ`); raise `SettingsError` listing
        every problem at once.

        >>> Settings.from_env({"TENANT_ID": "contoso.onmicrosoft.com", "CLIENT_ID": "id",
        ...     "CLIENT_SECRET": "s", "APP_ENV": "development"}).redirect_uri
        'http://localhost:5000/getAToken'
        """
        problems: list[str] = []

        def get(name: str) -> str:
            return environ.get(name, "").strip()

        def required(name: str) -> str:
            value = get(name)
            if not value:
                problems.append(f"{name} is required")
            return value

        app_env = get("APP_ENV").lower() or "production"
        if app_env not in ("production", "development"):
            problems.append(f"APP_ENV must be 'production' or 'development', got {app_env!r}")
            app_env = "production"
        development = app_env == "development"

        tenant_id = required("TENANT_ID")
        client_id = required("CLIENT_ID")
        # No secret at all (secretless): the managed identity's token is the credential.
        managed_identity = get("MANAGED_IDENTITY_CLIENT_ID") or None
        client_secret = get("CLIENT_SECRET") if managed_identity else required("CLIENT_SECRET")
        if managed_identity and not GUID.match(managed_identity):
            problems.append(
                f"MANAGED_IDENTITY_CLIENT_ID must be a GUID (the identity's client id), "
                f"got {managed_identity!r:.60}"
            )

        authority = get("AUTHORITY").rstrip("/")
        if not authority and tenant_id:
            authority = f"{DEFAULT_AUTHORITY_HOST}/{tenant_id}"
        elif authority:
            problems.extend(_check_authority(authority))

        redirect_uri = get("REDIRECT_URI")
        if not redirect_uri and development:
            redirect_uri = DEFAULT_DEV_REDIRECT_URI
        elif not redirect_uri:
            problems.append("REDIRECT_URI is required (absolute, e.g. https://app/getAToken)")
        else:
            redirect_uri, redirect_problems = _check_redirect_uri(redirect_uri)
            problems.extend(redirect_problems)

        post_logout = get("POST_LOGOUT_REDIRECT_URI")
        if post_logout:
            problems.extend(_check_absolute_url("POST_LOGOUT_REDIRECT_URI", post_logout))
        elif redirect_uri and not any(p.startswith("REDIRECT_URI") for p in problems):
            parts = urlsplit(redirect_uri)
            post_logout = f"{parts.scheme}://{parts.netloc}/"

        graph_endpoint = get("GRAPH_ENDPOINT").rstrip("/") or DEFAULT_GRAPH_ENDPOINT
        graph_parts = urlsplit(graph_endpoint)
        if graph_parts.scheme != "https" or not graph_parts.hostname:
            problems.append(f"GRAPH_ENDPOINT must be an https URL, got {graph_endpoint!r}")

        scopes = tuple(get("SCOPE").split()) or ("User.Read",)
        reserved = sorted(RESERVED_SCOPES.intersection(scopes))
        if reserved:
            problems.append(f"SCOPE must not contain {', '.join(reserved)} (MSAL always adds them)")

        secret_key = get("SECRET_KEY")
        if not secret_key and development:
            # A per-process key: fine for one local worker, useless for several.
            secret_key = secrets.token_urlsafe(32)
            logger.warning("SECRET_KEY is not set; using a random key (APP_ENV=development)")
        elif not secret_key:
            problems.append("SECRET_KEY is required unless APP_ENV=development")

        ca_bundle = get("CA_BUNDLE") or None
        if ca_bundle and not os.path.isfile(ca_bundle):
            problems.append(f"CA_BUNDLE is not a readable file: {ca_bundle!r}")

        trust_proxy = _parse_bool("TRUST_PROXY", get("TRUST_PROXY"), problems)

        # form_post keeps the code out of URLs and history (RFC 9700 §4.3.1; MSAL warns
        # without it), but its callback is a cross-site POST: the session cookie goes with it
        # only as SameSite=None, which browsers accept only with Secure (https). On an http
        # redirect URI (local development) the pending sign-in would look lost: query there.
        default_mode = "form_post" if redirect_uri.startswith("https://") else "query"
        response_mode = get("RESPONSE_MODE").lower() or default_mode
        if response_mode not in ("query", "form_post"):
            problems.append(f"RESPONSE_MODE must be 'query' or 'form_post', got {response_mode!r}")

        http_timeout = 10.0
        if get("HTTP_TIMEOUT"):
            try:
                http_timeout = float(get("HTTP_TIMEOUT"))
            except ValueError:
                http_timeout = -1.0
            if not 1 <= http_timeout <= 120:
                problems.append(
                    f"HTTP_TIMEOUT must be seconds from 1 to 120, got {get('HTTP_TIMEOUT')!r:.20}"
                )

        log_level = get("LOG_LEVEL").upper() or "INFO"
        if log_level not in LOG_LEVELS:
            problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")

        if problems:
            raise SettingsError(problems)
        return cls(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            authority=authority,
            redirect_uri=redirect_uri,
            secret_key=secret_key,
            post_logout_redirect_uri=post_logout,
            graph_endpoint=graph_endpoint,
            scopes=scopes,
            ca_bundle=ca_bundle,
            trust_proxy=trust_proxy,
            session_dir=get("SESSION_DIR") or DEFAULT_SESSION_DIR,
            app_env=app_env,  # type: ignore[arg-type]  # checked above
            response_mode=response_mode,  # type: ignore[arg-type]  # checked above
            log_level=log_level,
            http_timeout=http_timeout,
            managed_identity_client_id=managed_identity,
        )


def _check_authority(authority: str) -> list[str]:
    # MSAL's canonicalize() wants https://host/<at least one segment>.
    parts = urlsplit(authority)
    if parts.scheme != "https" or not parts.hostname or parts.path.strip("/") == "":
        return [f"AUTHORITY must be https://host/<tenant>, got {authority!r}"]
    if parts.query or parts.fragment:
        return [f"AUTHORITY must not have a query or fragment, got {authority!r}"]
    return []


def _check_absolute_url(name: str, url: str) -> list[str]:
    # Entra allows http only for localhost redirect URIs; so do we.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{name} must be an absolute http(s) URL, got {url!r}"]
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return [f"{name} must use https unless the host is localhost, got {url!r}"]
    if parts.fragment:
        return [f"{name} must not have a fragment, got {url!r}"]
    return []


def _check_redirect_uri(url: str) -> tuple[str, list[str]]:
    problems = _check_absolute_url("REDIRECT_URI", url)
    if problems:
        return url, problems
    parts = urlsplit(url)
    if parts.path == "":
        # "https://app.example" → the callback path of Learn's Flask quickstart (/getAToken).
        return url + DEFAULT_REDIRECT_PATH, []
    if parts.path.rstrip("/") in {p.rstrip("/") for p in APP_ROUTES}:
        return url, [f"REDIRECT_URI's path must not be one of the app's pages, got {url!r}"]
    return url, []


def _parse_bool(name: str, raw: str, problems: list[str]) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.append(f"{name} must be true or false, got {raw!r}")
    return False
