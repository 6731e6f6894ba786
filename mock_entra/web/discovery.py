"""Discovery routes: OIDC metadata (v2 and v1), instance discovery and JWKS, as Entra
serves them. Bodies are built once per host and tenant and served as bytes; `front.Front`
serves the same bytes without Flask when the request log is off."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import request

from mock_entra.core.aadsts import AADSTS50049, EntraError, missing
from mock_entra.core.discovery import MICROSOFT_CLOUDS, MICROSOFT_HOSTS, jwks_issuer, metadata
from mock_entra.web.context import base_url, runtime
from mock_entra.web.respond import json_response
from mock_entra.web.tenant import bp, current_tenant, tenant_segment

DAY = 86400


def _metadata(version: str) -> bytes:
    base, tenant, segment = base_url(), current_tenant(), tenant_segment()
    key = (version, base, tenant.tenant_id if tenant else segment.lower())
    cache = runtime().cache
    body = cache.get(key)
    if body is None:
        document = metadata(version, base, tenant, segment)
        body = cache[key] = json.dumps(document, separators=(",", ":")).encode()
    return body


@bp.get("/v2.0/.well-known/openid-configuration")
def openid_configuration():
    return json_response(_metadata("v2"), max_age=DAY)


@bp.get("/.well-known/openid-configuration")
def openid_configuration_v1():
    return json_response(_metadata("v1"), max_age=DAY)


@bp.get("/discovery/v2.0/keys")
def keys():
    issuer = jwks_issuer(base_url(), current_tenant())
    return json_response(runtime().keys.jwks_bytes(issuer), max_age=DAY)


@bp.get("/discovery/keys")
def keys_v1():
    return json_response(runtime().keys.jwks_bytes(None), max_age=DAY)


@bp.get("/discovery/instance")
def instance_discovery():
    """MSAL's instance discovery (api-version 1.0 validation and 1.1 alias lookup)."""
    endpoint = request.args.get("authorization_endpoint")
    if not endpoint:
        raise missing("authorization_endpoint")
    parts = urlsplit(endpoint)
    own_host = urlsplit(base_url()).hostname
    if parts.scheme != "https" or parts.hostname not in (MICROSOFT_HOSTS | {own_host}):
        raise EntraError(AADSTS50049)
    # The tenant and the v1/v2 shape of the discovery URL mirror the endpoint sent.
    path = parts.path.strip("/").split("/")
    tenant = path[0] if path and path[0] else "common"
    version_part = "v2.0/" if "v2.0" in path else ""
    api_version = request.args.get("api-version", "1.1")
    metadata = list(MICROSOFT_CLOUDS)
    if own_host not in MICROSOFT_HOSTS:
        metadata.insert(
            0, {"preferred_network": own_host, "preferred_cache": own_host, "aliases": [own_host]}
        )
    document = f"{base_url()}/{tenant}/{version_part}.well-known/openid-configuration"
    body = {
        "tenant_discovery_endpoint": document,
        "api-version": api_version,
        "metadata": metadata,
    }
    return json_response(body, max_age=DAY)
