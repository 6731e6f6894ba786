"""MSAL's instance discovery (`/{tenant}/discovery/instance`) and home realm discovery
(`/common/userrealm/{user}`). The OIDC metadata documents and the JWKS are served by
`front.Front`."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from mock_entra.core import cors
from mock_entra.core.aadsts import AADSTS50049
from mock_entra.core.discovery import MICROSOFT_CLOUDS, MICROSOFT_HOSTS, user_realm_info
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import missing
from mock_entra.web.context import base_url, runtime
from mock_entra.web.respond import json_response
from mock_entra.web.tenant import bp

DAY = 86400


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
    response = json_response(body, max_age=DAY)
    response.headers.update(cors.DOCUMENTS)  # any origin, as Entra's metadata
    return response


@bp.get("/userrealm/<path:username>")
@bp.get("/userrealm")
def user_realm(username: str | None = None):
    """Home realm discovery, which MSAL asks before a username/password grant
    (`GET /common/userrealm/{username}?api-version=1.0`): a user of a configured domain is a
    `Managed` (cloud) account, so MSAL goes on with the password grant itself; any other is
    `Unknown`. The shape is Entra's (as its realm discovery answer is logged by Windows)."""
    name = username or request.args.get("user", "")
    body = user_realm_info(runtime().config, name[:320])
    return json_response(body, no_store=True)
