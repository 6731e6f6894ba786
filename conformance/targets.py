"""What the suites run against: a `Target`, built from the local mock or from `ENTRA_*`.

The suites never ask which kind of target they have, except through the `mock_only` and
`live_only` markers: everything they need (authority, app URL, users, CA bundle) is here.
`live_target_from_env` reads the environment once and raises one `TargetConfigError` naming
every missing, malformed or placeholder variable; `unreachable` then checks, once, that the
authority's and the app's hosts answer at all (not 51 failed tests when the network is down).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import urlsplit

# The app's own list: instance discovery only makes sense for Microsoft's hosts.
from client_app.settings import DEFAULT_AUTHORITY_HOST, GUID, MICROSOFT_AUTHORITY_HOSTS

if TYPE_CHECKING:
    from mock_entra import MockEntra

DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com/v1.0"
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"

# The live target's environment: name -> what it is (also the text of .env.example).
LIVE_REQUIRED = {
    "ENTRA_TENANT_ID": "tenant GUID of the test tenant",
    "ENTRA_CLIENT_ID": "application (client) id of the app registration",
    "ENTRA_CLIENT_SECRET": "a client secret *value* of that app registration",
    "ENTRA_APP_URL": "public URL of the deployed client app, e.g. https://app.azurewebsites.net",
    "ENTRA_USERNAME": "UPN of a cloud-only test user without MFA",
    "ENTRA_PASSWORD": "that user's password",
}
LIVE_OPTIONAL = {
    "ENTRA_USERNAME_2": "a second test user (second-user tests skip without it)",
    "ENTRA_PASSWORD_2": "the second user's password",
    "ENTRA_AUTHORITY": f"default {DEFAULT_AUTHORITY_HOST}/<ENTRA_TENANT_ID>",
    "ENTRA_GRAPH_ENDPOINT": f"default {DEFAULT_GRAPH_ENDPOINT}",
    "ENTRA_REDIRECT_URI": "default <ENTRA_APP_URL>/getAToken",
    "ENTRA_CA_BUNDLE": "PEM file to trust for the authority and Graph (a local stand-in tenant)",
    "ENTRA_API_SCOPE": "a delegated scope of a web API the app may call, e.g. api://my-api/Read "
    "(the API-token tests skip without it)",
    "ENTRA_API_TOKEN_VERSION": "1 or 2: that API's accessTokenAcceptedVersion (default 1)",
}


# Values a copied, unfilled .env.example holds: `<your-...>` and the all-zero GUID.
_PLACEHOLDER = re.compile(r"<[^<>]*>|^0{8}-0{4}-0{4}-0{4}-0{12}$")
REACH_TIMEOUT = 5.0  # seconds to open a TCP connection: a live tenant answers in well under 1


def placeholder_problems(environ: Mapping[str, str]) -> list[str]:
    """A problem per ENTRA_* variable still holding .env.example's placeholder value."""
    found = []
    for name in (*LIVE_REQUIRED, *LIVE_OPTIONAL):
        value = environ.get(name, "").strip()
        if value and _PLACEHOLDER.search(value):
            found.append(f"{name} is still a placeholder ({value!r}): put in your own value")
    return found


def unreachable(target: Target, timeout: float = REACH_TIMEOUT) -> str | None:
    """None when a TCP connection opens to the authority's host and to the app's; else one
    line naming each host that cannot be reached and why (checked once, before any test)."""
    failures = []
    for url in dict.fromkeys((target.authority, target.app_url)):
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except socket.gaierror:
            failures.append(f"{host} (the name does not resolve: no network, or a DNS problem)")
        except TimeoutError:
            failures.append(f"{host}:{port} (no answer within {timeout:g} s)")
        except OSError as error:
            failures.append(f"{host}:{port} ({error.strerror or error})")
    if not failures:
        return None
    return (
        f"cannot reach {'; '.join(failures)}: check the network, ENTRA_AUTHORITY and ENTRA_APP_URL"
    )


class User(NamedTuple):
    """A test user; `display_name` is None when the target does not say (live)."""

    username: str
    password: str
    display_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Target:
    """Everything a suite needs to know about the identity provider and the app under test."""

    kind: Literal["mock", "live"]
    authority: str  # https://host/<tenant>, no trailing slash
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    app_url: str  # the client app's origin, no trailing slash
    redirect_uri: str  # registered for client_id; the app's callback
    graph_endpoint: str  # no trailing slash
    ca_bundle: str | None  # PEM trusted for the authority and Graph; None: system trust
    users: tuple[User, ...] = field(repr=False)
    mock: MockEntra | None = field(default=None, repr=False, compare=False)
    api_scope: str | None = None  # a delegated scope of a web API the app may call
    api_token_version: int = 1  # that API's accessTokenAcceptedVersion

    @property
    def authority_host(self) -> str:
        """`https://host[:port]` of the authority."""
        parts = urlsplit(self.authority)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_microsoft_host(self) -> bool:
        """Whether MSAL's instance discovery knows the authority's host."""
        return (urlsplit(self.authority).hostname or "").lower() in MICROSOFT_AUTHORITY_HOSTS

    @property
    def discovery_url(self) -> str:
        """The v2.0 OpenID configuration of the authority."""
        return f"{self.authority}/v2.0/.well-known/openid-configuration"

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where the app asks Entra to return after sign-out (its home page)."""
        return self.app_url + "/"

    def app(self, path: str = "/") -> str:
        """An absolute URL of the client app."""
        return self.app_url + (path if path.startswith("/") else "/" + path)


class TargetConfigError(Exception):
    """The live target's environment is incomplete; `problems` lists every issue."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "--target live cannot start:\n"
            + "\n".join(f"  - {p}" for p in self.problems)
            + "\nSet them in the environment (see .env.example)."
        )


