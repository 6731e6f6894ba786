"""The managed identity endpoints: what code on an Azure resource calls for its identity's
tokens, served by `mock-entra serve --managed-identity-port` over plain HTTP on loopback
(`web.managed_identity`), as the platforms serve them.

- App Service, Functions and Container Apps (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`):
  `GET /msi/token?api-version=2019-08-01&resource=...` with the header `X-IDENTITY-HEADER`,
  optional `client_id`, `principal_id` (alias `object_id`) or `mi_res_id`. The answer has
  `expires_on` as a string of epoch seconds, `resource`, `token_type`, `client_id`
  (Learn, "How to use managed identities for App Service and Azure Functions", REST endpoint
  reference); errors are `{"statusCode", "message", "correlationId"}` (MSAL Python
  msal/managed_identity.py `_obtain_token_on_app_service` reads those two fields; the
  400 "Unable to load the proper Managed Identity." quoted in Azure/azure-sdk-for-net#43691).
- A VM's Instance Metadata Service (IMDS, or `AZURE_POD_IDENTITY_AUTHORITY_HOST`):
  `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=...` with the header
  `Metadata: true`, optional `client_id`, `object_id` or `msi_res_id`. The answer's numbers
  are strings (`expires_in`, `expires_on`, `ext_expires_in`, `not_before`); errors are
  OAuth-style error bodies (Azure/azure-rest-api-specs
  specification/imds/data-plane/Microsoft.InstanceMetadataService/stable/2018-10-01/examples/getIdentityToken.json;
  Learn, "How to use managed identities for Azure resources on an Azure VM to acquire an
  access token", error handling: 400 `bad_request_102` "Required metadata header not
  specified", 400 `invalid_resource` for an unknown resource).

A token is the identity's service principal's app-only token as Entra issues it
(`issue.app_only_token`, as for client credentials), plus `xms_mirid` (the identity's Azure
resource id; Learn, "Access token claims reference"). For `api://AzureADTokenExchange` it is
the v2.0 token Entra gives a managed identity to present as a federated credential: `iss`
`{authority}/{tenant}/v2.0`, `sub` and `oid` the identity's object id
(AzureAD/microsoft-identity-web#2551), `aud` the AzureADTokenExchange app's id.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_entra.core.config import (
    TOKEN_EXCHANGE_APP_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    ManagedIdentity,
    Tenant,
)
from mock_entra.core.errors import EntraError
from mock_entra.core.grants.issue import app_only_token
from mock_entra.core.runtime import Runtime
from mock_entra.core.tokens.claims import Issue, aio, rh, uti, v2_issuer
from mock_entra.core.tokens.scopes import parse_scopes

APP_SERVICE_PATH = "/msi/token"
IMDS_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_API_VERSION = "2019-08-01"
IMDS_MIN_API_VERSION = "2018-02-01"  # and any later one
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PARAM_LENGTH = 2048


class PlatformError(Exception):
    """An error of the managed identity endpoint, in its platform's shape (not Entra's):
    App Service's `{statusCode, message, correlationId}` or IMDS's `{error,
    error_description}`; `web.error_bodies.platform_error` writes the body."""

    def __init__(self, status: int, *, platform: str, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.platform = platform  # "app_service" or "imds"
        self.error = error
        self.message = message


def _app_service_error(status: int, message: str) -> PlatformError:
    return PlatformError(status, platform="app_service", error="", message=message)


def _imds_error(error: str, description: str, status: int = 400) -> PlatformError:
    return PlatformError(status, platform="imds", error=error, message=description)


@dataclass(frozen=True)
class Issued:
    """A managed identity's token and its times."""

    access_token: str
    issue: Issue
    resource: str
    identity: ManagedIdentity

    @property
    def expires_on(self) -> int:
        return self.issue.now + self.issue.expires_in


def _single(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name) or []
    if not values:
        return None
    return values[0][:MAX_PARAM_LENGTH]


# --- App Service ---------------------------------------------------------------------------


def app_service(
    rt: Runtime,
    query: Mapping[str, list[str]],
    identity_header: str | None,
    *,
    expected_header: str,
    base_url: str,
) -> dict[str, Any]:
    """`GET /msi/token`: App Service's answer, or `PlatformError`."""
    # The header proves the caller runs inside the app (not a server-side request forgery);
    # a missing or wrong one is refused before anything else is looked at. The status is
    # an inference: no public recording shows App Service's answer to a wrong header.
    if not identity_header or not hmac.compare_digest(
        identity_header.encode(), expected_header.encode()
    ):
        raise _app_service_error(401, "Unauthorized: the X-IDENTITY-HEADER is missing or wrong.")
    version = _single(query, "api-version")
    if version != APP_SERVICE_API_VERSION:
        raise _app_service_error(
            400, f"api-version must be {APP_SERVICE_API_VERSION}, got {version!r:.40}."
        )
    resource = _single(query, "resource")
    if not resource:
        raise _app_service_error(400, "The resource parameter is required.")
    selectors = {
        "client_id": _single(query, "client_id"),
        "object_id": _single(query, "principal_id") or _single(query, "object_id"),
        "resource_id": _single(query, "mi_res_id"),
    }
    tenant_identity = select_identity(rt, selectors)
    if tenant_identity is None:
        raise _app_service_error(400, "Unable to load the proper Managed Identity.")
    try:
        issued = issue_token(rt, *tenant_identity, resource, base_url=base_url)
    except EntraError:
        # An unknown resource: App Service answers a vague 500 (MSAL Python's
        # `_obtain_token_on_app_service`: "wrong resource ends up with a vague statusCode=500").
        raise _app_service_error(
            500, "An unexpected error occured while fetching the AAD Token."
        ) from None
    return {
        "access_token": issued.access_token,
        "expires_on": str(issued.expires_on),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": issued.identity.client_id,
    }


