"""`Hosts`: the Host header values the mock answers, and the base URL of every URL it hands out.

The issuer and the endpoints of discovery, a token's `iss`, Graph's `@odata.nextLink`, an
error's `error_uri`, the device code's `verification_uri`, and the audience a client assertion
must name are all built from one base URL. Taken from the Host header as sent, `Host:
evil.example` made the mock hand out evil.example everywhere, and accept an assertion made
out to it. So the base URL is the configured public URL (`mock-entra serve --public-url`),
else the host the client called when it is one the mock serves under (the loopback names and
the bound address at the bound port, and the names in its TLS certificate); any other Host
is refused before the request reaches an endpoint. How Entra's front door answers a host it
does not serve is not documented; the mock answers as Windows' HTTP.sys (IIS) answers a host
no site is bound to: 400 "Bad Request - Invalid Hostname" (Learn archive, "HTTP
400 Bad Request when client sends invalid HTTP:Host header value",
https://learn.microsoft.com/archive/blogs/webtopics/http-400-bad-request-when-client-sends-invalid-httphost-header-value).
`X-Forwarded-Host` and the like are never read: anyone can send them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mock_entra.web.wire import BASE_URL_KEY, SECURITY_HEADERS

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
WILDCARDS = ("", "0.0.0.0", "::", "[::]")  # addresses that bind every interface: no one name
DEFAULT_PORTS = {"https": 443, "http": 80}
# host[:port] as RFC 9110 allows it (lower-cased first): a DNS name or an IP literal.
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?")
_PUBLIC_URL = re.compile(
    r"(https)://(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?/?"
)
# HTTP.sys's own answer, as IIS users quote it.
INVALID_HOSTNAME = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    b"<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n"
    b'<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
    b"<BODY><h2>Bad Request - Invalid Hostname</h2>\r\n"
    b"<hr><p>HTTP Error 400. The request hostname is invalid.</p>\r\n"
    b"</BODY></HTML>\r\n"
)


class PublicUrlError(ValueError):
    """A public URL the mock cannot serve under (the message says why)."""


_SEEN_HOSTS = 64


@dataclass(frozen=True)
class Hosts:
    """The (host name, port) pairs answered, a port of None meaning any port (an in-process
    mock has no socket), and the public URL, when one is configured."""

    accepted: frozenset[tuple[str, int | None]] = frozenset((name, None) for name in LOOPBACK)
    public_url: str | None = None
    # Host header -> base URL (or None: refused), for the few hosts a mock is called by: the
    # check runs on every request. Bounded: other Host values are answered uncached.
    _seen: dict[tuple[str, str], str | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.public_url is not None:  # its own host is answered too, whatever else is
            url = parse_public_url(self.public_url)
            object.__setattr__(self, "public_url", url)
            object.__setattr__(self, "accepted", self.accepted | {_authority(url)})

    @classmethod
    def serving(
        cls,
        bind_host: str,
        port: int,
        *,
        certificate: Path | None = None,
        public_url: str | None = None,
    ) -> Hosts:
        """What `mock-entra serve` answers: the loopback names, the bound address (unless it
        binds every interface) and the names in the TLS certificate, at the bound port."""
        names = {*LOOPBACK, *(certificate_names(certificate) if certificate else ())}
        bound = _bracketed(bind_host.lower())
        if bound not in WILDCARDS:
            names.add(bound)
        return cls(frozenset((name, port) for name in names), public_url)

    @classmethod
    def of(cls, names: Iterable[str], *, port: int | None = None) -> Hosts:
        """These names at `port` (None: any port), and the loopback names at any port."""
        accepted = {(name.lower(), port) for name in names}
        return cls(frozenset(accepted | {(name, None) for name in LOOPBACK}))

    def base_url(self, environ: dict) -> str | None:
        """The base URL for this request; None when its Host is not one the mock answers."""
        key = (environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", ""))
        try:
            return self._seen[key]
        except KeyError:
            pass
        base = self._base_url(*key)
        if len(self._seen) < _SEEN_HOSTS:
            self._seen[key] = base
        return base

    def _base_url(self, scheme: str, host: str) -> str | None:
        found = _HOST.fullmatch(host.lower())
        if found is None:  # none (HTTP/1.1 requires one: RFC 9112 §3.2), or not a host
            return None
        name, default = found.group(1), DEFAULT_PORTS.get(scheme)
        port = int(found.group(2)) if found.group(2) else default
        if (name, port) not in self.accepted and (name, None) not in self.accepted:
            return None
        if self.public_url is not None:
            return self.public_url
        return f"{scheme}://{name}" + ("" if port == default else f":{port}")


def check(hosts: Hosts, environ: dict, start_response) -> list[bytes] | None:
    """Put the request's base URL in `environ`; or answer 400 Invalid Hostname (returned)."""
    base = hosts.base_url(environ)
    if base is not None:
        environ[BASE_URL_KEY] = base
        return None
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "text/html; charset=us-ascii"),
            ("Content-Length", str(len(INVALID_HOSTNAME))),
            *SECURITY_HEADERS,
        ],
    )
    return [INVALID_HOSTNAME]


def parse_public_url(value: str) -> str:
    """`value` as the mock's public URL, `https://host[:port]` (lower case, no slash), or
    PublicUrlError: clients reach an Entra authority over https, at its root."""
    found = _PUBLIC_URL.fullmatch(value.strip().lower())
    if found is None:
        raise PublicUrlError(
            f"{value!r:.100} is not a public URL: expected https://host or https://host:port "
            "(no path, query or user)"
        )
    if found.group(3) is not None and not 0 < int(found.group(3)) < 65536:
        raise PublicUrlError(f"{value!r:.100}: the port must be 1 to 65535")
    return value.strip().lower().rstrip("/").removesuffix(":443")


def certificate_names(path: Path) -> set[str]:
    """The DNS names and IP addresses (IPv6 in brackets) a TLS certificate is valid for."""
    from cryptography import x509  # only `mock-entra serve` reads the certificate

    cert = x509.load_pem_x509_certificate(path.read_bytes())
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    names = {name.lower() for name in sans.get_values_for_type(x509.DNSName)}
    names |= {_bracketed(str(ip)) for ip in sans.get_values_for_type(x509.IPAddress)}
    return {name for name in names if "*" not in name}  # a wildcard names no one host


def _authority(url: str) -> tuple[str, int]:
    found = _PUBLIC_URL.fullmatch(url)
    assert found is not None, url  # `parse_public_url` made it
    return found.group(2), int(found.group(3) or DEFAULT_PORTS[found.group(1)])


def _bracketed(host: str) -> str:
    """An IPv6 address as a Host header writes it (`[::1]`); any other host as it is."""
    try:
        return f"[{ipaddress.IPv6Address(host.strip('[]'))}]"
    except ValueError:
        return host
