"""The mock's TLS and signing material, generated once with `cryptography` and kept in the
state dir so restarts are instant and clients keep trusting the same CA.

Files: `ca.pem` (the CA clients trust), `ca-bundle.pem` (system CAs + that CA: point
`REQUESTS_CA_BUNDLE` at it, since requests lets that variable override a Session's `verify`),
`server.pem`/`server-key.pem` (localhost, 127.0.0.1, ::1), `signing-N.pem`/`signing-N-key.jwk`
(the token-signing keys, four-prime RSA-2048 kept as private JWKs (see `multiprime`), with
certificates self-signed as Entra's are, so JWKS can carry `x5c`/`x5t`).

Only a state dir with something missing pays for importing `cryptography` (`mint` makes the
files): a restart with existing keys starts faster without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import certifi

SIGNING_KEY_COUNT = 2  # two keys in JWKS, so clients can be tested on rollover


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca-key.pem"

    @property
    def ca_bundle(self) -> Path:
        return self.root / "ca-bundle.pem"

    @property
    def server_cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.root / "server-key.pem"

    @property
    def store(self) -> Path:
        return self.root / "store.sqlite3"

    def signing_cert(self, n: int) -> Path:
        return self.root / f"signing-{n}.pem"

    def signing_key(self, n: int) -> Path:
        return self.root / f"signing-{n}-key.jwk"


def ensure_state(root: str | Path) -> StatePaths:
    """Create whatever is missing in the state dir; a complete state dir is left untouched."""
    paths = StatePaths(Path(root).resolve())
    paths.root.mkdir(parents=True, exist_ok=True)
    if not (paths.ca_cert.exists() and paths.ca_key.exists()):
        from mock_entra.core import mint

        mint.make_ca(paths)
        paths.server_cert.unlink(missing_ok=True)
    if not (paths.server_cert.exists() and paths.server_key.exists()):
        from mock_entra.core import mint

        mint.make_server_cert(paths)
    for n in range(1, SIGNING_KEY_COUNT + 1):
        if not (paths.signing_cert(n).exists() and paths.signing_key(n).exists()):
            from mock_entra.core import mint

            mint.make_signing_key(paths, n)
    bundle = Path(certifi.where()).read_bytes() + b"\n" + paths.ca_cert.read_bytes()
    if not paths.ca_bundle.exists() or paths.ca_bundle.read_bytes() != bundle:
        paths.ca_bundle.write_bytes(bundle)
    return paths
