"""The device authorization grant (RFC 8628) as Entra serves it.

Learn, "Microsoft identity platform and the OAuth 2.0 device authorization grant flow":
`POST /{tenant}/oauth2/v2.0/devicecode` (client_id, scope) answers `device_code`,
`user_code`, `verification_uri`, `expires_in` (900), `interval` (5) and `message`; the user
opens the verification page (`web.signin`: the code box `#otc`, Next `#idSIButton9`), then
the ordinary sign-in pages; meanwhile the client polls the token endpoint with
`grant_type=urn:ietf:params:oauth:grant-type:device_code` and gets `authorization_pending`
(AADSTS70016), `authorization_declined`, `bad_verification_code` (70018) or
`expired_token` (70020) until the tokens come.

Only a public client polls without a credential: an app with "Allow public client flows"
(`is_fallback_public_client`) or a mobile-and-desktop redirect URI; any other app must
authenticate, else AADSTS7000218 (what Entra answers when the setting is off).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from mock_entra.core.aadsts import (
    AADSTS65004_DEVICE,
    AADSTS70016,
    AADSTS70018,
    AADSTS70020,
    AADSTS700016,
    AADSTS7000218,
)
from mock_entra.core.config import AppRegistration, audience
from mock_entra.core.config.tenants import tenant_of
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import required, single_values
from mock_entra.core.runtime import Runtime, opaque
from mock_entra.core.store.records import Account, DeviceCodeRecord
from mock_entra.core.store.repos import Stored
from mock_entra.core.tokens.scopes import parse_scopes

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
# Entra's user codes are 8-9 letters and digits; these leave out look-alikes (0/O, 1/I/L).
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
USER_CODE_LENGTH = 9
MAX_USER_CODE_LENGTH = 64
MAX_PARAM_LENGTH = 8 * 1024


def allows_public_polling(app: AppRegistration) -> bool:
    return app.is_fallback_public_client or bool(app.public_client_redirect_uris)


def start(
    rt: Runtime, segment: str, form: Mapping[str, list[str]], *, base_url: str, v1: bool = False
) -> dict[str, object]:
    """The device authorization response for `/{segment}/oauth2[/v2.0]/devicecode`. The v1
    endpoint answers in its own shape: `verification_url`, and `expires_in` and `interval` as
    strings (ADAL's OAuth2DeviceCodeResponseParameters,
    AzureAD/azure-activedirectory-library-for-python adal/constants.py; MSAL Python reads them
    with int(): "Some IdP returns string", msal/oauth2cli/oauth2.py)."""
    tenant = tenant_of(rt.config, segment)
    p = single_values(form, MAX_PARAM_LENGTH)
    client_id = required(p, "client_id")
    found = rt.config.find_app(client_id)
    if found is None or (tenant is not None and found[0] is not tenant):
        name = tenant.display_name if tenant else segment
        raise EntraError(AADSTS700016, client_id=client_id, tenant=name)
    app_tenant, app = found
    audience.check(app, tenant, segment)
    raw_scope = p.get("scope")
    if raw_scope is None and p.get("resource"):  # the v1 endpoint names a resource
        raw_scope = f"{p['resource'].rstrip('/')}/.default"
    scopes = parse_scopes(raw_scope, rt.config, tenant_name=app_tenant.display_name, client=app)
    device_code = opaque("DAQABAAEAAAD", 256)
    user_code = "".join(secrets.choice(_ALPHABET) for _ in range(USER_CODE_LENGTH))
    lifetime = rt.config.device_code_lifetime
    record = DeviceCodeRecord(
        client_id=app.client_id,
        tenant_id=app_tenant.tenant_id,
        scopes=scopes,
        user_code=user_code,
        consumers=audience.consumers_only(tenant, segment),
    )
    rt.records.device_codes.put(device_code, record, ttl=lifetime)
    rt.records.user_codes.put(user_code, device_code, ttl=lifetime)
    verification_uri = f"{base_url}/devicelogin"  # Entra: https://microsoft.com/devicelogin
    message = (
        f"To sign in, use a web browser to open the page {verification_uri} and enter "
        f"the code {user_code} to authenticate."
    )
    interval = rt.config.device_code_interval
    if v1:
        return {
            "user_code": user_code,
            "device_code": device_code,
            "verification_url": verification_uri,
            "expires_in": str(lifetime),
            "interval": str(interval),
            "message": message,
        }
    return {
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": lifetime,
        "interval": interval,
        "message": message,
    }


def pending_by_user_code(rt: Runtime, user_code: str) -> tuple[str, DeviceCodeRecord] | None:
    """The pending device code a user typed the code of (case and spaces ignored, as the
    page does), or None when it is unknown, expired or already used."""
    typed = "".join(user_code.split()).upper()[:MAX_USER_CODE_LENGTH]
    device_code = rt.records.user_codes.get(typed) if typed else None
    if device_code is None:
        return None
    found = _pending(rt, device_code)
    return None if found is None else (device_code, found.record)


def _pending(rt: Runtime, device_code: str) -> Stored[DeviceCodeRecord] | None:
    found = rt.records.device_codes.get_with_expiry(device_code)
    if found is None or found.expires_at <= rt.clock.now() or found.record.status != "pending":
        return None
    return found


def _update(rt: Runtime, device_code: str, expires_at: float, record: DeviceCodeRecord) -> None:
    """Rewrite the record, keeping its expiry."""
    ttl = max(1.0, expires_at - rt.clock.now())
    rt.records.device_codes.put(device_code, record, ttl=ttl)


def approve(rt: Runtime, device_code: str, account: Account, sid: str) -> None:
    """The user signed in on the verification page: the next poll gets the tokens."""
    found = _pending(rt, device_code)
    if found is not None:
        approved = found.record.evolve(status="approved", account=account, sid=sid)
        _update(rt, device_code, found.expires_at, approved)
        rt.records.user_codes.delete(found.record.user_code)  # one sign-in per code


def decline(rt: Runtime, device_code: str) -> None:
    found = _pending(rt, device_code)
    if found is not None:
        _update(rt, device_code, found.expires_at, found.record.evolve(status="declined"))
        rt.records.user_codes.delete(found.record.user_code)


def poll(rt: Runtime, client_id: str, device_code: str) -> DeviceCodeRecord:
    """One poll of the token endpoint: the approved record (taken: single use), or Entra's
    error for where the flow is."""
    found = rt.records.device_codes.get_with_expiry(device_code)
    if found is None or found.record.client_id != client_id:
        raise EntraError(AADSTS70018)
    record, now = found.record, rt.clock.now()
    if found.expires_at <= now:
        raise EntraError(AADSTS70020)
    if record.status == "declined":
        raise EntraError(AADSTS65004_DEVICE)
    if record.status == "approved":
        if rt.records.device_codes.take(device_code, read=record) is None:  # another poll took it
            raise EntraError(AADSTS70018)
        return record
    # Every poll before the user finishes is `authorization_pending`, however often it comes:
    # Entra documents no `slow_down` (Learn, "OAuth 2.0 device authorization grant", the
    # polling errors), and every captured poll is AADSTS70016 (tests/fidelity/exchanges/
    # token-device-code-pending-*).
    raise EntraError(AADSTS70016)


def require_client(app: AppRegistration, authenticated: bool) -> None:
    """A confidential app polls with its credential; only a public client may poll without."""
    if allows_public_polling(app):
        return
    if not authenticated or not app.is_confidential:
        raise EntraError(AADSTS7000218)
