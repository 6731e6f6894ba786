"""Where a client-credentials token's time goes inside the mock (not a test; figures go in
docs/performance.md): the app that `mock-entra serve` runs (`create_app`, the WSGI
`MockApp`), called in this process with no server and no TLS, N token requests, under
cProfile; then the share of the RSA signature itself, and requests/s of one core with and
without the profiler.

    uv run python bench/profile_token.py [--requests 2000] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from mock_entra.core.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID
from mock_entra.core.pki.state import ensure_state
from mock_entra.web.wsgi import create_app

BODY = urlencode(
    {
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "grant_type": "client_credentials",
        "scope": "https://graph.microsoft.com/.default",
    }
).encode()


def environ() -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8443",
        "HTTP_HOST": "localhost:8443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(BODY)),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(BODY),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def one(app) -> None:
    status: list[str] = []
    body = b"".join(app(environ(), lambda s, h, e=None: status.append(s)))
    assert status[0].startswith("200"), (status, body[:300])


def rate(app, n: int) -> float:
    started = time.process_time()  # CPU time: the shared machine's load does not count
    for _ in range(n):
        one(app)
    return n / (time.process_time() - started)


def signing_rate(state: Path, n: int) -> float:
    """RSA-2048 signatures/s with the mock's signing key, through cryptography (OpenSSL)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from mock_entra.core.pki.state import StatePaths

    pem = StatePaths(state).signing_key(1).read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    message = b"x" * 1400  # about a token's header and payload
    started = time.process_time()  # CPU time: the shared machine's load does not count
    for _ in range(n):
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    return n / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mock-entra-profile-") as state:
        ensure_state(Path(state))
        app = create_app(state_dir=state)
        for _ in range(50):  # warm: imports, the first key load, caches
            one(app)
        plain = rate(app, args.requests)
        profile = cProfile.Profile()
        profile.enable()
        rate(app, args.requests)
        profile.disable()
        signatures = signing_rate(Path(state), args.requests)
        print(f"one core, in process, no server or TLS: {plain:.0f} tokens/s")
        print(f"the same key, bare RSA-2048 PKCS#1 v1.5 signatures: {signatures:.0f}/s")
        print(f"  the signature's share of a token's time: {100 * plain / signatures:.0f}%")
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
