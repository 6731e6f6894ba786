"""The client credentials grant: an app-only token for a confidential client.

Learn: "Microsoft identity platform and the OAuth 2.0 client credentials flow"."""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS1002012, AADSTS7000218
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import required
from mock_entra.core.grants.client_auth import Client
from mock_entra.core.grants.issue import app_only_token
from mock_entra.core.grants.request import TokenRequest, check_platform
from mock_entra.core.runtime import Runtime
from mock_entra.core.tokens.scopes import OIDC_SCOPES, parse_scopes


def client_credentials(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    check_platform(req, c, "web")  # a confidential client's grant, never from a browser
    if not c.confidential:  # a public client has no identity of its own to get a token for
        raise EntraError(AADSTS7000218)
    raw = required(p, "scope")
    # OIDC scopes beside the `.default` are ignored: azure-identity sends `.default openid
    # profile offline_access` and Entra answers with an app-only token alone
    # (Azure/azure-sdk-for-js, sdk/identity/identity/recordings/node/environmentcredential/
    # recording_authenticates_with_a_client_secret_on_the_environment_variables.json).
    parts = [s for s in raw.split() if s.lower() not in OIDC_SCOPES]
    if len(parts) != 1 or not parts[0].endswith("/.default"):
        raise EntraError(AADSTS1002012, scope=raw)
    scopes = parse_scopes(parts[0], rt.config, tenant_name=c.tenant.display_name)
    token, issue = app_only_token(
        rt, c.tenant, c.app, scopes, base_url=req.base_url, client_acr=c.acr
    )
    # No `scope` in a client-credentials response (Learn, client credentials flow).
    return {
        "token_type": "Bearer",
        "expires_in": issue.expires_in,
        "ext_expires_in": issue.expires_in,
        "access_token": token,
    }
