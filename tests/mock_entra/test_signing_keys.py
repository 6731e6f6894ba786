"""The signing keys and the state dir's material: ordinary RSA-2048 keys whose tokens OpenSSL
(through cryptography) and PyJWT verify against the published JWKS, real self-signed x5c
certificates, private files, a state dir made by one process at a time, and old state dirs
replaced cleanly."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import multiprocessing
import shutil
import stat
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_entra.core.b64 import b64url
from mock_entra.core.graph.gate import verify_graph_token
from mock_entra.core.pki import certificates
from mock_entra.core.pki.state import (
    SIGNING_KEY_COUNT,
    StateError,
    StatePaths,
    ensure_state,
    load_state,
    write_atomic,
)
from mock_entra.core.tokens.signing import KeySet
from mock_entra.pytest_plugin import copy_keys
from tests.hypothesis_profiles import examples

ISSUER = "https://login.example/tenant/v2.0"
REGISTERED = {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}


def copy_of(key_template: Path, root: Path) -> StatePaths:
    """A complete state dir as `ensure_state` made it: a copy of the session's `key_template`
    (itself `ensure_state`'s work, modes kept), instead of five more RSA keys made here."""
    return StatePaths(copy_keys(key_template, root))


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory, key_template: Path) -> StatePaths:
    return copy_of(key_template, tmp_path_factory.mktemp("state") / "state")


@pytest.fixture(scope="module")
def keys(paths: StatePaths) -> KeySet:
    return KeySet.load(paths)


def published(keys: KeySet, issuer: str | None = ISSUER) -> list[dict]:
    return json.loads(keys.jwks_bytes(issuer))["keys"]


def openssl_verify(token: str, jwk: dict) -> None:
    """RS256 verified by OpenSSL from the JWK's n and e alone (raises InvalidSignature)."""
    header, payload, signature = token.split(".")
    n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=="), "big")
    e = int.from_bytes(base64.urlsafe_b64decode(jwk["e"] + "=="), "big")
    public = rsa.RSAPublicNumbers(e, n).public_key()
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public.verify(raw, f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())


def test_the_keys_on_disk_are_ordinary_two_prime_rsa_2048(paths: StatePaths):
    for n in range(1, SIGNING_KEY_COUNT + 1):
        pem = paths.signing_key(n).read_bytes()
        assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
        key = serialization.load_pem_private_key(pem, None)  # with OpenSSL's full key check
        assert isinstance(key, rsa.RSAPrivateKey)
        numbers = key.private_numbers()
        assert key.key_size == 2048 and numbers.public_numbers.e == 65537
        assert numbers.p * numbers.q == numbers.public_numbers.n


@settings(max_examples=examples(25), deadline=None)
@given(
    # Any private claims (registered ones are checked by PyJWT, and set by the mock itself).
    claims=st.dictionaries(
        st.text(max_size=12).filter(lambda name: name not in REGISTERED),
        st.text(max_size=40) | st.integers(),
        max_size=8,
    ),
    v1=st.booleans(),
)
def test_openssl_and_pyjwt_verify_every_token_against_the_published_jwks(
    keys: KeySet, claims: dict, v1: bool
):
    for jwk in published(keys):
        token = keys.sign(claims, x5t=v1, kid=jwk["kid"])
        openssl_verify(token, jwk)
        assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"]) == claims


def test_token_headers_are_entras(keys: KeySet):
    kid = keys.keys[1].kid
    v2 = keys.sign({"sub": "x"}, kid=kid)
    assert json.loads(base64.urlsafe_b64decode(v2.split(".")[0] + "==")) == {
        "typ": "JWT",
        "alg": "RS256",
        "kid": kid,
    }
    v1 = jwt.get_unverified_header(keys.sign({"sub": "x"}, x5t=True, kid=kid))
    assert list(v1) == ["typ", "alg", "x5t", "kid"] and v1["x5t"] == kid


def test_a_tampered_token_does_not_verify(keys: KeySet):
    jwk = published(keys)[0]
    header, _, signature = keys.sign({"sub": "alice"}, kid=jwk["kid"]).split(".")
    forged = f"{header}.{b64url(json.dumps({'sub': 'mallory'}).encode())}.{signature}"
    with pytest.raises(InvalidSignature):
        openssl_verify(forged, jwk)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, jwt.PyJWK(jwk).key, algorithms=["RS256"])