# --- IMDS ----------------------------------------------------------------------------------


def imds(
    rt: Runtime,
    query: Mapping[str, list[str]],
    metadata: str | None,
    *,
    base_url: str,
) -> dict[str, Any]:
    """`GET /metadata/identity/oauth2/token`: IMDS's answer, or `PlatformError`."""
    # "This value must be set to "true", in all lower case" (Learn, the VM how-to).
    if metadata != "true":
        raise _imds_error("bad_request_102", "Required metadata header not specified")
    version = _single(query, "api-version")
    if version is None:
        raise _imds_error("invalid_request", "Required query variable 'api-version' is missing")
    if not _API_VERSION.match(version) or version < IMDS_MIN_API_VERSION:
        raise _imds_error("invalid_request", f"Invalid api-version {version!r:.40}")
    resource = _single(query, "resource")
    if not resource:
        raise _imds_error("invalid_request", "Required query variable 'resource' is missing")
    selectors = {
        "client_id": _single(query, "client_id"),
        "object_id": _single(query, "object_id"),
        "resource_id": _single(query, "msi_res_id") or _single(query, "mi_res_id"),
    }
    tenant_identity = select_identity(rt, selectors)
    if tenant_identity is None:
        # What IMDS answers for an identity the VM does not have; azure-identity reads a
        # 400 as "managed identity is unavailable" (azure/identity/_credentials/imds.py).
        raise _imds_error("invalid_request", "Identity not found")
    try:
        issued = issue_token(rt, *tenant_identity, resource, base_url=base_url)
    except EntraError as error:
        raise _imds_error(error.entry.error, error.description) from None
    seconds = str(issued.issue.expires_in)
    return {
        "access_token": issued.access_token,
        "client_id": issued.identity.client_id,
        "expires_in": seconds,
        "expires_on": str(issued.expires_on),
        "ext_expires_in": seconds,
        "not_before": str(issued.issue.times["nbf"]),
        "resource": resource,
        "token_type": "Bearer",
    }


# --- the identity and its token ------------------------------------------------------------


def select_identity(
    rt: Runtime, selectors: Mapping[str, str | None]
) -> tuple[Tenant, ManagedIdentity] | None:
    """The identity a request names (by client id, object id or resource id; at most one),
    or the system-assigned one when it names none."""
    given = {k: v for k, v in selectors.items() if v}
    if len(given) > 1:
        return None
    for tenant, identity in rt.config.managed_identities():
        if not given and identity.system_assigned:
            return tenant, identity
        for kind, value in given.items():
            if kind == "resource_id" and value.lower() == identity.azure_resource_id.lower():
                return tenant, identity
            if (
                kind in ("client_id", "object_id")
                and value.lower() == getattr(identity, kind).lower()
            ):
                return tenant, identity
    return None


def issue_token(
    rt: Runtime, tenant: Tenant, identity: ManagedIdentity, resource: str, *, base_url: str
) -> Issued:
    """The identity's token for `resource` (a resource URI or app id, as these endpoints
    take it: no `/.default`); `EntraError` (AADSTS500011) for a resource the tenant lacks."""
    mirid = {"xms_mirid": identity.azure_resource_id}
    if resource.rstrip("/") in (TOKEN_EXCHANGE_AUDIENCE, TOKEN_EXCHANGE_APP_ID):
        return _exchange_token(rt, tenant, identity, resource, base_url, mirid)
    scopes = parse_scopes(
        resource.rstrip("/") + "/.default", rt.config, tenant_name=tenant.display_name
    )
    token, issue = app_only_token(
        rt,
        tenant,
        identity.as_app(),
        scopes,
        base_url=base_url,
        # A managed identity authenticates to Entra with a certificate the platform holds:
        # `appidacr`/`azpacr` "2" (Learn, "Access token claims reference"), not a secret's "1".
        client_acr="2",
        extra=mirid,
    )
    return Issued(token, issue, resource, identity)


def _exchange_token(
    rt: Runtime,
    tenant: Tenant,
    identity: ManagedIdentity,
    resource: str,
    base_url: str,
    mirid: dict[str, str],
) -> Issued:
    issue = Issue(rt.now(), rt.token_lifetime())
    claims = {
        "aud": TOKEN_EXCHANGE_APP_ID,
        "iss": v2_issuer(base_url, tenant.tenant_id),
        **issue.times,
        "aio": aio(),
        "azp": identity.client_id,
        "azpacr": "2",
        "idtyp": "app",
        "oid": identity.object_id,
        "rh": rh(tenant.tenant_id, TOKEN_EXCHANGE_APP_ID),
        "sub": identity.object_id,
        "tid": tenant.tenant_id,
        "uti": uti(),
        "ver": "2.0",
        **mirid,
    }
    return Issued(rt.keys.sign(claims, kid=rt.active_kid()), issue, resource, identity)
