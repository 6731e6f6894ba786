"""The kinds of item the store keeps, in one place, and how many of each it may keep.

Callers do not pass these to the store: they hold a typed `repos.Repo` made with one (the
`repos.Records` of a mock, or, for a record of their own, `Repo(backend, kind, type, config)`).
"""

from __future__ import annotations

from mock_entra.core.store.backend import Limits

CODE = "code"  # authorization code -> records.CodeRecord
REFRESH = "refresh_token"  # refresh token -> records.RefreshRecord
CONTEXT = "signin_context"  # ctx -> records.PendingSignIn
SESSION = "sso_session"  # ESTSAUTH cookie -> records.SsoSession
CONSENT = "consent"  # tenant|user|client -> records.Consent
DEVICE = "device_code"  # device_code -> records.DeviceCodeRecord
USER_CODE = "device_user_code"  # user_code -> device_code
LOCKOUT = "lockout"  # tenant|user -> signin.lockout.Failures (one per user of the config)

# How big the store may grow (see `backend.Limits`): a mock left running in CI, or flooded
# with anonymous authorize requests, keeps a bounded file.
STORE_LIMITS = Limits(
    max_items={
        CONTEXT: 1000,
        CODE: 2000,
        SESSION: 10_000,
        REFRESH: 10_000,
        CONSENT: 10_000,
        DEVICE: 1000,
        USER_CODE: 1000,
        LOCKOUT: 10_000,
    },
    # Entra keeps a refresh token valid after issuing the next; a client only ever uses its
    # newest, so the 16 newest of one sign-in (client, user, session) are plenty.
    max_family={REFRESH: 16},
    # An expired refresh token still answers AADSTS700082 for a year (tests move the clock
    # past the 90 days); everything else is told apart from "unknown" for an hour.
    grace={REFRESH: 365 * 24 * 3600.0},
    max_log=2000,
)
