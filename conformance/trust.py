"""TLS trust for the test process and the browser, from one CA bundle.

Two traps this module exists for:

* `requests` lets `REQUESTS_CA_BUNDLE` (set on this machine and many CI images) override a
  Session's `verify` *attribute*; only a `verify` passed per request wins. `TrustingSession`
  (the app's `AppHttpSession`) therefore fills it in on every call.
* Chromium reads neither `REQUESTS_CA_BUNDLE` nor a PEM file. Instead of turning certificate
  checks off, `spki_pins` verifies the server's chain here, in Python, against the same CA
  bundle, and returns the leaf's public-key hash for `--ignore-certificate-errors-spki-list`:
  the browser then trusts exactly the keys that the CA bundle vouches for, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from client_app.http_client import AppHttpSession

DEFAULT_TIMEOUT = 15.0


class TrustingSession(AppHttpSession):
    """The app's own HTTP client (`verify=ca_bundle` on every call, which `REQUESTS_CA_BUNDLE`
    cannot override, and a timeout), for the suites' direct calls. `ca_bundle=None`: the
    default trust store, which still honours `REQUESTS_CA_BUNDLE`."""

    def __init__(self, ca_bundle: str | None, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(ca_bundle=ca_bundle, timeout=timeout)


class TrustError(RuntimeError):
    """A server's certificate does not verify against the configured CA bundle."""


def spki_pin(url: str, ca_bundle: str, timeout: float = 10.0) -> str:
    """The base64 SHA-256 of the leaf certificate's SubjectPublicKeyInfo served at `url`,
    after verifying its chain and host name against `ca_bundle`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    context = ssl.create_default_context(cafile=ca_bundle)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as error:
        raise TrustError(f"cannot verify TLS of {host}:{port} with {ca_bundle}: {error}") from None
    if der is None:  # pragma: no cover - a verified handshake always has a peer certificate
        raise TrustError(f"{host}:{port} sent no certificate")
    return certificate_pin(x509.load_der_x509_certificate(der))


def certificate_pin(certificate: x509.Certificate) -> str:
    """The base64 SHA-256 of `certificate`'s SubjectPublicKeyInfo (Chromium's SPKI pin)."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def spki_pins(urls: Iterable[str], ca_bundle: str | None) -> list[str]:
    """Pins for every distinct https origin in `urls` (none without a CA bundle)."""
    if not ca_bundle:
        return []
    origins = dict.fromkeys(
        f"https://{p.hostname}:{p.port or 443}"
        for p in map(urlsplit, urls)
        if p.scheme == "https" and p.hostname
    )
    return sorted({spki_pin(origin, ca_bundle) for origin in origins})
