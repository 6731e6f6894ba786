"""The mock's state dir: its TLS and signing material, made once and kept so that restarts are
instant and clients keep trusting the same CA.

Files: `ca.pem` (the CA clients trust), `ca-bundle.pem` (system CAs + that CA: point
`REQUESTS_CA_BUNDLE` at it, since requests lets that variable override a Session's `verify`),
`server.pem`/`server-key.pem` (localhost, 127.0.0.1, ::1), `signing-N.pem`/`signing-N-key.pem`
(the token-signing keys, RSA-2048, with certificates self-signed as Entra's are, so JWKS can
carry `x5c`/`x5t`). Private keys are 0600, certificates 0644. A state dir this module makes
(or finds empty) gets a `.gitignore` of `*`, as pytest's and ruff's caches do: it holds the
CA's private key and never belongs in the project's repository.

Two functions, one job each:
- `ensure_state` is the only one that makes anything. It holds an exclusive lock (`flock` on
  `.lock` in the state dir) while it checks and completes the dir, so two processes never both
  generate, and every file is written to a temporary file in the same dir and renamed into
  place, so nobody ever reads half a file. The TLS certificate is checked against the `ca.pem`
  on disk and made again when it does not chain to it.
- `load_state` never makes anything: it raises `StateError` when the dir is absent or
  incomplete, and waits (shared lock) while an `ensure_state` elsewhere is completing it.

Only `ensure_state` imports `cryptography` (`certificates`), so `load_state` stays cheap.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import certifi

SIGNING_KEY_COUNT = 2  # two keys in JWKS, so clients can be tested on rollover
# One more key, never published until the `keys.rotated` scenario rolls to it (as Entra
# publishes a new key and starts signing with it): file number SIGNING_KEY_COUNT + 1.
ROLLOVER_KEY = SIGNING_KEY_COUNT + 1

log = logging.getLogger(__name__)


class StateError(Exception):
    """The state dir is missing or incomplete (`load_state` never makes one)."""


class StateDirError(OSError):
    """The state dir cannot be made, written or read: not a directory, read-only, full or
    damaged. `mock-entra serve` prints it as one line and exits 2. An `OSError`, as what it
    wraps mostly is, so callers that already catch those keep doing so."""

    def __init__(self, root: Path, error: BaseException, where: Path | None = None) -> None:
        cause = (error.strerror if isinstance(error, OSError) else None) or str(error)
        if where is None and isinstance(error, OSError) and error.filename is not None:
            where = Path(error.filename)
        if where is not None and where != root:
            cause += f" ({Path(where).name})"
        super().__init__(f"state dir {root} is not usable: {cause}")
        self.root = root


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def gitignore(self) -> Path:
        return self.root / ".gitignore"

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
        return self.root / f"signing-{n}-key.pem"

    def material(self) -> tuple[Path, ...]:
        """Every file a complete state dir has (the store is made by whoever opens it)."""
        signing = [p for n in range(1, ROLLOVER_KEY + 1) for p in self._signing(n)]
        return (
            self.ca_cert,
            self.ca_key,
            self.ca_bundle,
            self.server_cert,
            self.server_key,
            *signing,
        )

    def _signing(self, n: int) -> tuple[Path, Path]:
        return self.signing_cert(n), self.signing_key(n)


@contextlib.contextmanager
def _locked(path: Path, operation: int, *, create: bool) -> Iterator[None]:
    """Hold `flock(operation)` on `path`; the kernel releases it if the process dies."""
    try:
        fd = os.open(path, (os.O_RDWR | os.O_CREAT) if create else os.O_RDONLY, 0o600)
    except FileNotFoundError:
        # No lock file: no `ensure_state` has ever run here (it makes the file first).
        yield
        return
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write `path` whole or not at all: a temporary file in the same dir, flushed to disk,
    then renamed over `path` (a reader sees the old file or the new one, never a part)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # mkstemp makes 0600; the umask does not apply here
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def ensure_state(root: str | Path) -> StatePaths:
    """Complete the state dir at `root`, making it if needed, and return its paths.

    Whatever is missing, damaged, expiring, or not of this version is made again; a complete
    state dir is only read. Replacing something that existed is said in one log line. A dir
    that cannot be made or written raises `StateDirError`.
    """
    paths = StatePaths(Path(root).resolve())
    try:
        if paths.root.exists() and not paths.root.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        paths.root.mkdir(parents=True, exist_ok=True)
        with _locked(paths.lock, fcntl.LOCK_EX, create=True):
            _ignore_in_git(paths)
            replaced = _complete(paths)
    except OSError as error:  # read-only, full, a file in the way: one line, not a traceback
        raise StateDirError(paths.root, error) from error
    if replaced:
        log.warning("mock-entra: state dir %s: %s", paths.root, "; ".join(replaced))
    return paths


GITIGNORE = "# made by mock-entra: this folder holds private keys; keep it out of git\n*\n"


# What else the mock's tools keep in a state dir: the store (SQLite and its journal files),
# `serving.json` (`mock-entra serve`), the demo's logs, `MockEntra`'s config file.
_OURS = ("store.sqlite3", "serving.json", "logs", "config.json", ".lock")


def _ignore_in_git(paths: StatePaths) -> None:
    """Write `.gitignore` into a state dir that holds nothing but the mock's own files (a new
    one, or one made before this file was): never into a folder holding anything else, as
    `--state-dir .` would (git must not ignore someone's project)."""
    if paths.gitignore.exists():
        return
    material = {p.name for p in paths.material()}
    for entry in paths.root.iterdir():
        if entry.name not in material and not entry.name.startswith(_OURS):
            return
    write_atomic(paths.gitignore, GITIGNORE.encode(), 0o644)


def _complete(paths: StatePaths) -> list[str]:
    """Make what is missing or unusable; say what replaced something that existed."""
    from mock_entra.core.pki import certificates  # here: `load_state` never pays for cryptography

    replaced: list[str] = []
    wrote = False
    for stale in paths.root.glob(".*.tmp"):  # left by a process killed mid-write
        stale.unlink(missing_ok=True)

    def write(key_path: Path, cert_path: Path, pair: certificates.Pair) -> None:
        nonlocal wrote
        # The key first: a crash between the two leaves a pair that does not match, which
        # the next start makes again.
        write_atomic(key_path, pair.key_pem, 0o600)
        write_atomic(cert_path, pair.cert_pem, 0o644)
        wrote = True

    ca = certificates.load_pair(_read(paths.ca_key), _read(paths.ca_cert))
    if ca is None:
        if paths.ca_cert.exists():
            replaced.append(
                "made a new CA (ca.pem was unreadable, expiring or not ca-key.pem's): "
                "clients must trust the new ca.pem"
            )
        ca = certificates.make_ca()
        write(paths.ca_key, paths.ca_cert, ca)

    server = certificates.load_pair(_read(paths.server_key), _read(paths.server_cert))
    if server is None or not certificates.issued_by(server.cert, ca):
        # Also when the CA was just made: the TLS certificate always chains to `ca.pem`.
        write(paths.server_key, paths.server_cert, certificates.make_server_cert(ca))

    unusable = False
    for n in range(1, ROLLOVER_KEY + 1):
        cert_path, key_path = paths.signing_cert(n), paths.signing_key(n)
        pair = certificates.load_pair(_read(key_path), _read(cert_path))
        if pair is None or not certificates.is_signing_key(pair):
            unusable = unusable or cert_path.exists()
            write(key_path, cert_path, certificates.make_signing_key())
    if unusable:
        replaced.append(
            "made new signing keys (the old ones were unreadable, expiring or did not match "
            "their certificates); tokens signed before no longer verify"
        )

    bundle = Path(certifi.where()).read_bytes() + b"\n" + ca.cert_pem
    if _read(paths.ca_bundle) != bundle:
        write_atomic(paths.ca_bundle, bundle, 0o644)
        wrote = True
    if wrote:
        _sync_dir(paths.root)
    return replaced


def _sync_dir(root: Path) -> None:
    """Make the renames durable (a crash right after start keeps the new files)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_state(root: str | Path) -> StatePaths:
    """The paths of an existing, complete state dir. Never makes anything: raises `StateError`
    saying what is missing (`mock-entra serve` makes the state dir). Waits while another
    process is completing the dir, so what it returns is whole."""
    paths = StatePaths(Path(root).resolve())
    if not paths.root.is_dir():
        raise StateError(
            f"no mock-entra state dir at {paths.root}: `mock-entra serve --state-dir "
            f"{paths.root}` makes one (or pass the --state-dir the server uses)"
        )
    with _locked(paths.lock, fcntl.LOCK_SH, create=False):
        missing = [p.name for p in paths.material() if not p.exists()]
    if missing:
        raise StateError(
            f"the mock-entra state dir {paths.root} is incomplete (no {', '.join(missing)}): "
            f"`mock-entra serve --state-dir {paths.root}` completes it"
        )
    return paths
