"""An app registration's certificate credentials (`key_credentials`): PEM certificates parsed
once into `cryptography` objects with the thumbprints client assertions name them by.

MSAL and azure-identity put the certificate's SHA-1 thumbprint in the assertion's `x5t`
header and, newer ones, the SHA-256 one in `x5t#S256` (both base64url of the DER digest,
RFC 7515 §4.1.7-8); Entra finds the registered key by either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_entra.core.b64 import b64url

MAX_PEM_CHARS = 64 * 1024  # one certificate, or a short chain; not a file dump


@dataclass(frozen=True)
class KeyCredential:
    """One registered certificate."""

    certificate: Any  # cryptography.x509.Certificate (imported lazily: cold start)
    sha1: bytes  # DER digest: the portal's "thumbprint" (hex, upper case)
    sha256: bytes

    @property
    def x5t(self) -> str:
        return b64url(self.sha1)

    @property
    def x5t_s256(self) -> str:
        return b64url(self.sha256)

    @property
    def thumbprint(self) -> str:
        """The hex thumbprint the portal shows and MSAL's `thumbprint` option takes."""
        return self.sha1.hex().upper()

    @property
    def public_key(self) -> Any:
        return self.certificate.public_key()


def parse_key_credential(pem: str) -> KeyCredential:
    """The first certificate of a PEM text; ValueError with a short reason otherwise."""
    if len(pem) > MAX_PEM_CHARS:
        raise ValueError(f"longer than {MAX_PEM_CHARS} characters; not one PEM certificate")
    if "-----BEGIN CERTIFICATE-----" not in pem:
        hint = " (that is a private key: register the certificate)" if "PRIVATE KEY" in pem else ""
        raise ValueError(f"no -----BEGIN CERTIFICATE----- in it{hint}")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        cert = x509.load_pem_x509_certificate(pem.strip().encode())
    except ValueError as exc:
        raise ValueError(f"not a readable PEM certificate: {exc}") from None
    if not isinstance(cert.public_key(), rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("only RSA and EC certificates can sign client assertions")
    return KeyCredential(
        certificate=cert,
        sha1=cert.fingerprint(hashes.SHA1()),  # x5t is SHA-1 by spec
        sha256=cert.fingerprint(hashes.SHA256()),
    )
