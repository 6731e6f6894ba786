"""Discovery: OIDC metadata (v2 and v1), instance discovery and JWKS, as Entra serves them
(entra-fidelity §1, §2, §4.4). Bodies are built once per host and tenant and served as bytes.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import request

from mock_entra.core.aadsts import AADSTS50049, EntraError, missing
from mock_entra.web.context import base_url, runtime
from mock_entra.web.respond import json_response
from mock_entra.web.tenant import bp, current_tenant, tenant_segment

MICROSOFT_CLOUDS = [
    {
        "preferred_network": "login.microsoftonline.com",
        "preferred_cache": "login.windows.net",
        "aliases": [
            "login.microsoftonline.com",
            "login.windows.net",
            "login.microsoft.com",
            "sts.windows.net",
        ],
    },
    {
        "preferred_network": "login.partner.microsoftonline.cn",
        "preferred_cache": "login.partner.microsoftonline.cn",
        "aliases": ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
    },
    {
        "preferred_network": "login.microsoftonline.de",
        "preferred_cache": "login.microsoftonline.de",
        "aliases": ["login.microsoftonline.de"],
    },
    {
        "preferred_network": "login.microsoftonline.us",
        "preferred_cache": "login.microsoftonline.us",
        "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"],
    },
    {
        "preferred_network": "login-us.microsoftonline.com",
        "preferred_cache": "login-us.microsoftonline.com",
        "aliases": ["login-us.microsoftonline.com"],
    },
]
_MICROSOFT_HOSTS = {a for cloud in MICROSOFT_CLOUDS for a in cloud["aliases"]}
DAY = 86400


def _cached(key: tuple, build) -> bytes:
    cache = runtime().cache
    body = cache.get(key)
    if body is None:
        body = cache[key] = json.dumps(build(), separators=(",", ":")).encode()
    return body


def _segment_for_urls() -> str:
    # Domain-name tenants get endpoints with the GUID, as Entra's document does.
    tenant = current_tenant()
    return tenant.tenant_id if tenant else tenant_segment().lower()


def v2_document(base: str, segment: str, region: str | None) -> dict:
    tid = "{tenantid}" if segment in ("common", "organizations", "consumers") else segment
    root = f"{base}/{segment}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{tid}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": region,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def v1_document(base: str, segment: str, region: str | None) -> dict:
    tid = "{tenantid}" if segment in ("common", "organizations", "consumers") else segment
    root = f"{base}/{segment}"
    return {
        "token_endpoint": f"{root}/oauth2/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/common/discovery/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": [
            "code",
            "id_token",
            "code id_token",
            "token id_token",
            "token",
        ],
        "scopes_supported": ["openid"],
        "issuer": f"https://sts.windows.net/{tid}/",
        "microsoft_multi_refresh_token": True,
        "authorization_endpoint": f"{root}/oauth2/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/logout",
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "amr",
            "nonce",
            "email",
            "given_name",
            "family_name",
            "nickname",
        ],
        "check_session_iframe": f"{root}/oauth2/checksession",
        "userinfo_endpoint": f"{root}/openid/userinfo",
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": region,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def _metadata(version: str) -> bytes:
    base, segment = base_url(), _segment_for_urls()
    tenant = current_tenant()
    region = tenant.region_scope if tenant else None
    build = v2_document if version == "v2" else v1_document
    return _cached((version, base, segment), lambda: build(base, segment, region))


@bp.get("/v2.0/.well-known/openid-configuration")
def openid_configuration():
    return json_response(_metadata("v2"), max_age=DAY)


@bp.get("/.well-known/openid-configuration")
def openid_configuration_v1():
    return json_response(_metadata("v1"), max_age=DAY)


@bp.get("/discovery/v2.0/keys")
def keys():
    tenant = current_tenant()
    issuer = f"{base_url()}/{tenant.tenant_id if tenant else '{tenantid}'}/v2.0"
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
    if parts.scheme != "https" or parts.hostname not in (_MICROSOFT_HOSTS | {own_host}):
        raise EntraError(AADSTS50049)
    # The tenant and the v1/v2 shape of the discovery URL mirror the endpoint sent.
    path = parts.path.strip("/").split("/")
    tenant = path[0] if path and path[0] else "common"
    version_part = "v2.0/" if "v2.0" in path else ""
    api_version = request.args.get("api-version", "1.1")
    metadata = list(MICROSOFT_CLOUDS)
    if own_host not in _MICROSOFT_HOSTS:
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
