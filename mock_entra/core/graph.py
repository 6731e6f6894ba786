"""The fake Microsoft Graph's protocol half: validate the bearer token as Graph does and
shape users as Graph's JSON. Learn: "Get user" (v1.0) and Graph error responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from mock_entra.core.aadsts import GraphError
from mock_entra.core.config import GRAPH_APP_ID, GRAPH_RESOURCE, MockConfig, Tenant, TestUser
from mock_entra.core.keys import KeySet, hashed_nonce, segment

GRAPH_BASE = "https://graph.microsoft.com/v1.0"
# $select-able properties of microsoft.graph.user that the mock knows, in Graph's order.
DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
EXTRA_PROPERTIES = ("accountEnabled", "userType", "companyName", "department")
_ALL = {p.lower(): p for p in (*DEFAULT_PROPERTIES, *EXTRA_PROPERTIES)}
_WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    f'authorize", client_id="{GRAPH_APP_ID}"'
)
READ_SELF = {
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "Directory.Read.All",
}
READ_OTHERS = {"User.ReadBasic.All", "User.Read.All", "Directory.Read.All"}
READ_OTHERS_APP = {"User.Read.All", "Directory.Read.All"}


@dataclass(frozen=True)
class Caller:
    tenant: Tenant
    user: TestUser | None  # None: an app-only token
    scopes: frozenset[str]
    roles: frozenset[str]
    client_sub: str | None = None  # the caller app's pairwise `sub` (xms_st.sub)


def unauthorized(message: str) -> GraphError:
    return GraphError(
        401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": _WWW_AUTHENTICATE}
    )


def denied() -> GraphError:
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def authenticate(config: MockConfig, keys: KeySet, authorization: str | None, now: float) -> Caller:
    """Validate a bearer token as Graph does: signature, audience, issuer, lifetime."""
    if (
        not authorization
        or not authorization.lower().startswith("bearer ")
        or not authorization[7:].strip()
    ):
        raise unauthorized("Access token is empty.")
    token = authorization[7:].strip()
    if token.count(".") == 0:
        raise unauthorized(
            "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in "
            "JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EncodedPayload."
            "EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey."
            "EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'."
        )
    try:
        claims = verify_graph_token(keys, token)
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise unauthorized("Access token validation failure.") from None
    if claims.get("aud") not in (GRAPH_APP_ID, GRAPH_RESOURCE, GRAPH_RESOURCE + "/"):
        raise unauthorized("Access token validation failure. Invalid audience.")
    tenant = config.tenant(str(claims.get("tid", "")))
    if tenant is None or claims.get("iss") != f"https://sts.windows.net/{tenant.tenant_id}/":
        raise unauthorized("Access token validation failure. Invalid issuer.")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int) or exp <= now:
        raise unauthorized("Lifetime validation failed, the token is expired.")
    if isinstance(nbf, int) and nbf > now + 300:
        raise unauthorized("Lifetime validation failed, the token is not yet valid.")
    scopes = frozenset(str(claims.get("scp", "")).split())
    roles = frozenset(claims.get("roles") or ())
    if claims.get("idtyp") == "app":
        return Caller(tenant, None, scopes, roles)
    user = tenant.user_by_id(str(claims.get("oid", "")))
    if user is None:
        raise unauthorized("Access token validation failure. User not found.")
    xms_st = claims.get("xms_st")
    client_sub = xms_st.get("sub") if isinstance(xms_st, dict) else None
    return Caller(tenant, user, scopes, roles, client_sub)


def parse_select(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_PROPERTIES
    names = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        known = _ALL.get(name.lower())
        if known is None:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{name[:100]}' on type 'microsoft.graph.user'.",
            )
        names.append(known)
    return tuple(dict.fromkeys(names)) or DEFAULT_PROPERTIES


def user_json(
    user: TestUser, select: tuple[str, ...], *, context_base: str, path: str
) -> dict[str, Any]:
    values: Mapping[str, Any] = {
        "businessPhones": list(user.business_phones),
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": user.job_title,
        "mail": user.mail,
        "mobilePhone": user.mobile_phone,
        "officeLocation": user.office_location,
        "preferredLanguage": user.preferred_language,
        "surname": user.surname,
        "userPrincipalName": user.username,
        "id": user.object_id,
        "accountEnabled": True,
        "userType": "Member",
        "companyName": None,
        "department": None,
    }
    if select == DEFAULT_PROPERTIES:
        context = f"{context_base}/$metadata#users/$entity"
    else:
        context = f"{context_base}/$metadata#users({','.join(select)})/$entity"
    return {"@odata.context": context, **{name: values[name] for name in select}}


def me(caller: Caller) -> TestUser:
    if caller.user is None:
        raise GraphError(
            400, "BadRequest", "/me request is only valid with delegated authentication flow."
        )
    if not caller.scopes & READ_SELF:
        raise denied()
    return caller.user


def user_by_id_or_upn(caller: Caller, key: str) -> TestUser:
    target = caller.tenant.user_by_id(key) or caller.tenant.user_by_username(key)
    if caller.user is not None:
        is_self = target is not None and target.object_id == caller.user.object_id
        if not (caller.scopes & (READ_SELF if is_self else READ_OTHERS)):
            raise denied()
    elif not caller.roles & READ_OTHERS_APP:
        raise denied()
    if target is None:
        raise GraphError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{key[:200]}' does not exist or one of its queried reference-"
            "property objects are not present.",
        )
    return target


def verify_graph_token(keys: KeySet, token: str) -> dict[str, Any]:
    """Verify a Graph token's signature the way only Graph can (undo the nonce transform of
    `KeySet.sign_graph`). Raises `jwt.InvalidTokenError`; the claims are checked above."""
    try:
        header_b64, payload_b64, sig_b64 = token.split(".")
    except ValueError:
        raise jwt.DecodeError("not a JWS") from None
    header = jwt.get_unverified_header(token)
    key = keys.get(str(header.get("kid", "")))
    if key is None or header.get("alg") != "RS256":
        raise jwt.InvalidSignatureError("unknown key")
    nonce = header.get("nonce")
    if isinstance(nonce, str):
        header_b64 = segment({**header, "nonce": hashed_nonce(nonce)})
    checks = ("aud", "exp", "nbf", "iat", "iss")
    return jwt.decode(
        f"{header_b64}.{payload_b64}.{sig_b64}",
        key.public_key,
        algorithms=["RS256"],
        options={f"verify_{name}": False for name in checks},  # type: ignore[misc]
    )
