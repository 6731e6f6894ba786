"""The four-prime signing keys: OpenSSL (through cryptography and PyJWT) must accept every
signature, the stored JWK must round-trip, and the JWKS certificate must be self-signed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_entra.core.b64 import b64url
from mock_entra.core.keys import KeySet
from mock_entra.core.multiprime import MultiPrimeKey
from mock_entra.core.pki import ensure_state

KEY = MultiPrimeKey.generate()


def test_a_key_is_rsa_2048_with_four_distinct_primes():
    assert KEY.n.bit_length() == 2048
    assert len(set(KEY.primes)) == 4
    product = 1
    for prime in KEY.primes:
        product *= int(prime)
    assert product == int(KEY.n)
    assert KEY.public_key().key_size == 2048


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2048))
def test_openssl_verifies_every_signature(message):
    KEY.public_key().verify(KEY.sign(message), message, padding.PKCS1v15(), hashes.SHA256())


def test_a_wrong_message_does_not_verify():
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(KEY.sign(b"a"), b"b", padding.PKCS1v15(), hashes.SHA256())


def test_the_private_jwk_round_trips_and_names_the_extra_primes_in_oth():
    jwk = KEY.to_jwk()
    assert {"n", "e", "d", "p", "q", "dp", "dq", "qi"} <= set(jwk) and len(jwk["oth"]) == 2
    again = MultiPrimeKey.from_jwk(json.loads(json.dumps(jwk)))
    assert again == KEY
    assert again.sign(b"same") == KEY.sign(b"same")  # PKCS#1 v1.5 is deterministic


def test_a_jwk_whose_primes_do_not_make_n_is_refused():
    jwk = KEY.to_jwk()
    jwk["n"] = MultiPrimeKey.generate().to_jwk()["n"]
    with pytest.raises(ValueError):
        MultiPrimeKey.from_jwk(jwk)


def test_tokens_verify_with_pyjwt_against_the_published_jwks(tmp_path: Path):
    keys = KeySet.load(ensure_state(tmp_path))
    jwks = json.loads(keys.jwks_bytes("https://issuer.example/v2.0"))
    for published, kid in zip(jwks["keys"], [k.kid for k in keys.keys], strict=True):
        token = keys.sign({"aud": "api", "sub": "x"}, kid=kid)
        assert jwt.get_unverified_header(token) == {"typ": "JWT", "alg": "RS256", "kid": kid}
        claims = jwt.decode(token, jwt.PyJWK(published).key, algorithms=["RS256"], audience="api")
        assert claims["sub"] == "x"
        # x5c: a certificate for the same key, self-signed, thumbprint = x5t = kid.
        der = base64.b64decode(published["x5c"][0])
        cert = x509.load_der_x509_certificate(der)
        cert.verify_directly_issued_by(cert)
        assert cert.public_key().public_numbers() == jwt.PyJWK(published).key.public_numbers()
        assert b64url(cert.fingerprint(hashes.SHA1())) == published["x5t"] == kid


def test_keys_of_an_earlier_version_are_replaced(tmp_path: Path):
    paths = ensure_state(tmp_path)
    old_kid = KeySet.load(paths).keys[0].kid
    paths.signing_key(1).unlink()
    (tmp_path / "signing-1-key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    ensure_state(tmp_path)
    assert not (tmp_path / "signing-1-key.pem").exists()
    assert KeySet.load(paths).keys[0].kid != old_kid
