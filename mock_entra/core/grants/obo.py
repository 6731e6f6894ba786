"""The on-behalf-of grant: a web API trades the user's access token it received (whose
`aud` is the API) for a token to a downstream API (Graph or another API of the config), for
the same user.

Learn "Microsoft identity platform and OAuth 2.0 On-Behalf-Of flow": `grant_type` =
`urn:ietf:params:oauth:grant-type:jwt-bearer`, `requested_token_use=on_behalf_of`,
`assertion`, `scope`; confidential clients only (secret or certificate). The answer is Learn's
success response: the access token, a refresh token when `offline_access` was asked (and an
ID token when `openid` was). Errors as Entra answers them (messages captured in public
issues): an assertion that does not verify AADSTS50013, expired 500133, for another app
500131, an ID token 240002, no consent 65001.
"""

from __future__ import annotations

import uuid
from typing import Any

from mock_entra.core.aadsts import (
    AADSTS50013,
    AADSTS50013_INVALID,
    AADSTS50034,
    AADSTS90100,
    AADSTS240002,
    AADSTS500131,
    AADSTS500133,
    AADSTS7000218,
)
from mock_entra.core.errors import EntraError
from mock_entra.core.forms import required
from mock_entra.core.grants.client_auth import CLOCK_SKEW, Client, entra_time, number
from mock_entra.core.grants.request import TokenRequest
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin.consent import require_consent
from mock_entra.core.tokens.claims import SignIn
from mock_entra.core.tokens.scopes import parse_scopes

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def on_behalf_of(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    if not c.confidential:  # Learn: OBO is for confidential clients (secret or certificate)
        raise EntraError(AADSTS7000218)
    use = required(p, "requested_token_use")
    if use != "on_behalf_of":
        raise EntraError(AADSTS90100, name="requested_token_use")
    assertion = required(p, "assertion")
    raw_scope = required(p, "scope")
    claims = _user_assertion(rt, assertion, c)
    user = c.tenant.user_by_id(str(claims.get("oid")))
    if user is None:
        raise EntraError(AADSTS50034, tenant_id=c.tenant.tenant_id)
    scopes = parse_scopes(raw_scope, rt.config, tenant_name=c.tenant.display_name, client=c.app)
    sid = claims.get("sid") if isinstance(claims.get("sid"), str) else None
    iat = claims.get("iat")
    auth_time = int(iat) if number(iat) else rt.now()
    signin = SignIn(c.tenant, user, c.app, sid or str(uuid.uuid4()), auth_time, flow="obo")
    require_consent(rt, signin, scopes)
    # An ID token only when `openid` is asked: MSAL adds it "so that the calling app could use
    # id_token_claims" (msal's acquire_token_on_behalf_of); Learn's example asks no `openid`.
    return req.user_tokens(rt, p, signin, scopes, client_acr=c.acr)


def _user_assertion(rt: Runtime, assertion: str, c: Client) -> dict[str, Any]:
    """The claims of a user's access token issued by this mock to this client (as an API)."""
    import jwt  # PyJWT

    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise EntraError(AADSTS50013_INVALID, reason="The assertion is malformed.") from None
    app = c.app
    aud = unverified.get("aud")
    if aud not in (app.client_id, app.app_id_uri, f"api://{app.client_id}"):
        raise EntraError(
            AADSTS500131, aud=str(aud), client_id=app.client_id, app_name=app.display_name
        )
    key = rt.keys.get(str(header.get("kid") or header.get("x5t") or ""))
    if key is None:
        raise EntraError(AADSTS50013, reason="The key was not found.")
    try:
        claims = jwt.decode(
            assertion,
            key=key.public_key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
        )
    except jwt.InvalidSignatureError:
        raise EntraError(
            AADSTS50013,
            reason="The provided signature value did not match the expected signature value.",
        ) from None
    except jwt.PyJWTError:
        raise EntraError(AADSTS50013_INVALID, reason="The assertion is malformed.") from None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or rt.now() >= exp + CLOCK_SKEW:
        raise EntraError(AADSTS500133, now=entra_time(rt.now()), exp=entra_time(exp if exp else 0))
    if claims.get("tid") != c.tenant.tenant_id:
        raise EntraError(AADSTS50013_INVALID, reason="The token was issued by another tenant.")
    if "scp" not in claims:
        if "roles" in claims or claims.get("idtyp") == "app":
            raise EntraError(
                AADSTS50013_INVALID, reason="An app-only token is not a user assertion."
            )
        raise EntraError(AADSTS240002)  # an ID token: no scp, no roles
    return claims
