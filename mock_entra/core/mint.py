"""Makes the state dir's CA, TLS server certificate and token-signing keys with
`cryptography` (see `pki` for what each file is)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mock_entra.core.multiprime import MultiPrimeKey
from mock_entra.core.pki import StatePaths

_VALIDITY = dt.timedelta(days=825)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "entra-lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_private(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private_bytes(path, data)


def _write_private_bytes(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


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


def make_ca(paths: StatePaths) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("entra-lab local CA")
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(paths.ca_key, key)
    _write_cert(paths.ca_cert, cert)


def make_server_cert(paths: StatePaths) -> None:
    ca_key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        _builder(_name("localhost"), ca_cert.subject, key.public_key())
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    _write_private(paths.server_key, key)
    _write_cert(paths.server_cert, cert)


def make_signing_key(paths: StatePaths, n: int) -> None:
    key = MultiPrimeKey.generate()
    name = _name("accounts.accesscontrol.windows.net")  # the subject Entra's signing certs carry
    cert = _self_signed(key, name)
    _write_private_bytes(paths.signing_key(n), json.dumps(key.to_jwk()).encode())
    _write_cert(paths.signing_cert(n), cert)
    (paths.root / f"signing-{n}-key.pem").unlink(missing_ok=True)  # made by earlier versions


_SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")  # AlgorithmIdentifier


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _self_signed(key: MultiPrimeKey, name: x509.Name) -> x509.Certificate:
    """A certificate for `key`, signed by `key`. cryptography signs only with its own key
    types, so it builds the to-be-signed part (with a throwaway key: only the signature
    algorithm, the same, is taken from it) and the signature is added here (RFC 5280 §4.1)."""
    throwaway = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    draft = _builder(name, name, key.public_key()).sign(throwaway, hashes.SHA256())
    tbs = draft.tbs_certificate_bytes
    signature = _der(0x03, b"\x00" + key.sign(tbs))
    cert = x509.load_der_x509_certificate(_der(0x30, tbs + _SHA256_WITH_RSA + signature))
    cert.verify_directly_issued_by(cert)
    return cert