def _https_url(name: str, value: str, problems: list[str], *, allow_http_local: bool) -> None:
    parts = urlsplit(value)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    secure = parts.scheme == "https" or (allow_http_local and parts.scheme == "http" and local)
    if secure and parts.hostname:
        return
    problems.append(f"{name} must be an https URL (http only for localhost), got {value!r}")


def live_target_from_env(environ: Mapping[str, str] = os.environ) -> Target:
    """The live target described by `ENTRA_*` variables (see `LIVE_REQUIRED`/`LIVE_OPTIONAL`)."""

    def get(name: str) -> str:
        return environ.get(name, "").strip()

    problems: list[str] = []
    missing = [name for name in LIVE_REQUIRED if not get(name)]
    if missing:
        problems.append("missing environment variables: " + ", ".join(missing))
    placeholders = placeholder_problems(environ)
    problems += placeholders
    if placeholders:  # the checks below would only repeat them in other words
        raise TargetConfigError(problems)
    client_id = get("ENTRA_CLIENT_ID")
    if client_id and not GUID.match(client_id):
        problems.append(
            f"ENTRA_CLIENT_ID must be the application (client) id, a GUID, got {client_id!r}"
        )

    tenant_id = get("ENTRA_TENANT_ID")
    app_url = get("ENTRA_APP_URL").rstrip("/")
    if app_url:
        _https_url("ENTRA_APP_URL", app_url, problems, allow_http_local=True)
    authority = get("ENTRA_AUTHORITY").rstrip("/") or (
        f"{DEFAULT_AUTHORITY_HOST}/{tenant_id}" if tenant_id else ""
    )
    if get("ENTRA_AUTHORITY"):
        _https_url("ENTRA_AUTHORITY", authority, problems, allow_http_local=False)
    graph = get("ENTRA_GRAPH_ENDPOINT").rstrip("/") or DEFAULT_GRAPH_ENDPOINT
    _https_url("ENTRA_GRAPH_ENDPOINT", graph, problems, allow_http_local=False)
    redirect_uri = get("ENTRA_REDIRECT_URI") or (f"{app_url}/getAToken" if app_url else "")
    if get("ENTRA_REDIRECT_URI"):
        _https_url("ENTRA_REDIRECT_URI", redirect_uri, problems, allow_http_local=True)
    ca_bundle = get("ENTRA_CA_BUNDLE") or None
    if ca_bundle and not os.path.isfile(ca_bundle):
        problems.append(f"ENTRA_CA_BUNDLE is not a readable file: {ca_bundle!r}")

    users = [User(get("ENTRA_USERNAME"), get("ENTRA_PASSWORD"))]
    second = (get("ENTRA_USERNAME_2"), get("ENTRA_PASSWORD_2"))
    if all(second):
        users.append(User(*second))
    elif any(second):
        problems.append("ENTRA_USERNAME_2 and ENTRA_PASSWORD_2 must be set together")
    api_version = get("ENTRA_API_TOKEN_VERSION") or "1"
    if api_version not in ("1", "2"):
        problems.append(f"ENTRA_API_TOKEN_VERSION must be 1 or 2, got {api_version!r}")

    if problems:
        raise TargetConfigError(problems)
    return Target(
        kind="live",
        authority=authority,
        tenant_id=tenant_id,
        client_id=get("ENTRA_CLIENT_ID"),
        client_secret=get("ENTRA_CLIENT_SECRET"),
        app_url=app_url,
        redirect_uri=redirect_uri,
        graph_endpoint=graph,
        ca_bundle=ca_bundle,
        users=tuple(users),
        api_scope=get("ENTRA_API_SCOPE") or None,
        api_token_version=int(api_version) if api_version in ("1", "2") else 1,
    )


def describe(target: Target) -> dict[str, Any]:
    """The target's non-secret facts, for the run's results file and report header."""
    return {
        "kind": target.kind,
        "authority": target.authority,
        "tenant_id": target.tenant_id,
        "client_id": target.client_id,
        "app_url": target.app_url,
        "redirect_uri": target.redirect_uri,
        "graph_endpoint": target.graph_endpoint,
        "users": [u.username for u in target.users],
        "api_scope": target.api_scope,
        "api_token_version": target.api_token_version,
    }


def live_env(target: Target) -> dict[str, str]:
    """`ENTRA_*` variables describing `target`, so `--target live` can run against it (used to
    test the live code paths with the local stack standing in for a tenant)."""
    env = {
        "ENTRA_TENANT_ID": target.tenant_id,
        "ENTRA_CLIENT_ID": target.client_id,
        "ENTRA_CLIENT_SECRET": target.client_secret,
        "ENTRA_APP_URL": target.app_url,
        "ENTRA_AUTHORITY": target.authority,
        "ENTRA_GRAPH_ENDPOINT": target.graph_endpoint,
        "ENTRA_REDIRECT_URI": target.redirect_uri,
        "ENTRA_CA_BUNDLE": target.ca_bundle or "",
        "ENTRA_USERNAME": target.users[0].username,
        "ENTRA_PASSWORD": target.users[0].password,
    }
    if target.api_scope:
        env["ENTRA_API_SCOPE"] = target.api_scope
        env["ENTRA_API_TOKEN_VERSION"] = str(target.api_token_version)
    if len(target.users) > 1:
        env["ENTRA_USERNAME_2"] = target.users[1].username
        env["ENTRA_PASSWORD_2"] = target.users[1].password
    return env
