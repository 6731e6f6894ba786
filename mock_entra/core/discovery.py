"""Entra's discovery documents (OIDC metadata v2 and v1) and the clouds MSAL's instance
discovery knows, as plain data
(https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc; the clouds as
MSAL Python's msal/authority.py lists them)."""

from __future__ import annotations

from typing import Any

from mock_entra.core.config import PERSONAL_TENANT_ID, MockConfig, Tenant
from mock_entra.core.config.tenants import ALIASES

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
MICROSOFT_HOSTS = {a for cloud in MICROSOFT_CLOUDS for a in cloud["aliases"]}

_COMMON_CLAIMS = ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name"]
_COMMON_CLAIMS += ["cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat"]


# Entra's documents list their fields in this order (clients do not care; people diffing do);
# v1 and v2 share three runs of it.
_ENDPOINTS_FIRST = (
    "token_endpoint",
    "token_endpoint_auth_methods_supported",
    "jwks_uri",
    "response_modes_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "response_types_supported",
    "scopes_supported",
    "issuer",
)
_SIGN_IN_AND_OUT = (
    "authorization_endpoint",
    "device_authorization_endpoint",
    "http_logout_supported",
    "frontchannel_logout_supported",
    "end_session_endpoint",
    "claims_supported",
)
_CLOUD_LAST = (
    "kerberos_endpoint",
    "tenant_region_scope",
    "cloud_instance_name",
    "cloud_graph_host_name",
    "msgraph_host",
    "rbac_url",
)
_V2_ORDER = (
    *_ENDPOINTS_FIRST,
    "request_uri_parameter_supported",
    "userinfo_endpoint",
    *_SIGN_IN_AND_OUT,
    *_CLOUD_LAST,
)
_V1_ORDER = (
    *_ENDPOINTS_FIRST,
    "microsoft_multi_refresh_token",
    *_SIGN_IN_AND_OUT,
    "check_session_iframe",
    "userinfo_endpoint",
    *_CLOUD_LAST,
)


def _ordered(fields: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {name: fields[name] for name in order}


def _shared(root: str, region: str | None) -> dict[str, Any]:
    """The fields v1 and v2 documents share (each adds its own, in Entra's order)."""
    return {
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": region,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def _issuer_tid(segment: str) -> str:
    """The tenant in a document's `issuer`: `/consumers` names the personal accounts' tenant
    (its tokens all come from there), the other aliases a `{tenantid}` template."""
    if segment == "consumers":
        return PERSONAL_TENANT_ID
    return "{tenantid}" if segment in ALIASES else segment


def v2_document(base: str, segment: str, region: str | None) -> dict[str, Any]:
    tid = _issuer_tid(segment)
    root = f"{base}/{segment}"
    fields = {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{tid}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": [
            *_COMMON_CLAIMS,
            *["auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver"],
            *["at_hash", "c_hash", "email"],
        ],
        **_shared(root, region),
    }
    return _ordered(fields, _V2_ORDER)


def v1_document(base: str, segment: str, region: str | None) -> dict[str, Any]:
    tid = _issuer_tid(segment)
    root = f"{base}/{segment}"
    fields = {
        "token_endpoint": f"{root}/oauth2/token",
        "jwks_uri": f"{base}/common/discovery/keys",
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
        "end_session_endpoint": f"{root}/oauth2/logout",
        "claims_supported": [
            *_COMMON_CLAIMS,
            *["auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name"],
            "nickname",
        ],
        "check_session_iframe": f"{root}/oauth2/checksession",
        "userinfo_endpoint": f"{root}/openid/userinfo",
        **_shared(root, region),
    }
    return _ordered(fields, _V1_ORDER)


def metadata(version: str, base: str, tenant: Tenant | None, segment: str) -> dict[str, Any]:
    """The v2 or v1 document for `/{segment}/...` on `base`; domain-name tenants get
    endpoints with the GUID, as Entra's document does."""
    for_urls = tenant.tenant_id if tenant else segment.lower()
    region = tenant.region_scope if tenant else None
    build = v2_document if version == "v2" else v1_document
    return build(base, for_urls, region)


def jwks_issuer(base: str, tenant: Tenant | None, segment: str) -> str:
    """The `issuer` each v2 JWKS key of `/{segment}/discovery/v2.0/keys` carries: the tenant's,
    the personal accounts' tenant for `/consumers` (its keys sign only tokens of that issuer:
    https://learn.microsoft.com/entra/identity-platform/access-tokens, "Validate the issuer";
    observed in peterbom/node-home-api@d1de2c3b02e6309205d248a43ec0bb3298add338:
    test/authentication.spec.js), the `{tenantid}` template for the other aliases, as in the
    discovery document's `issuer`."""
    return f"{base}/{tenant.tenant_id if tenant else _issuer_tid(segment.lower())}/v2.0"


def user_realm_info(config: MockConfig, username: str) -> dict[str, Any]:
    """Home realm discovery's answer for a user name (`/common/userrealm/{user}`): `Managed`
    with the domain when the domain is a configured tenant's, else `Unknown`."""
    domain = username.rpartition("@")[2].lower()
    body: dict[str, Any] = {"ver": "1.0", "account_type": "Unknown"}
    if domain and any(config.tenant(domain) is t for t in config.tenants):
        body = {"ver": "1.0", "account_type": "Managed", "domain_name": domain}
    body["cloud_instance_name"] = "microsoftonline.com"
    body["cloud_audience_urn"] = "urn:federation:MicrosoftOnline"
    return body
