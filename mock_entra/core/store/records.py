"""The records of a sign-in, as frozen dataclasses from the authorize request to the token
response: the validated request, the pending sign-in (the `ctx`), the SSO session, the code,
the refresh token and the consent.

Plain data: `store.codec` stores them (every field, by its type) and `store.repos` loads
them. `Scopes` are parsed once, at authorize, and carried along resolved; their app is
stored by its client id and found again in the config when read, and a record that no
longer fits the config (the app or the user was removed since) loads as None: the caller
then sees an unknown ctx, code or token, as it would with Entra.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mock_entra.core.aadsts import Aadsts
from mock_entra.core.errors import EntraError
from mock_entra.core.store.codec import STORED_AS
from mock_entra.core.tokens.scopes import Scopes

# -- the authorize request --------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyTo:
    """Where and how an answer goes back to the client, once its redirect URI is trusted."""

    redirect_uri: str
    response_mode: str
    state: str | None = None

    def error(self, entry: Aadsts, **args: Any) -> EntraError:
        """An error that goes back to the (trusted) redirect URI."""
        return EntraError(
            entry,
            redirect_uri=self.redirect_uri,
            state=self.state,
            response_mode=self.response_mode,
            **args,
        )


@dataclass(frozen=True, kw_only=True)
class AuthorizeRequest:
    """A validated authorization request."""

    tenant_id: str
    client_id: str
    reply: ReplyTo
    scopes: Scopes
    nonce: str | None = None
    code_challenge: str | None = None
    method: str | None = None
    prompt: str | None = None
    login_hint: str | None = None
    domain_hint: str | None = None
    max_age: int | None = None
    # The platform of the matched redirect URI ("web", "spa", "public"): how the code may be
    # redeemed. `consumers`: asked through /consumers (personal accounts only).
    platform: str = "web"
    consumers: bool = False
    # Set for the sign-in of a device code (the verification page): it ends by approving
    # that device code instead of redirecting with an authorization code.
    device_code: str | None = None

    def error(self, entry: Aadsts, **args: Any) -> EntraError:
        return self.reply.error(entry, **args)


# -- who signed in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A user signed in to a tenant: when, and whether they chose "Stay signed in"."""

    oid: str
    tenant_id: str
    auth_time: int
    kmsi: bool = False


@dataclass(frozen=True)
class SsoSession:
    """The browser's SSO session (the `ESTSAUTH` cookie): its accounts, newest first."""

    accounts: tuple[Account, ...] = ()

    def with_account(self, account: Account) -> SsoSession:
        others = tuple(a for a in self.accounts if a.oid != account.oid)
        return SsoSession((account, *others))


@dataclass(frozen=True, kw_only=True)
class PendingSignIn:
    """An unfinished sign-in, kept under its `ctx` while the user walks the pages.

    `browser` is the SHA-256 of the flow cookie of the browser that started it: only that
    browser may continue it (login CSRF). `verified` is set once the password is checked
    (the "Stay signed in?" step), `chosen` when the account is known and consent is asked.
    """

    request: AuthorizeRequest
    browser: str
    sso_sid: str | None = None  # the SSO session the browser had at authorize
    username: str = ""
    verified: Account | None = None
    chosen: Account | None = None
    sid: str | None = None  # the session the code will carry

    def evolve(self, **changes: Any) -> PendingSignIn:
        return replace(self, **changes)


@dataclass(frozen=True)
class AuthorizeResponse:
    """Where to send the browser at the end of a sign-in, how, and with what."""

    redirect_uri: str
    response_mode: str
    params: list[tuple[str, str]]


# -- what the token endpoint redeems ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CodeRecord:
    """What an authorization code stands for: bound to client, redirect URI, PKCE challenge
    and the sign-in."""

    client_id: str
    redirect_uri: str
    scopes: Scopes
    account: Account
    sid: str
    nonce: str | None = None
    code_challenge: str | None = None
    method: str | None = None
    max_age_sent: bool = False
    platform: str = "web"  # of the redirect URI the code was sent to (`redirects.Platform`)


@dataclass(frozen=True, kw_only=True)
class RefreshRecord:
    """What a refresh token stands for. Its `family` (client, user, session) is what the
    store caps: Entra does not revoke a refresh token when it issues the next one."""

    client_id: str
    account: Account
    sid: str
    issued_at: int
    platform: str = "web"  # of the redirect URI the sign-in's code went to
    # SPA refresh tokens end 24 hours after the sign-in, and the ones redeemed from them keep
    # that end (Learn, "Refresh tokens in the Microsoft identity platform").
    expires_at: int | None = None

    @property
    def family(self) -> str:
        return f"{self.client_id}|{self.account.tenant_id}|{self.account.oid}|{self.sid}"


@dataclass(frozen=True, kw_only=True)
class DeviceCodeRecord:
    """A device code (RFC 8628) from its issue to its redemption: pending until the user
    signs in on the verification page (approved, with the account) or cancels (declined)."""

    client_id: str
    tenant_id: str
    scopes: Scopes
    user_code: str
    status: str = "pending"  # "pending", "approved", "declined"
    account: Account | None = None
    sid: str | None = None
    consumers: bool = False  # asked through /consumers: personal accounts only

    def evolve(self, **changes: Any) -> DeviceCodeRecord:
        return replace(self, **changes)


@dataclass(frozen=True)
class Consent:
    """What a user consented to for one app (`Scopes.consent_key` entries)."""

    # Stored as "scopes", as earlier versions wrote it: consents outlive an upgrade.
    granted: frozenset[str] = field(default_factory=frozenset, metadata={STORED_AS: "scopes"})
