"""The state dir's key material, made and checked with `cryptography`: the local CA, the TLS
server certificate it issues, and the token-signing keys with their self-signed certificates.

Pure: this module makes and checks keys and certificates as bytes; `pki.state` decides what to
write where, under its lock.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=825)  # the longest a browser accepts for a TLS certificate
_RENEW_BEFORE = dt.timedelta(days=7)  # a certificate this close to its end is made again
SIGNING_KEY_BITS = 2048  # Entra's token-signing keys are RSA-2048 (e = 65537)


@dataclass(frozen=True)
class Pair:
    """A private key and its certificate, with both as the PEM bytes kept on disk."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "entra-lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + _VALIDITY)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca() -> Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("entra-lab local CA")
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Pair(key, cert)


def make_server_cert(ca: Pair) -> Pair:
    """The TLS certificate for localhost, 127.0.0.1 and ::1, issued by `ca`."""
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    ca_public = ca.cert.public_key()
    assert isinstance(ca_public, ec.EllipticCurvePublicKey)
    cert = (
        _builder(_name("localhost"), ca.cert.subject, key.public_key())
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Pair(key, cert)


def make_signing_key() -> Pair:
    """An RSA-2048 token-signing key and a certificate for it, self-signed as Entra's are
    (JWKS publishes it as `x5c`, its SHA-1 thumbprint as `x5t` and `kid`)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=SIGNING_KEY_BITS)
    # The subject Entra's signing certificates carry.
    return Pair(key, self_signed(key, "accounts.accesscontrol.windows.net"))


def self_signed(key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
    """A self-signed end-entity certificate for `key`: a token-signing key's, or (in tests) a
    client's certificate credential."""
    name = _name(common_name)
    return (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


# -- checking what is on disk ------------------------------------------------------------------


def load_pair(key_pem: bytes | None, cert_pem: bytes | None) -> Pair | None:
    """The pair from its PEM files, or None when either is missing, unreadable, expiring, or
    the key is not the certificate's (made again by `state.ensure_state`)."""
    if key_pem is None or cert_pem is None:
        return None
    try:
        # The files are ours (0600, written whole under the state lock), and `matches` signs
        # and verifies with them: OpenSSL's full RSA check (primality of p and q) would add
        # ~40 ms per key to every start.
        key = serialization.load_pem_private_key(key_pem, None, unsafe_skip_rsa_key_validation=True)
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        return None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return None
    pair = Pair(key, cert)
    expiring = cert.not_valid_after_utc < dt.datetime.now(dt.UTC) + _RENEW_BEFORE
    return None if expiring or not matches(pair) else pair


def matches(pair: Pair) -> bool:
    """Whether the private key signs what the certificate's public key verifies."""
    data = b"mock-entra key self-test"
    public = pair.cert.public_key()
    try:
        if isinstance(pair.key, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey):
            signature = pair.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        if isinstance(pair.key, ec.EllipticCurvePrivateKey) and isinstance(
            public, ec.EllipticCurvePublicKey
        ):
            signature = pair.key.sign(data, ec.ECDSA(hashes.SHA256()))
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            return True
    except InvalidSignature:
        pass
    return False


def issued_by(cert: x509.Certificate, ca: Pair) -> bool:
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def is_signing_key(pair: Pair) -> bool:
    """An RSA-2048 key with e = 65537, as Entra signs with."""
    return (
        isinstance(pair.key, rsa.RSAPrivateKey)
        and pair.key.key_size == SIGNING_KEY_BITS
        and pair.key.public_key().public_numbers().e == 65537
    )
