"""Per-mock runtime state: config, keys, store (and its typed `records`), clock and faults,
with the store reads every grant shares (token lifetime, the active key, consent, refresh
tokens). The token response itself is `grants.issue`."""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from mock_entra.core.clock import Clock, OffsetClock, SystemClock
from mock_entra.core.config import MockConfig, Tenant
from mock_entra.core.faults import Faults, Hook, KeyRotation
from mock_entra.core.pki.state import StateDirError, ensure_state
from mock_entra.core.store.backend import StoreBackend, StoreError
from mock_entra.core.store.kinds import STORE_LIMITS
from mock_entra.core.store.location import StoreLocation
from mock_entra.core.store.records import Account, Consent, RefreshRecord
from mock_entra.core.store.repos import Records
from mock_entra.core.tokens.claims import SignIn, lifetime
from mock_entra.core.tokens.scopes import Scopes
from mock_entra.core.tokens.signing import KeySet

SPA_REFRESH_LIFETIME = 24 * 3600  # fixed, not extended by redeeming (Learn, "Refresh tokens")

# A test control: the access-token lifetime fixed at run time (store setting), at most one day
# (Entra's configurable maximum).
TOKEN_LIFETIME_SETTING = "access_token_lifetime"
MAX_TOKEN_LIFETIME = 24 * 3600


def opaque(prefix: str = "1.AXoA", size: int = 384) -> str:
    """An opaque code or refresh token, long and URL-safe like Entra's (`1.A…`)."""
    return prefix + secrets.token_urlsafe(size)


@dataclass
class Runtime:
    """Everything one mock instance owns. Two mocks in one process share nothing."""

    config: MockConfig
    keys: KeySet
    store: StoreBackend
    clock: Clock
    admin_key: str | None = None
    started: float = field(default_factory=time.time)
    # Test controls (clock offset, token lifetime, run-time scenarios) read from the shared
    # store: on with the admin API or in the in-process interceptor, else never read.
    controls: bool = False
    faults: Faults = None  # type: ignore[assignment]  # set by `open_runtime` / __post_init__
    records: Records = field(init=False, repr=False)  # the typed records in `store`

    def __post_init__(self) -> None:
        self.records = Records.of(self.store, self.config)
        if self.faults is None:
            self.faults = Faults.for_config(
                self.config, self.store, self.clock.now(), live=self.controls
            )

    def now(self) -> int:
        return int(self.clock.now())

    def token_lifetime(self) -> int:
        """Access-token lifetime: the config's, unless a test set one through the admin API
        (e.g. under MSAL's 300 s threshold, so that the next silent call refreshes)."""
        if self.controls:
            override = self.store.setting(TOKEN_LIFETIME_SETTING)
            if override:
                return int(override)
        return lifetime(self.config.access_token_lifetime)

    def active_kid(self) -> str | None:
        rotation = self.faults.find(Hook.SIGNING)
        if rotation is not None and isinstance(rotation.scenario, KeyRotation):
            assert self.keys.rollover is not None
            return self.keys.rollover.kid
        # Only a mock with its test controls on can switch keys at run time (one store read).
        return self.store.setting("active_kid") if self.controls else None

    def consented(self, tenant: Tenant, oid: str, client_id: str) -> frozenset[str]:
        found = self.records.consents.get(f"{tenant.tenant_id}|{oid}|{client_id}")
        return found.granted if found else frozenset()

    def add_consent(self, tenant: Tenant, oid: str, client_id: str, scopes: list[str]) -> None:
        merged = Consent(self.consented(tenant, oid, client_id) | frozenset(scopes))
        key = f"{tenant.tenant_id}|{oid}|{client_id}"
        self.records.consents.put(key, merged, ttl=10 * 365 * 24 * 3600)

    def refresh_end(self, platform: str, expires_at: int | None) -> int | None:
        """When a refresh token issued now ends for good: a SPA's `SPA_REFRESH_LIFETIME` after
        the sign-in (`expires_at`, carried from the token it was redeemed from), others never
        (only inactivity ends them)."""
        if platform == "spa" and expires_at is None:
            return self.now() + SPA_REFRESH_LIFETIME
        return expires_at

    def new_refresh_token(
        self,
        signin: SignIn,
        scopes: Scopes,
        *,
        platform: str = "web",
        expires_at: int | None = None,
    ) -> str:
        """A refresh token; a SPA's ends `SPA_REFRESH_LIFETIME` after the first one
        (`expires_at` carries that end to the ones redeemed from it)."""
        token = opaque("1.AXoA", 512)
        expires_at = self.refresh_end(platform, expires_at)
        record = RefreshRecord(
            client_id=signin.app.client_id,
            account=Account(
                signin.user.object_id, signin.tenant.tenant_id, signin.auth_time, signin.kmsi
            ),
            sid=signin.sid,
            issued_at=self.now(),
            platform=platform,
            expires_at=expires_at,
        )
        ttl = self.config.refresh_token_inactivity
        if expires_at is not None:
            ttl = max(1, min(ttl, expires_at - self.now()))
        self.records.refresh_tokens.put(token, record, ttl=ttl, family=record.family)
        return token


def open_runtime(
    config: MockConfig,
    *,
    state_dir: str | Path,
    clock: Clock | None = None,
    admin_key: str | None = None,
    test_controls: bool | None = None,
    store: StoreLocation | None = None,
) -> Runtime:
    """A mock's state: keys from the state dir (made when missing), the shared store, a clock.

    `clock` defaults to the wall clock plus an offset kept in the shared store (moved by the
    admin API or `MockEntra.clock`) when the admin API is on, else the plain wall clock: only
    a mock with its admin API on can have its clock moved, so the others never pay for
    reading the shared offset. `test_controls` (default: with the admin API) makes the mock
    read the run-time test controls of the shared store (token lifetime, active key,
    scenarios); the in-process interceptor turns them on without an admin API. `store`: where
    the store is (default: the SQLite file in the state dir; a Postgres URL for replicas).
    """
    paths = ensure_state(state_dir)
    try:
        backend = (store or StoreLocation()).open(paths.store, lambda: 0.0, STORE_LIMITS)
        if clock is None:
            clock = OffsetClock(backend) if admin_key is not None else SystemClock()
        backend.set_clock(clock.now)
        backend.maintain()  # at start: what expired while the mock was down goes now
    except StoreError:  # a database's: said in one line, naming it
        raise
    except (OSError, sqlite3.Error) as error:  # read-only, full, damaged: said in one line
        raise StateDirError(paths.root, error, paths.store) from error
    controls = admin_key is not None if test_controls is None else test_controls
    return Runtime(
        config=config,
        keys=KeySet.load(paths),
        store=backend,
        clock=clock,
        admin_key=admin_key,
        controls=controls,
    )


def fix_token_lifetime(store: StoreBackend, seconds: int | None) -> None:
    """Fix the lifetime of the access tokens issued from now on (None: as configured); any
    other value than a whole number of seconds from 1 to one day is a ValueError."""
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not 0 < seconds <= MAX_TOKEN_LIFETIME
    ):
        raise ValueError(f"an access-token lifetime is 1 to {MAX_TOKEN_LIFETIME} seconds or None")
    store.set_setting(TOKEN_LIFETIME_SETTING, str(seconds or ""))
