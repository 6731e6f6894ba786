"""The records of a sign-in, as frozen dataclasses from the authorize request to the token
response: the validated request, the pending sign-in (the `ctx`), the SSO session, the code,
the refresh token and the consent.

Each record is serialized here and nowhere else (`to_json`/`from_json`), for the SQLite
store; `Scopes` are parsed once, at authorize, and carried along resolved. `from_json` needs
the config to find the apps again; a record that no longer fits it (the app or the user was
removed from the config since) loads as None: the caller then sees an unknown ctx, code or
token, as it would with Entra.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from mock_entra.core.aadsts import Aadsts
from mock_entra.core.config import AppRegistration, MockConfig
from mock_entra.core.errors import EntraError
from mock_entra.core.tokens.scopes import Resource, Scopes

T = TypeVar("T")


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


# -- scopes -----------------------------------------------------------------------------------


def _scopes_data(scopes: Scopes) -> dict[str, Any]:
    app = scopes.resource.app
    return {
        "oidc": list(scopes.oidc),
        "api": app.client_id if app else None,  # None: Microsoft Graph
        "identifier": scopes.resource.identifier,
        "requested": list(scopes.requested),
        "permissions": list(scopes.permissions),
        "default": scopes.is_default,
    }


def _scopes_from(data: dict[str, Any], config: MockConfig) -> Scopes:
    api: AppRegistration | None = None
    if data["api"] is not None:
        found = config.find_app(data["api"])
        if found is None:
            raise KeyError(data["api"])
        api = found[1]
    return Scopes(
        oidc=tuple(data["oidc"]),
        resource=Resource(api, data["identifier"]),
        requested=tuple(data["requested"]),
        permissions=tuple(data["permissions"]),
        is_default=bool(data["default"]),
    )


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

    def _data(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "redirect_uri": self.reply.redirect_uri,
            "response_mode": self.reply.response_mode,
            "state": self.reply.state,
            "scopes": _scopes_data(self.scopes),
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "method": self.method,
            "prompt": self.prompt,
            "login_hint": self.login_hint,
            "domain_hint": self.domain_hint,
            "max_age": self.max_age,
            "platform": self.platform,
            "consumers": self.consumers,
            "device_code": self.device_code,
        }

    @classmethod
    def _from(cls, d: dict[str, Any], config: MockConfig) -> AuthorizeRequest:
        return cls(
            tenant_id=d["tenant_id"],
            client_id=d["client_id"],
            reply=ReplyTo(d["redirect_uri"], d["response_mode"], d["state"]),
            scopes=_scopes_from(d["scopes"], config),
            nonce=d["nonce"],
            code_challenge=d["code_challenge"],
            method=d["method"],
            prompt=d["prompt"],
            login_hint=d["login_hint"],
            domain_hint=d["domain_hint"],
            max_age=d["max_age"],
            platform=d.get("platform", "web"),
            consumers=bool(d.get("consumers", False)),
            device_code=d.get("device_code"),
        )


# -- who signed in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A user signed in to a tenant: when, and whether they chose "Stay signed in"."""

    oid: str
    tenant_id: str
    auth_time: int
    kmsi: bool = False

    def _data(self) -> dict[str, Any]:
        return {
            "oid": self.oid,
            "tenant_id": self.tenant_id,
            "auth_time": self.auth_time,
            "kmsi": self.kmsi,
        }

    @classmethod
    def _from(cls, d: dict[str, Any]) -> Account:
        return cls(d["oid"], d["tenant_id"], int(d["auth_time"]), bool(d["kmsi"]))


def _account_or_none(d: dict[str, Any] | None) -> Account | None:
    return None if d is None else Account._from(d)


