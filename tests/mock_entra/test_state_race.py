"""`mock-entra serve` and `mock-entra info` started together on a fresh state dir, as the README
shows them (`serve &` then `info`), with both cores busy: whenever the server comes up, its TLS
certificate chains to the `ca.pem` on disk and its JWKS is the keys on disk; `info` either
reads that state or says there is none yet, never makes a second CA, never a traceback.
And a state dir of the previous version, served, gets new keys said in one log line."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mock_entra.core.config import DEFAULT_TENANT_ID
from mock_entra.core.pki.state import SIGNING_KEY_COUNT, StatePaths
from mock_entra.ports import free_port
from mock_entra.processes import terminate

from .test_signing_keys import write_state_with_jwk_signing_keys

pytestmark = pytest.mark.slow

ATTEMPTS = 20
CLI = [sys.executable, "-m", "mock_entra"]


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """One CPU burner per core, so the two commands interleave as on a loaded CI runner."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    yield
    for burner in burners:
        burner.kill()
        burner.wait()


def served_certificate(port: int) -> x509.Certificate:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # read what is served; verified below against ca.pem
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def wait_for_jwks(server: subprocess.Popen, port: int, paths: StatePaths, log: Path) -> dict:
    """The v2 JWKS, fetched over TLS verified against the ca.pem on disk."""
    url = f"https://localhost:{port}/{DEFAULT_TENANT_ID}/discovery/v2.0/keys"
    deadline = time.monotonic() + 60
    with requests.Session() as session:
        session.trust_env = False
        while True:
            assert server.poll() is None, f"serve exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"serve never answered: {log.read_text()}"
            if paths.ca_cert.exists():
                try:
                    return session.get(url, verify=str(paths.ca_cert), timeout=5).json()
                except requests.ConnectionError:
                    pass  # not listening yet (a certificate error is an SSLError: not caught)
            time.sleep(0.05)


def check_served_state_is_the_state_on_disk(port: int, jwks: dict, paths: StatePaths) -> None:
    ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    served_certificate(port).verify_directly_issued_by(ca)
    assert len(jwks["keys"]) == SIGNING_KEY_COUNT
    for n, jwk in enumerate(jwks["keys"], start=1):
        cert = x509.load_pem_x509_certificate(paths.signing_cert(n).read_bytes())
        assert base64.b64decode(jwk["x5c"][0]) == cert.public_bytes(serialization.Encoding.DER)
        # (OpenSSL's full key check is test_signing_keys'; here: the key is the certificate's.)
        pem = paths.signing_key(n).read_bytes()
        key = serialization.load_pem_private_key(pem, None, unsafe_skip_rsa_key_validation=True)
        assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]


def start_together(attempt: int, root: Path, port: int, log: Path):
    common = ["--port", str(port), "--state-dir", str(root)]
    serve = [*CLI, "serve", *common, "--workers", "2"]
    info = [*CLI, "info", "--json", *common]
    piped = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with log.open("w") as out:
        # Alternate which starts first: each order has its own interleavings.
        if attempt % 2:
            reader = subprocess.Popen(info, **piped)
            return subprocess.Popen(serve, stdout=out, stderr=out), reader
        server = subprocess.Popen(serve, stdout=out, stderr=out)
        return server, subprocess.Popen(info, **piped)


def one_attempt(attempt: int, tmp_path: Path) -> str:
    paths = StatePaths(tmp_path / f"state-{attempt}")
    port = free_port()
    log = tmp_path / f"serve-{attempt}.log"
    server, info = start_together(attempt, paths.root, port, log)
    try:
        out, err = info.communicate(timeout=120)
        jwks = wait_for_jwks(server, port, paths, log)
        check_served_state_is_the_state_on_disk(port, jwks, paths)
    finally:
        terminate(server)
        if info.poll() is None:
            info.kill()
    assert "Traceback" not in log.read_text(), log.read_text()
    assert b"Traceback" not in err, err.decode()
    if info.returncode == 0:
        assert json.loads(out)["ca_file"] == str(paths.ca_cert)
        return "info read the state"
    assert info.returncode == 2 and b"no mock state" in err, err.decode()
    return "info: no state yet"


@pytest.mark.usefixtures("busy_cores")
def test_serve_and_info_together_on_a_fresh_state_dir(tmp_path: Path):
    # A few attempts at a time: quicker, and more processes to interleave.
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda n: one_attempt(n, tmp_path), range(ATTEMPTS)))
    print(f"{ATTEMPTS} attempts: " + ", ".join(f"{outcomes.count(o)} {o}" for o in set(outcomes)))


def test_serving_a_state_dir_with_the_old_jwk_signing_keys_says_its_new_keys_once(
    tmp_path: Path, key_template: Path
):
    root = tmp_path / "old"
    write_state_with_jwk_signing_keys(root, key_template)
    paths = StatePaths(root.resolve())
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--state-dir", str(root)], stdout=out, stderr=out
        )
        try:
            jwks = wait_for_jwks(server, port, paths, log)
            check_served_state_is_the_state_on_disk(port, jwks, paths)
        finally:
            terminate(server)
    text = log.read_text()
    assert "Traceback" not in text, text
    said = [line for line in text.splitlines() if "new signing keys" in line]
    assert len(said) == 1, text
