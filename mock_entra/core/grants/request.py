"""What every grant reads from a token request: the request itself (`TokenRequest`), the
platform rules of redeeming a grant, and the sign-in a code or refresh token carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_entra.core.aadsts import AADSTS70000, AADSTS9002326, AADSTS9002327
from mock_entra.core.config import MockConfig, Tenant
from mock_entra.core.errors import EntraError
from mock_entra.core.grants import issue
from mock_entra.core.grants.client_auth import Client
from mock_entra.core.runtime import Runtime
from mock_entra.core.store.records import Account, CodeRecord, RefreshRecord
from mock_entra.core.store.repos import Stored
from mock_entra.core.tokens.claims import ClaimsRequest, SignIn
from mock_entra.core.tokens.scopes import Scopes


@dataclass(frozen=True)
class TokenRequest:
    """A token request as the web layer hands it over: plain values, no Flask."""

    tenant: Tenant | None  # None for common / organizations
    tenant_segment: str
    form: Mapping[str, list[str]]  # every value of every parameter, to catch duplicates
    authorization: str | None  # the Authorization header, for client_secret_basic
    base_url: str  # scheme://host[:port] the client called: the issuer's host
    origin: str | None = None  # the Origin header: a browser's cross-origin request
    # Read once by `dispatch.token` before the grant runs, and not again by the grant: the
    # `claims` parameter, and the record of the code or refresh token presented (read only
    # when a token fault is in force, to find its user).
    claims: ClaimsRequest = field(default_factory=ClaimsRequest)
    code_read: CodeRecord | None = None
    refresh_read: Stored[RefreshRecord] | None = None

    def user_tokens(
        self,
        rt: Runtime,
        p: Mapping[str, str],
        signin: SignIn,
        scopes: Scopes,
        *,
        nonce: str | None = None,
        max_age_sent: bool = False,
        platform: str = "web",
        refresh_expires_at: int | None = None,
        client_acr: str = "0",
    ) -> dict[str, Any]:
        """`issue.user_tokens` with what every user grant takes from the request: the
        issuer's host, `client_info=1` and the `claims` parameter (client capabilities);
        `client_acr` is how the client authenticated (`Client.acr`)."""
        return issue.user_tokens(
            rt,
            signin,
            scopes,
            base_url=self.base_url,
            nonce=nonce,
            want_client_info=p.get("client_info") == "1",
            max_age_sent=max_age_sent,
            platform=platform,
            refresh_expires_at=refresh_expires_at,
            claims_request=self.claims,
            client_acr=client_acr,
        )


Grant = Callable[[Runtime, TokenRequest, dict[str, str], Client], dict]
"""A grant: the request, its single-valued parameters and the authenticated client in, the
success body out (or `EntraError`)."""


def user_tenant(config: MockConfig, client: Client, account: Account) -> Tenant | None:
    """Where the account lives: the app's tenant, or the personal accounts' tenant (a
    personal account signed in through /consumers: its tokens carry that `tid`)."""
    if account.tenant_id == client.tenant.tenant_id:
        return client.tenant
    personal = config.personal_tenant
    if personal is not None and account.tenant_id == personal.tenant_id:
        return personal
    return None


def signin_of(config: MockConfig, client: Client, account: Account, sid: str) -> SignIn:
    tenant = user_tenant(config, client, account)
    user = tenant.user_by_id(account.oid) if tenant is not None else None
    if tenant is None or user is None:  # the user was removed from the config since
        raise EntraError(AADSTS70000, detail="The user could not be found.")
    return SignIn(tenant, user, client.app, sid, account.auth_time, account.kmsi)


def check_platform(req: TokenRequest, c: Client, platform: str) -> None:
    """How a grant for a redirect URI of this platform may be redeemed (Learn, "Single-page
    application: Code redemption"): a spa's only cross-origin (an `Origin`), nobody else's
    cross-origin; a web app's with client authentication."""
    if platform == "spa":
        if req.origin is None:
            raise EntraError(AADSTS9002327)
        return
    if req.origin is not None:
        raise EntraError(AADSTS9002326, origin=req.origin)
    if platform == "web":
        c.require_authenticated()
