"""Smart lockout: the one check of a user's password, for the password grant and the sign-in
page alike.

As Entra documents it (Learn, "Protect user accounts from attacks with Microsoft Entra smart
lockout", howto-password-smart-lockout):
- after `lockout_threshold` failed sign-ins (default 10) the account is locked for
  `lockout_duration` seconds (default 60). While locked, no password is checked, the right
  one included: AADSTS50053 at the token endpoint, the locked message on the page;
- "The account locks again after each subsequent failed sign-in attempt. The lockout period
  is one minute at first, and longer in subsequent attempts." Entra does not disclose the
  rate; the mock doubles the duration at each lockout, up to 64 times (`MAX_DOUBLINGS`);
- "Smart lockout tracks the last three bad password hashes to avoid incrementing the lockout
  counter for the same password": a wrong password typed again counts once.
A successful sign-in (while not locked) clears the count. Not modelled: familiar and
unfamiliar locations (Entra keeps a count for each; the mock one per user).

Kept per user in the shared store (one record per user of the config: bounded), on the mock's
clock (tests move it instead of sleeping). Each attempt is one write transaction, so parallel
guesses, in any worker, are counted exactly: no more than the threshold are ever checked.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

from mock_entra.core.config import MockConfig, TestUser
from mock_entra.core.runtime import Runtime
from mock_entra.core.store.kinds import LOCKOUT
from mock_entra.core.store.repos import Repo

RECENT = 3  # wrong passwords remembered, each counted once
MAX_DOUBLINGS = 6  # the longest lockout: 64 times `lockout_duration` (60 s: about an hour)
FORGET_AFTER = 24 * 3600  # a count left alone this long after its last failure is dropped


class Verdict(enum.Enum):
    RIGHT = "right"  # the password is the user's (and the count is cleared)
    WRONG = "wrong"  # counted
    LOCKED = "locked"  # not checked


@dataclass(frozen=True)
class Failures:
    """A user's failed sign-ins: how many, the last wrong passwords (keyed hashes, never the
    text), how many lockouts so far and when the current one ends."""

    key: str  # hex: keys the hashes of this record's wrong passwords
    count: int = 0
    recent: tuple[str, ...] = ()
    lockouts: int = 0
    locked_until: float = 0.0

    def digest(self, password: str) -> str:
        return hmac.new(bytes.fromhex(self.key), password.encode(), hashlib.sha256).hexdigest()

    def failed(self, password: str, now: float, config: MockConfig) -> Failures:
        """After a wrong `password`: counted (unless it is a recent one), and locked when the
        count reaches the threshold."""
        digest = self.digest(password)
        if digest in self.recent:
            return self
        done = replace(self, count=self.count + 1, recent=(*self.recent, digest)[-RECENT:])
        if done.count < config.lockout_threshold:
            return done
        lasts = config.lockout_duration * 2 ** min(done.lockouts, MAX_DOUBLINGS)
        return replace(done, lockouts=done.lockouts + 1, locked_until=now + lasts)


def _failures(rt: Runtime) -> Repo[Failures]:
    """The counts, one per user; one written by another version reads as None (the count
    starts again)."""
    return Repo(rt.store, LOCKOUT, Failures, rt.config)


def check_password(rt: Runtime, tenant_id: str, user: TestUser, password: str) -> Verdict:
    """Is `password` the user's? Unless the user is locked out; each wrong one is counted."""
    key = f"{tenant_id}|{user.object_id}"
    failures_of = _failures(rt)
    with rt.store.transaction():
        now = rt.clock.now()
        found = failures_of.get(key)
        if found is not None and now < found.locked_until:
            return Verdict.LOCKED
        if hmac.compare_digest(password.encode(), user.password.encode()):
            if found is not None:
                failures_of.delete(key)
            return Verdict.RIGHT
        failures = (found or Failures(secrets.token_hex(16))).failed(password, now, rt.config)
        ttl = max(failures.locked_until - now, 0) + FORGET_AFTER
        failures_of.put(key, failures, ttl=ttl)
        return Verdict.WRONG