def test_the_jwks_has_entras_shape_and_real_self_signed_certificates(
    keys: KeySet, paths: StatePaths
):
    v2, v1 = published(keys), published(keys, None)
    assert len(v2) == SIGNING_KEY_COUNT
    for n, (jwk, jwk_v1) in enumerate(zip(v2, v1, strict=True), start=1):
        # As https://login.microsoftonline.com/common/discovery/v2.0/keys lists them: these
        # members, in this order; v1 keys (/discovery/keys) have no `issuer`.
        assert list(jwk) == ["kty", "use", "kid", "x5t", "n", "e", "x5c", "issuer"]
        assert jwk["kty"] == "RSA" and jwk["use"] == "sig" and jwk["e"] == "AQAB"
        assert jwk["issuer"] == ISSUER and jwk_v1 == {k: v for k, v in jwk.items() if k != "issuer"}
        der = base64.b64decode(jwk["x5c"][0])
        cert = x509.load_der_x509_certificate(der)
        cert.verify_directly_issued_by(cert)  # self-signed, by the same key
        assert cert.public_key().public_numbers() == jwt.PyJWK(jwk).key.public_numbers()
        assert jwk["x5t"] == jwk["kid"] == b64url(hashlib.sha1(der).digest())
        assert len(jwk["kid"]) == 27
        on_disk = x509.load_pem_x509_certificate(paths.signing_cert(n).read_bytes())
        assert on_disk.public_bytes(serialization.Encoding.DER) == der


def test_a_graph_token_verifies_only_the_way_graph_does(keys: KeySet):
    token = keys.sign_graph({"aud": "00000003-0000-0000-c000-000000000000"}, "a-nonce")
    header = jwt.get_unverified_header(token)
    assert header["nonce"] == "a-nonce" and header["x5t"] == header["kid"] == keys.keys[0].kid
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, keys.keys[0].public_key, algorithms=["RS256"])
    assert verify_graph_token(keys, token)["aud"] == "00000003-0000-0000-c000-000000000000"


def test_private_files_are_0600_and_certificates_0644(paths: StatePaths):
    private = [paths.ca_key, paths.server_key, paths.lock]
    private += [paths.signing_key(n) for n in range(1, SIGNING_KEY_COUNT + 1)]
    public = [paths.ca_cert, paths.ca_bundle, paths.server_cert, paths.signing_cert(1)]
    assert {stat.S_IMODE(p.stat().st_mode) for p in private} == {0o600}
    assert {stat.S_IMODE(p.stat().st_mode) for p in public} == {0o644}
    assert not list(paths.root.glob(".*.tmp")), "a temporary file was left behind"


def test_a_complete_state_dir_is_only_read(paths: StatePaths, caplog: pytest.LogCaptureFixture):
    before = {p: p.read_bytes() for p in paths.material()}
    (paths.root / ".ca.pem.x1y2.tmp").write_bytes(b"-----BEGIN CERT")  # a killed writer's
    with caplog.at_level(logging.INFO, logger="mock_entra"):
        ensure_state(paths.root)
    assert {p: p.read_bytes() for p in paths.material()} == before
    assert not caplog.records
    assert not list(paths.root.glob(".*.tmp"))


def test_the_tls_certificate_chains_to_the_ca_on_disk(paths: StatePaths):
    ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    x509.load_pem_x509_certificate(paths.server_cert.read_bytes()).verify_directly_issued_by(ca)
    assert paths.ca_bundle.read_bytes().endswith(paths.ca_cert.read_bytes())


# -- making the state dir ----------------------------------------------------------------------


def test_load_state_never_makes_anything(tmp_path: Path, paths: StatePaths):
    absent = tmp_path / "absent"
    with pytest.raises(StateError, match="no mock-entra state dir"):
        load_state(absent)
    assert not absent.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StateError, match=r"incomplete.*ca\.pem"):
        load_state(empty)
    assert list(empty.iterdir()) == []
    assert load_state(paths.root) == paths


