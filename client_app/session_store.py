"""The app's server-side session files: private, JSON, bounded.

flask-session keeps each session under a random id in a cachelib `FileSystemCache`. Three
things are changed from cachelib's defaults, each for a reason:

- The directory must be the app's own: created 0700 when missing, refused when another user
  owns it or others may write to it. Anyone who can write a session file chooses what the app
  reads back.
- Values are JSON (cachelib's `JSONSerializer`), never pickle: unpickling a file is running
  whatever it says. A file that is not JSON (an old pickle, a planted one) reads as no session.
- The number of files is bounded without cachelib's counter, which re-reads a count file on
  every write and then scans every file once past its threshold. Here the directory is counted
  every `CHECK_EVERY` writes; past `max_entries` the expired files go, then those expiring
  soonest. Unfinished sign-ins (a session with no signed-in user) live `pending_lifetime`, so
  a flood of anonymous `/login` calls expires first and never evicts a signed-in user first.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import time
from collections.abc import Callable
from typing import IO, Any

from cachelib import FileSystemCache
from cachelib.serializers import JSONSerializer

from client_app.settings import SettingsError

DEFAULT_MAX_ENTRIES = 10_000
PENDING_LIFETIME = 60 * 60  # seconds: an open sign-in page, a slow MFA, a coffee
CHECK_EVERY = 64  # writes between two counts of the directory
_HEADER = struct.Struct("I")  # cachelib's file header: the expiry, epoch seconds (0: never)


class _StrictJSON(JSONSerializer):
    """cachelib's JSON serializer, except that a value JSON cannot hold raises instead of
    being logged and written as an empty file (a session silently lost)."""

    def dump(self, value: Any, f: IO[bytes], *args: Any, **kwargs: Any) -> None:
        f.write(json.dumps(value, separators=(",", ":")).encode())


def ensure_private_dir(path: str) -> None:
    """Create `path` 0700 if missing; raise `SettingsError` if it is not a directory of this
    user's that only this user can write to."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
    except OSError as error:
        raise SettingsError([f"SESSION_DIR {path}: {error.strerror or error}"]) from error
    if not stat.S_ISDIR(info.st_mode):
        raise SettingsError([f"SESSION_DIR {path}: not a directory"])
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise SettingsError(
            [
                f"SESSION_DIR {path} belongs to another user (uid {info.st_uid}): the app "
                "reads its sessions from there; use a directory of its own"
            ]
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SettingsError(
            [
                f"SESSION_DIR {path} is writable by other users (mode "
                f"{stat.S_IMODE(info.st_mode):o}): chmod 700 it or use another directory"
            ]
        )


class SessionFiles(FileSystemCache):
    """flask-session's store (`SESSION_CACHELIB`): see the module's docstring."""

    serializer = _StrictJSON()

    def __init__(
        self,
        path: str,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        pending_lifetime: int = PENDING_LIFETIME,
        is_pending: Callable[[Any], bool] = lambda value: False,
    ) -> None:
        ensure_private_dir(path)
        # threshold=0: cachelib neither keeps its count file nor scans on each write.
        super().__init__(path, threshold=0, mode=0o600)
        self.max_entries = max_entries
        self.pending_lifetime = pending_lifetime
        self._is_pending = is_pending
        self._writes = 0

    def set(
        self,
        key: str,
        value: Any,
        timeout: Any = None,
        mgmt_element: bool = False,
    ) -> bool:
        if self._is_pending(value):
            timeout = self.pending_lifetime
        stored = super().set(key, value, timeout, mgmt_element)
        self._writes += 1
        if self._writes % CHECK_EVERY == 0:
            self.bound()
        return stored

    def bound(self) -> int:
        """Bring the directory back under `max_entries` (to 90% of it, so that the next
        writes do not each trigger this); return how many files were removed."""
        # cachelib's count file is never written (threshold 0): only its temporary files are
        # not sessions.
        suffix = self._fs_transaction_suffix
        names = [entry.path for entry in os.scandir(self._path) if not entry.name.endswith(suffix)]
        if len(names) <= self.max_entries:
            return 0
        now = time.time()
        expiries: list[tuple[int, str]] = []
        removed = 0
        for name in names:
            expires = _expiry(name)
            if expires is None:
                continue  # gone meanwhile
            if expires != 0 and expires < now:
                removed += _remove(name)
            else:
                expiries.append((expires or 2**32, name))
        excess = len(expiries) - int(self.max_entries * 0.9)
        for _, name in sorted(expiries)[: max(excess, 0)]:
            removed += _remove(name)
        return removed


def _expiry(name: str) -> int | None:
    try:
        with open(name, "rb") as file:
            header = file.read(_HEADER.size)
    except OSError:
        return None
    # A file too short to hold a header holds no session: expired.
    return _HEADER.unpack(header)[0] if len(header) == _HEADER.size else 1


def _remove(name: str) -> int:
    try:
        os.remove(name)
    except OSError:
        return 0
    return 1
