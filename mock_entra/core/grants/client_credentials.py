"""The client credentials grant: an app-only token for a confidential client.

Learn: "Microsoft identity platform and the OAuth 2.0 client credentials flow"."""

from __future__ import annotations

import secrets

from mock_entra.core.aadsts import AADSTS1002012, AADSTS7000218
from mock_entra.core.config import GRAPH_RESOURCE
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import required
from mock_entra.core.grants.client_auth import Client
from mock_entra.core.grants.request import TokenRequest, check_platform
from mock_entra.core.runtime import Runtime
from mock_entra.core.tokens.claims import Issue, app_access_token_claims, uti, v2_issuer
from mock_entra.core.tokens.scopes import parse_scopes


def client_credentials(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    check_platform(req, c, "web")  # a confidential client's grant, never from a browser
    if not c.confidential:  # a public client has no identity of its own to get a token for
        raise EntraError(AADSTS7000218)
    raw = required(p, "scope")
    parts = raw.split()
    if len(parts) != 1 or not parts[0].endswith("/.default"):
        raise EntraError(AADSTS1002012, scope=raw)
    scopes = parse_scopes(raw, rt.config, tenant_name=c.tenant.display_name)
    resource_key = GRAPH_RESOURCE if scopes.resource.is_graph else scopes.resource.identifier
    api = scopes.resource.app
    granted: tuple[str, ...] = ()
    for key, roles in c.app.application_permissions.items():
        if key == resource_key or (api is not None and key in (api.app_id_uri, api.client_id)):
            granted = tuple(roles)
    issue = Issue(rt.now(), rt.token_lifetime())
    claims = app_access_token_claims(
        c.tenant,
        c.app,
        scopes,
        granted,
        issue,
        v2_iss=v2_issuer(req.base_url, c.tenant.tenant_id),
        token_uti=uti(),
        client_acr=c.acr,
    )
    kid = rt.active_kid()
    if scopes.resource.is_graph:
        token = rt.keys.sign_graph(claims, secrets.token_urlsafe(32), kid=kid)
    else:
        token = rt.keys.sign(claims, kid=kid)
    # No `scope` in a client-credentials response (Learn, client credentials flow).
    return {
        "token_type": "Bearer",
        "expires_in": issue.expires_in,
        "ext_expires_in": issue.expires_in,
        "access_token": token,
    }
