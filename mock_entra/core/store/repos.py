"""Typed records in and out of the store: a `Repo[T]` per kind, so that callers never pass a
string kind or JSON text, and `Records`, the repositories of one mock.

A record is written and read by `codec` alone. One that no longer fits (written by another
version, or its app or user was removed from the config since) reads as None: the caller
then sees an unknown code, token or ctx, as it would with Entra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from mock_entra.core.config import MockConfig
from mock_entra.core.store import codec, kinds
from mock_entra.core.store.backend import StoreBackend
from mock_entra.core.store.records import (
    CodeRecord,
    Consent,
    DeviceCodeRecord,
    PendingSignIn,
    RefreshRecord,
    SsoSession,
)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Stored(Generic[R]):
    """A record with its expiry (on the store's clock): read even when expired, so that the
    caller can say *expired* rather than *unknown*."""

    record: R
    expires_at: float


class Repo(Generic[T]):
    """The records of one kind: `T` under opaque keys, each for a time."""

    __slots__ = ("backend", "config", "kind", "type")

    def __init__(self, backend: StoreBackend, kind: str, type_: type[T], config: MockConfig):
        codec.check(type_)  # a record the codec cannot store fails here, at start
        self.backend = backend
        self.kind = kind
        self.type = type_
        self.config = config

    def _load(self, text: str | None) -> T | None:
        if text is None:
            return None
        try:
            return codec.decode(self.type, text, self.config)
        except codec.Unreadable:
            return None

    def put(self, key: str, record: T, ttl: float, *, family: str | None = None) -> None:
        """Keep `record` for `ttl` seconds; with a `family`, only the newest ones of that
        family are kept (`Limits.max_family`)."""
        self.backend.put(self.kind, key, codec.encode(record), ttl, family=family)

    def get(self, key: str) -> T | None:
        """The record, unless missing, expired or unreadable."""
        return self._load(self.backend.get(self.kind, key))

    def get_with_expiry(self, key: str) -> Stored[T] | None:
        """The record even when expired (until purged); None when missing or unreadable."""
        found = self.backend.get_with_expiry(self.kind, key)
        record = self._load(found[0]) if found is not None else None
        return None if found is None or record is None else Stored(record, found[1])

    def delete(self, key: str) -> None:
        self.backend.delete(self.kind, key)

    def take(self, key: str, *, read: T | None = None) -> Stored[T | None] | None:
        """Take the record once (atomically, expired or not); None when it is not there.
        The record is None when it was there but is unreadable. `read`: the record as the
        caller read it before (a fault check, a poll), answered instead of decoding the
        taken text again."""
        taken = self.backend.consume(self.kind, key)
        if taken is None:
            return None
        return Stored(read if read is not None else self._load(taken[0]), taken[1])

    def was_taken(self, key: str) -> bool:
        return self.backend.was_consumed(self.kind, key)

    def count(self) -> int:
        return self.backend.count(self.kind)


@dataclass(frozen=True)
class Records:
    """The repositories of one mock's records (a record of its own, such as smart lockout's
    count, a module keeps in a `Repo` it makes with its kind from `kinds`)."""

    codes: Repo[CodeRecord]
    refresh_tokens: Repo[RefreshRecord]
    pending: Repo[PendingSignIn]
    sessions: Repo[SsoSession]
    consents: Repo[Consent]
    device_codes: Repo[DeviceCodeRecord]
    user_codes: Repo[str]  # user code -> device code

    @classmethod
    def of(cls, backend: StoreBackend, config: MockConfig) -> Records:
        return cls(
            codes=Repo(backend, kinds.CODE, CodeRecord, config),
            refresh_tokens=Repo(backend, kinds.REFRESH, RefreshRecord, config),
            pending=Repo(backend, kinds.CONTEXT, PendingSignIn, config),
            sessions=Repo(backend, kinds.SESSION, SsoSession, config),
            consents=Repo(backend, kinds.CONSENT, Consent, config),
            device_codes=Repo(backend, kinds.DEVICE, DeviceCodeRecord, config),
            user_codes=Repo(backend, kinds.USER_CODE, str, config),
        )