@dataclass(frozen=True)
class SsoSession:
    """The browser's SSO session (the `ESTSAUTH` cookie): its accounts, newest first."""

    accounts: tuple[Account, ...] = ()

    def with_account(self, account: Account) -> SsoSession:
        others = tuple(a for a in self.accounts if a.oid != account.oid)
        return SsoSession((account, *others))

    def to_json(self) -> str:
        return _dumps({"accounts": [a._data() for a in self.accounts]})

    @classmethod
    def from_json(cls, text: str, config: MockConfig) -> SsoSession:
        return cls(tuple(Account._from(a) for a in json.loads(text)["accounts"]))


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

    def to_json(self) -> str:
        return _dumps(
            {
                "request": self.request._data(),
                "browser": self.browser,
                "sso_sid": self.sso_sid,
                "username": self.username,
                "verified": self.verified._data() if self.verified else None,
                "chosen": self.chosen._data() if self.chosen else None,
                "sid": self.sid,
            }
        )

    @classmethod
    def from_json(cls, text: str, config: MockConfig) -> PendingSignIn:
        d = json.loads(text)
        return cls(
            request=AuthorizeRequest._from(d["request"], config),
            browser=d["browser"],
            sso_sid=d["sso_sid"],
            username=d["username"],
            verified=_account_or_none(d["verified"]),
            chosen=_account_or_none(d["chosen"]),
            sid=d["sid"],
        )


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

    def to_json(self) -> str:
        return _dumps(
            {
                "platform": self.platform,
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scopes": _scopes_data(self.scopes),
                "account": self.account._data(),
                "sid": self.sid,
                "nonce": self.nonce,
                "code_challenge": self.code_challenge,
                "method": self.method,
                "max_age_sent": self.max_age_sent,
            }
        )

    @classmethod
    def from_json(cls, text: str, config: MockConfig) -> CodeRecord:
        d = json.loads(text)
        return cls(
            client_id=d["client_id"],
            redirect_uri=d["redirect_uri"],
            scopes=_scopes_from(d["scopes"], config),
            account=Account._from(d["account"]),
            sid=d["sid"],
            nonce=d["nonce"],
            code_challenge=d["code_challenge"],
            method=d["method"],
            max_age_sent=bool(d["max_age_sent"]),
            platform=d.get("platform", "web"),
        )


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

    def to_json(self) -> str:
        return _dumps(
            {
                "client_id": self.client_id,
                "account": self.account._data(),
                "sid": self.sid,
                "issued_at": self.issued_at,
                "platform": self.platform,
                "expires_at": self.expires_at,
            }
        )

    @classmethod
    def from_json(cls, text: str, config: MockConfig) -> RefreshRecord:
        d = json.loads(text)
        return cls(
            client_id=d["client_id"],
            account=Account._from(d["account"]),
            sid=d["sid"],
            issued_at=int(d["issued_at"]),
            platform=d.get("platform", "web"),
            expires_at=d.get("expires_at"),
        )


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
    last_poll: float | None = None
    consumers: bool = False  # asked through /consumers: personal accounts only

    def evolve(self, **changes: Any) -> DeviceCodeRecord:
        return replace(self, **changes)

    def to_json(self) -> str:
        return _dumps(
            {
                "client_id": self.client_id,
                "tenant_id": self.tenant_id,
                "scopes": _scopes_data(self.scopes),
                "user_code": self.user_code,
                "status": self.status,
                "account": self.account._data() if self.account else None,
                "sid": self.sid,
                "last_poll": self.last_poll,
                "consumers": self.consumers,
            }
        )

    @classmethod
    def from_json(cls, text: str, config: MockConfig) -> DeviceCodeRecord:
        d = json.loads(text)
        return cls(
            client_id=d["client_id"],
            tenant_id=d["tenant_id"],
            scopes=_scopes_from(d["scopes"], config),
            user_code=d["user_code"],
            status=d["status"],
            account=_account_or_none(d["account"]),
            sid=d["sid"],
            last_poll=d["last_poll"],
            consumers=bool(d.get("consumers", False)),
        )


@dataclass(frozen=True)
class Consent:
    """What a user consented to for one app (`Scopes.consent_key` entries)."""

    granted: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> str:
        return _dumps({"scopes": sorted(self.granted)})

    @classmethod
    def from_json(cls, text: str, config: MockConfig) -> Consent:
        return cls(frozenset(json.loads(text)["scopes"]))


def load(record: type[T], text: str | None, config: MockConfig) -> T | None:
    """`record.from_json`, or None when there is nothing, or when what was stored no longer
    fits the config (or this version)."""
    if text is None:
        return None
    try:
        return record.from_json(text, config)  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError):
        return None
