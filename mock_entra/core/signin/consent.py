"""Consent as Entra keeps it: per user, per client app, per resource (a user's grants, kept in
the store by `Runtime.add_consent`), plus an admin's consent for the whole tenant
(`AppRegistration.admin_consent_granted`: every permission the registration lists in
`required_resource_access`).

Entra's token carries every scope consented for the resource, not only the requested ones,
and a later request for a new scope asks consent for that scope only (incremental consent):
Learn, "Scopes and permissions in the Microsoft identity platform" ("Incremental and dynamic
user consent"; "the token ... contains all the scopes previously consented"), and "Grant
tenant-wide admin consent to an application".

The grants that cannot show the consent page (refresh, on-behalf-of, username/password)
answer AADSTS65001 `consent_required` for a scope nobody consented to, as Entra does.
"""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS65001
from mock_entra.core.config import GRAPH_APP_ID, GRAPH_RESOURCE, AppRegistration, MockConfig, Tenant
from mock_entra.core.errors import EntraError
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin.permission_text import GRAPH_USER_CONSENT, PermissionText
from mock_entra.core.tokens.claims import SignIn
from mock_entra.core.tokens.scopes import OIDC_SCOPES, Scopes


def _resource_name(config: MockConfig, key: str) -> str | None:
    """A `required_resource_access` key as consent records name the resource."""
    if key.rstrip("/") in (GRAPH_RESOURCE, GRAPH_APP_ID):
        return GRAPH_APP_ID
    found = config.resource_app(key)
    return found[1].client_id if found else None


def admin_granted(config: MockConfig, app: AppRegistration) -> frozenset[str]:
    """What an admin's tenant-wide consent granted the app (consent-record entries)."""
    if not app.admin_consent_granted:
        return frozenset()
    keys = {f"oidc/{s}" for s in OIDC_SCOPES}
    for resource, perms in app.required_resource_access.items():
        name = _resource_name(config, resource)
        if name is not None:
            keys.update(f"{name}/{p}" for p in perms)
    return frozenset(keys)


def granted(rt: Runtime, tenant: Tenant, oid: str, app: AppRegistration) -> frozenset[str]:
    """Everything the user may use the app for: their own consent and the admin's."""
    return rt.consented(tenant, oid, app.client_id) | admin_granted(rt.config, app)


def missing_consent(
    rt: Runtime, tenant: Tenant, oid: str, app: AppRegistration, scopes: Scopes
) -> list[str]:
    """The consent-record entries a request needs that nobody granted yet (the consent page
    lists only these: incremental consent)."""
    have = granted(rt, tenant, oid, app)
    return [k for k in scopes.consent_key() if k not in have]


def with_consented(rt: Runtime, signin: SignIn, scopes: Scopes) -> Scopes:
    """`scopes` widened by every permission consented for the same resource."""
    prefix = scopes.resource_key + "/"
    have = granted(rt, signin.tenant, signin.user.object_id, signin.app)
    extra = tuple(sorted(k[len(prefix) :] for k in have if k.startswith(prefix)))
    return scopes.granted(extra)


def require_consent(rt: Runtime, signin: SignIn, scopes: Scopes) -> None:
    if not signin.app.require_consent:
        return
    missing = missing_consent(rt, signin.tenant, signin.user.object_id, signin.app, scopes)
    if any(not k.startswith("oidc/") for k in missing):
        raise EntraError(
            AADSTS65001, client_id=signin.app.client_id, app_name=signin.app.display_name
        )


def consent_text(scopes: Scopes, permission: str) -> PermissionText:
    """How the consent page words a permission: Graph's user consent display name and
    description for Graph's permissions and the OIDC scopes (`permission_text`); a
    configured API's scope by its name, the config holding no consent text."""
    if scopes.resource.is_graph or permission in OIDC_SCOPES:
        found = GRAPH_USER_CONSENT.get(permission)
        if found is not None:
            return found
    return PermissionText(permission, "")
