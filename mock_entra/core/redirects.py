"""Redirect URIs as Entra registers and matches them.

Learn, "Redirect URI (reply URL) restrictions and limitations":
- a redirect URI starts with `https`; `http` only for `localhost` (loopback) URIs;
- "Localhost exceptions": for `localhost` and `127.0.0.1` the port is ignored when matching
  (RFC 8252 §7.3: a native app listens on an ephemeral port), so `http://localhost/cb`
  registered matches `http://localhost:53117/cb` asked; the IPv6 loopback `[::1]` is "not
  currently supported" (no port rule for it);
- URIs are case-sensitive (the path; scheme and host are not, as in any URL), and a URI
  registered without a path is returned with a trailing slash (`https://contoso.com` ->
  `https://contoso.com/`), so with or without the slash it is the same URI; a URI with a path
  matches only with the same trailing slash or none;
- wildcards (`https://*.contoso.com`) are not supported for apps that sign in personal
  accounts and discouraged for the others: the mock matches no wildcard (a config with one is
  refused); at most 256 characters; none of `! $ ' ( ) , ;`.
- "Don't register multiple redirect URIs where only the port differs": Entra then picks one
  of them and its platform; the mock prefers an exact match, then the first registered one.

The platform the matched URI is registered under (web, spa, public client) decides how a
code sent there may be redeemed (`grants`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from mock_entra.core.config import AppRegistration

Platform = Literal["web", "spa", "public"]
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
MAX_URI_LENGTH = 256
FORBIDDEN_CHARACTERS = "!$'(),;"


@dataclass(frozen=True)
class Registered:
    """A registered redirect URI and the platform it is registered under."""

    uri: str
    platform: Platform


@dataclass(frozen=True)
class _Key:
    scheme: str
    host: str
    port: int | None
    path: str
    query: str

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS


def _key(uri: str) -> _Key | None:
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or parts.fragment:
        return None
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme)
    return _Key(
        scheme=scheme,
        host=(parts.hostname or "").lower(),
        port=None if port == default else port,
        path=parts.path or "/",  # no path: the same URI as with "/" (the trailing-slash rule)
        query=parts.query,
    )


def registered(app: AppRegistration) -> list[Registered]:
    """Every redirect URI of the app with its platform, in the order Entra would list them."""
    return [
        *(Registered(u, "web") for u in app.redirect_uris),
        *(Registered(u, "spa") for u in app.spa_redirect_uris),
        *(Registered(u, "public") for u in app.public_client_redirect_uris),
    ]


def match(app: AppRegistration, asked: str) -> Registered | None:
    """The registered URI that `asked` matches, or None (AADSTS50011)."""
    if len(asked) > 2 * MAX_URI_LENGTH:  # longer than anything that can be registered
        return None
    want = _key(asked)
    if want is None:
        return None
    candidates = registered(app)
    for entry in candidates:
        if _key(entry.uri) == want:
            return entry
    if want.loopback:  # Learn: "the port component ... is ignored" for localhost
        for entry in candidates:
            have = _key(entry.uri)
            if have is not None and have.loopback and _same_but_port(have, want):
                return entry
    return None


def _same_but_port(a: _Key, b: _Key) -> bool:
    return (a.scheme, a.host, a.path, a.query) == (b.scheme, b.host, b.path, b.query)


def reply_to(asked: str) -> str:
    """Where the answer goes: the URI the client asked for (with its own port), with the
    trailing slash Entra adds to a URI without a path (Learn: query and fragment modes)."""
    parts = urlsplit(asked)
    return parts._replace(path="/").geturl() if not parts.path else asked


def problem(uri: str, platform: Platform) -> str | None:
    """Why Entra would not let this URI be registered under `platform`; None when it would."""
    if len(uri) > MAX_URI_LENGTH:
        return f"longer than {MAX_URI_LENGTH} characters"
    if "*" in uri:
        return "wildcards are not supported (Learn: 'Redirect URI restrictions')"
    bad = sorted({c for c in uri if c in FORBIDDEN_CHARACTERS})
    if bad:
        return f"the characters {' '.join(bad)} are not supported in redirect URIs"
    key = _key(uri)
    if key is None:
        return "not an absolute URI without a fragment"
    if platform == "public" and key.scheme not in ("http", "https"):
        return None  # a custom scheme of a mobile or desktop app, e.g. msal<client id>://auth
    if key.scheme == "https" and key.host:
        return None
    if key.scheme == "http" and key.loopback:
        return None
    return "must start with https:// (http:// only for localhost or 127.0.0.1)"