def _ensure_together(root: str, barrier, out) -> None:
    barrier.wait()  # all at once, as `serve &` and `info` on a fresh dir
    out.put(ensure_state(root).ca_cert.read_bytes())


@pytest.mark.parametrize("round_", range(3))
def test_processes_making_one_state_dir_together_make_one_ca(tmp_path: Path, round_: int):
    root = tmp_path / "fresh"
    context = multiprocessing.get_context("fork")  # started with everything imported
    barrier, out = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_ensure_together, args=(str(root), barrier, out)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    cas = [out.get(timeout=60) for _ in processes]
    for process in processes:
        process.join()
    assert len(set(cas)) == 1 and cas[0] == (root / "ca.pem").read_bytes()
    ca = x509.load_pem_x509_certificate(cas[0])
    x509.load_pem_x509_certificate((root / "server.pem").read_bytes()).verify_directly_issued_by(ca)


def test_write_atomic_replaces_whole_files_with_the_mode_asked(tmp_path: Path):
    target = tmp_path / "f.pem"
    target.write_bytes(b"old")
    write_atomic(target, b"new", 0o600)
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f.pem"]


def write_state_with_jwk_signing_keys(root: Path, key_template: Path) -> bytes:
    """A state dir as the first development versions left it: signing keys as private JWKs
    (`signing-N-key.jwk`, no longer read or migrated: see CHANGELOG.md) beside their
    certificates, no lock file. Returns the first key's certificate."""
    root.mkdir()
    for name in ("ca.pem", "ca-key.pem", "ca-bundle.pem", "server.pem", "server-key.pem"):
        shutil.copy2(key_template / name, root / name)
    for n in (1, 2):
        (root / f"signing-{n}-key.jwk").write_text('{"kty": "RSA"}')
        shutil.copy2(key_template / f"signing-{n}.pem", root / f"signing-{n}.pem")
    return (root / "signing-1.pem").read_bytes()


def test_a_state_dir_with_the_old_jwk_signing_keys_gets_new_ones_like_any_unusable_keys(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key_template: Path
):
    root = tmp_path / "old"
    old_cert = write_state_with_jwk_signing_keys(root, key_template)
    ca_before = (root / "ca.pem").read_bytes()
    with caplog.at_level(logging.INFO, logger="mock_entra"):
        paths = ensure_state(root)
        KeySet.load(paths)
        ensure_state(root)  # a second start in the same or another process says nothing
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    message = caplog.records[0].getMessage()
    assert "\n" not in message and "new signing keys" in message and str(paths.root) in message
    assert paths.signing_cert(1).read_bytes() != old_cert
    assert paths.ca_cert.read_bytes() == ca_before  # clients keep trusting the same CA
    # No migration: the old key files are neither read nor removed (delete them, or the dir).
    assert sorted(p.name for p in root.glob("*.jwk")) == ["signing-1-key.jwk", "signing-2-key.jwk"]
    load_state(root)


def test_a_tls_certificate_from_another_ca_is_made_again(tmp_path: Path, key_template: Path):
    paths = copy_of(key_template, tmp_path / "state")
    # What a start-up race without `ensure_state`'s lock could leave behind.
    stranger = certificates.make_server_cert(certificates.make_ca())
    paths.server_cert.write_bytes(stranger.cert_pem)
    paths.server_key.write_bytes(stranger.key_pem)
    ensure_state(paths.root)
    ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    x509.load_pem_x509_certificate(paths.server_cert.read_bytes()).verify_directly_issued_by(ca)


def test_a_damaged_signing_key_is_made_again_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key_template: Path
):
    paths = copy_of(key_template, tmp_path / "state")
    old_kid = KeySet.load(paths).keys[1].kid
    paths.signing_key(2).write_bytes(paths.signing_key(2).read_bytes()[:100])
    with pytest.raises(StateError):
        KeySet.load(paths)  # loading alone never repairs
    with caplog.at_level(logging.INFO, logger="mock_entra"):
        ensure_state(paths.root)
    assert len(caplog.records) == 1 and "new signing keys" in caplog.records[0].getMessage()
    assert KeySet.load(paths).keys[1].kid != old_kid
