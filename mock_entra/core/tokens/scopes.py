"""Scope strings as Entra reads them: OIDC scopes, one resource per request, short-form Graph
permissions (`User.Read`), URI-form (`https://graph.microsoft.com/User.Read`) and `/.default`.
See Learn "Scopes and permissions in the Microsoft identity platform".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mock_entra.core.aadsts import AADSTS28000, AADSTS70011, AADSTS500011
from mock_entra.core.config import (
    GRAPH_APP_ID,
    GRAPH_DELEGATED_SCOPES,
    GRAPH_RESOURCE,
    AppRegistration,
    MockConfig,
)
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import missing

OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
_GRAPH_PREFIXES = (GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID)
_GRAPH_BY_LOWER = {s.lower(): s for s in GRAPH_DELEGATED_SCOPES}
GRAPH_DEFAULT_PERMISSIONS = ("User.Read",)  # what the portal configures on a new registration


@dataclass(frozen=True)
class Resource:
    """The API a token is for: Microsoft Graph or an app of the config that exposes an API."""

    app: AppRegistration | None  # None: Microsoft Graph
    identifier: str  # how the request named it (a URI prefix, or "" for short-form Graph)

    @property
    def is_graph(self) -> bool:
        return self.app is None

    def audience(self) -> str:
        if self.app is None:
            # Short-form scopes give Graph's app id, URI-form ones its URL
            # (AzureAD/microsoft-authentication-library-for-js#5672).
            return GRAPH_RESOURCE if self.identifier else GRAPH_APP_ID
        if self.app.token_version == 2:
            return self.app.client_id  # v2 API tokens carry the API's client id
        # v1: the App ID URI the request named it by (Learn, "Access token claims reference")
        return self.identifier or self.app.app_id_uri or self.app.client_id


@dataclass(frozen=True)
class Scopes:
    """A parsed `scope` parameter."""

    oidc: tuple[str, ...]
    resource: Resource
    requested: tuple[str, ...]  # resource scopes, spelled as sent
    permissions: tuple[str, ...]  # bare permission names, for `scp`
    is_default: bool

    @property
    def wants_id_token(self) -> bool:
        return "openid" in self.oidc

    @property
    def wants_refresh_token(self) -> bool:
        return "offline_access" in self.oidc

    @property
    def resource_key(self) -> str:
        """How consent records name the resource: Graph's app id or the API's client id."""
        return self.resource.app.client_id if self.resource.app else GRAPH_APP_ID

    def spelled(self, permission: str) -> str:
        """A permission as this request spells its resource: `User.Read` for short-form Graph
        requests, `https://graph.microsoft.com/User.Read`, `api://my-api/Tasks.Read`."""
        prefix = self.resource.identifier
        return f"{prefix.rstrip('/')}/{permission}" if prefix else permission

    def granted(self, permissions: tuple[str, ...]) -> Scopes:
        """These scopes widened by what the user (or an admin) consented to before for the
        same resource: Entra's token carries every consented scope, not only the asked ones."""
        return replace(self, permissions=tuple(dict.fromkeys((*self.permissions, *permissions))))

    def response_scope(self) -> str:
        """The `scope` of the token response: the requested resource scopes as sent (MSAL's
        cache looks them up by that spelling), the other consented ones in the request's
        spelling, then the OIDC scopes as Entra lists them ("User.Read profile openid email",
        MicrosoftDocs/azure-docs#101648). `offline_access` is never echoed."""
        parts = list(self.requested)
        said = {p.rsplit("/", 1)[-1].lower() for p in self.requested}
        parts += [self.spelled(p) for p in self.permissions if p.lower() not in said]
        if any(s in self.oidc for s in ("openid", "profile", "email")):
            parts += ["profile", "openid", "email"]
        return " ".join(parts)

    def scp(self) -> str:
        """The `scp` claim: Graph tokens list OIDC scopes too; API tokens only the API's."""
        perms = list(self.permissions)
        if self.resource.is_graph:
            perms += [s for s in ("profile", "openid", "email") if s in self.oidc or perms]
        return " ".join(dict.fromkeys(perms))

    def consent_key(self) -> list[str]:
        """What the user consents to: the resource's permissions (and OIDC scopes)."""
        name = self.resource_key
        return [f"{name}/{p}" for p in self.permissions] + [
            f"oidc/{s}" for s in self.oidc if s != "offline_access"
        ]


def default_permissions(client: AppRegistration | None, resource: Resource) -> tuple[str, ...]:
    """What `{resource}/.default` asks for: the permissions the client's registration lists
    for that resource (Learn, "The /.default scope": "the static list of permissions
    configured on the application registration"); unset, Graph's User.Read and an API's
    every exposed scope."""
    if client is not None:
        for key, perms in client.required_resource_access.items():
            if resource_matches(key, resource):
                return tuple(perms)
    return GRAPH_DEFAULT_PERMISSIONS if resource.app is None else resource.app.exposed_scopes


def resource_matches(key: str, resource: Resource) -> bool:
    """Whether a config key (a resource URI, app id or client id) names this resource."""
    key = key.rstrip("/")
    if resource.app is None:
        return key in (GRAPH_RESOURCE, GRAPH_APP_ID)
    api = resource.app
    return key in (api.app_id_uri, api.client_id, f"api://{api.client_id}")


def parse_scopes(
    raw: str | None,
    config: MockConfig,
    *,
    tenant_name: str = "",
    client: AppRegistration | None = None,
) -> Scopes:
    """Parse and check a scope string; raise AADSTS70011 / 28000 / 500011 as Entra does.
    `client` (the app asking) decides what `/.default` expands to."""
    if raw is None or not raw.strip():
        raise missing("scope")
    oidc: list[str] = []
    resources: dict[str, Resource] = {}
    requested: list[str] = []
    permissions: list[str] = []
    is_default = False
    for token in raw.split():
        if token.lower() in OIDC_SCOPES:
            oidc.append(token.lower())
            continue
        if "/" in token:
            prefix, perm = token.rsplit("/", 1)
            if prefix in _GRAPH_PREFIXES or prefix.rstrip("/") == GRAPH_RESOURCE:
                resource = Resource(None, GRAPH_RESOURCE)
            else:
                found = config.resource_app(prefix)
                if found is None:
                    raise EntraError(AADSTS500011, resource=prefix, tenant=tenant_name)
                resource = Resource(found[1], prefix)
        else:
            prefix, perm = "", token
            resource = Resource(None, "")
        resources[resource.app.client_id if resource.app else "graph"] = resource
        if perm == ".default":
            is_default = True
            perms = default_permissions(client, resource)
        elif resource.app is None:
            known = _GRAPH_BY_LOWER.get(perm.lower())
            if known is None:
                raise EntraError(AADSTS70011, scope=token)
            perms = (known,)
        else:
            if perm not in resource.app.exposed_scopes:
                raise EntraError(AADSTS70011, scope=token)
            perms = (perm,)
        requested.append(token)
        permissions.extend(perms)
    if len(resources) > 1:
        raise EntraError(AADSTS28000, scope=raw)
    resource = next(iter(resources.values()), Resource(None, ""))
    return Scopes(
        oidc=tuple(dict.fromkeys(oidc)),
        resource=resource,
        requested=tuple(dict.fromkeys(requested)),
        permissions=tuple(dict.fromkeys(permissions)),
        is_default=is_default,
    )
