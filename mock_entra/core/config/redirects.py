"""Redirect URIs as Entra registers and matches them.

Learn, "Redirect URI (reply URL) restrictions and limitations"
(https://learn.microsoft.com/entra/identity-platform/reply-url):
- a redirect URI starts with `https`; `http` only for `localhost` (loopback) URIs;
- "Localhost exceptions": for `localhost` and `127.0.0.1` the port is ignored when matching
  (RFC 8252 §7.3: a native app listens on an ephemeral port), so `http://localhost/cb`
  registered matches `http://localhost:53117/cb` asked; the IPv6 loopback `[::1]` is "not
  currently supported" (no port rule for it);
- URIs are case-sensitive, and a URI registered without a path is returned with a trailing
  slash (`https://contoso.com` -> `https://contoso.com/`), so with or without the slash it is
  the same URI; a URI with a path matches only with the same trailing slash or none;
- wildcards (`https://*.contoso.com`) are not supported for apps that sign in personal
  accounts and discouraged for the others: the mock matches no wildcard (a config with one is
  refused); at most 256 characters; none of `! $ ' ( ) , ;`.
- "Don't register multiple redirect URIs where only the port differs": Entra then picks one
  of them and its platform; the mock prefers an exact match, then the first registered one.

Beyond those two exceptions the asked URI is compared with the registered string as it is:
no URL parsing, which would read `http://evil.example\\@localhost/` as localhost (a browser
goes to evil.example), strip a leading space or newline, drop an empty `?`, or lower-case a
scheme. Entra does the same: "Reply address did not match because of case sensitivity" for
a host or scheme too (microsoftgraph/microsoft-graph-explorer-v4#540; "Server doesn't allow
case insensitive comparison", AzureAD/azure-activedirectory-library-for-objc#995).

The platform the matched URI is registered under (web, spa, public client) decides how a
code sent there may be redeemed (`grants`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

Platform = Literal["web", "spa", "public"]
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
MAX_URI_LENGTH = 256
FORBIDDEN_CHARACTERS = "!$'(),;"

# scheme "://" authority, then the rest (path, query) as written.
_HIERARCHICAL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# A registrable authority: a DNS name or an IP literal, and a port (no user info, no "\").
_AUTHORITY = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)
# A loopback URI's scheme, host and port, the port's digits alone in group 1. The scheme and
# host are matched in any case only to recognise the form: the rest is compared as written.
_LOOPBACK = re.compile(r"http://(?:localhost|127\.0\.0\.1)(?::(\d{1,5}))?(?=[/?]|$)", re.IGNORECASE)


class RedirectUris(Protocol):
    """What these rules read of an app registration (`model.AppRegistration`): its redirect
    URIs per platform."""

    @property
    def redirect_uris(self) -> tuple[str, ...]: ...
    @property
    def spa_redirect_uris(self) -> tuple[str, ...]: ...
    @property
    def public_client_redirect_uris(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Registered:
    """A registered redirect URI and the platform it is registered under."""

    uri: str
    platform: Platform


def registered(app: RedirectUris) -> list[Registered]:
    """Every redirect URI of the app with its platform, in the order Entra would list them."""
    return [
        *(Registered(u, "web") for u in app.redirect_uris),
        *(Registered(u, "spa") for u in app.spa_redirect_uris),
        *(Registered(u, "public") for u in app.public_client_redirect_uris),
    ]


def match(app: RedirectUris, asked: str) -> Registered | None:
    """The registered URI that `asked` matches, or None (AADSTS50011)."""
    if len(asked) > 2 * MAX_URI_LENGTH or not _printable(asked):
        return None
    candidates = registered(app)
    want = with_slash(asked)
    for entry in candidates:
        if with_slash(entry.uri) == want:
            return entry
    want_portless = _without_port(want)
    if want_portless is not None:  # Learn: "the port component ... is ignored" for localhost
        for entry in candidates:
            if _without_port(with_slash(entry.uri)) == want_portless:
                return entry
    return None


def with_slash(uri: str) -> str:
    """The URI with the "/" Entra gives one without a path (`https://contoso.com` and
    `https://contoso.com?x=1` are `https://contoso.com/` and `https://contoso.com/?x=1`); any
    other URI as it is."""
    head = _HIERARCHICAL.match(uri)
    if head is not None and uri[head.end() : head.end() + 1] in ("", "?"):
        return f"{uri[: head.end()]}/{uri[head.end() :]}"
    return uri


def _without_port(uri: str) -> str | None:
    """A loopback URI without its port (as written otherwise); None for any other URI."""
    found = _LOOPBACK.match(uri)
    if found is None:
        return None
    port = found.group(1)
    if port is None:
        return uri
    if not 0 < int(port) < 65536:
        return None
    return uri[: found.start(1) - 1] + uri[found.end(1) :]


def _printable(uri: str) -> bool:
    """No whitespace, control characters or backslash: a browser strips, drops or rewrites
    them (WHATWG URL), so a URI with one would not go where its text says."""
    return uri.isprintable() and " " not in uri and "\\" not in uri


def reply_to(asked: str) -> str:
    """Where the answer goes: the URI the client asked for (with its own port), with the
    trailing slash Entra adds to a URI without a path (Learn: query and fragment modes)."""
    return with_slash(asked)


def problem(uri: str, platform: Platform) -> str | None:
    """Why Entra would not let this URI be registered under `platform`; None when it would."""
    if len(uri) > MAX_URI_LENGTH:
        return f"longer than {MAX_URI_LENGTH} characters"
    if "*" in uri:
        return "wildcards are not supported (Learn: 'Redirect URI restrictions')"
    bad = sorted({c for c in uri if c in FORBIDDEN_CHARACTERS})
    if bad:
        return f"the characters {' '.join(bad)} are not supported in redirect URIs"
    if not _printable(uri):
        return "spaces, control characters and backslashes are not supported"
    if "#" in uri:
        return "a redirect URI has no fragment (#)"
    head = _HIERARCHICAL.match(uri)
    if head is None or head.group(1).lower() not in ("http", "https"):
        if platform == "public" and _SCHEME.match(uri):
            return None  # a custom scheme of a mobile or desktop app, e.g. msal<client id>://auth
        return "must start with https:// (http:// only for localhost or 127.0.0.1)"
    if not _AUTHORITY.fullmatch(head.group(2)):
        return "not a host name or IP address with an optional port (no user@, no empty port)"
    if head.group(1).lower() == "https":
        return None
    if _LOOPBACK.match(uri) is not None:
        return None
    return "must start with https:// (http:// only for localhost or 127.0.0.1)"
