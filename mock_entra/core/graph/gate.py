"""The fake Microsoft Graph's gate: validate the bearer token as Graph does, and say which
permissions a call needs. Learn: "Microsoft Graph error responses and resource types",
"Microsoft Graph permissions reference"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from mock_entra.core.config import GRAPH_APP_ID, GRAPH_RESOURCE, MockConfig, Tenant, TestUser
from mock_entra.core.errors import GraphError
from mock_entra.core.faults import Faults, GraphFault, Hook
from mock_entra.core.tokens.signing import KeySet, from_compact_ticket, hashed_nonce, segment

_WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    f'authorize", client_id="{GRAPH_APP_ID}"'
)
# Permissions per call, from each API's Learn page ("Permissions" table, least to most
# privileged). Delegated ones are read from `scp`, application ones from `roles`.
_DIRECTORY = {"Directory.Read.All", "Directory.ReadWrite.All"}
READ_SELF = frozenset(
    {"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All"}
    | _DIRECTORY
    | {"Directory.AccessAsUser.All"}
)
FULL_USERS = frozenset({"User.Read.All", "User.ReadWrite.All"} | _DIRECTORY)
FULL_USERS_DELEGATED = FULL_USERS | {"Directory.AccessAsUser.All"}
READ_USERS = FULL_USERS | {"User.ReadBasic.All"}  # List users, Get user (others)
READ_USERS_DELEGATED = FULL_USERS_DELEGATED | {"User.ReadBasic.All"}
READ_GROUPS = frozenset(
    {"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All"} | _DIRECTORY
)
READ_GROUPS_DELEGATED = READ_GROUPS | {"Directory.AccessAsUser.All"}


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


def authenticate(
    config: MockConfig,
    keys: KeySet,
    authorization: str | None,
    now: float,
    faults: Faults | None = None,
) -> Caller:
    """Validate a bearer token as Graph does: signature, audience, issuer, lifetime; then
    answer as the Graph fault scenario in force for the token's app or user says, if any."""
    caller, client_id = _authenticate(config, keys, authorization, now)
    if faults is not None:
        fault = faults.find(Hook.GRAPH, client_id=client_id, user=caller.user)
        if fault is not None and isinstance(fault.scenario, GraphFault):
            raise fault.scenario.error(now, fault.activation.seconds)
    return caller


def _authenticate(
    config: MockConfig, keys: KeySet, authorization: str | None, now: float
) -> tuple[Caller, str | None]:
    if (
        not authorization
        or not authorization.lower().startswith("bearer ")
        or not authorization[7:].strip()
    ):
        raise unauthorized("Access token is empty.")
    token = authorization[7:].strip()
    token = from_compact_ticket(token) or token  # a personal account's ticket (`signing`)
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
    client_id = claims.get("appid") if isinstance(claims.get("appid"), str) else None
    if claims.get("idtyp") == "app":
        return Caller(tenant, None, scopes, roles), client_id
    user = tenant.user_by_id(str(claims.get("oid", "")))
    if user is None:
        raise unauthorized("Access token validation failure. User not found.")
    xms_st = claims.get("xms_st")
    client_sub = xms_st.get("sub") if isinstance(xms_st, dict) else None
    return Caller(tenant, user, scopes, roles, client_sub), client_id


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


def granted(caller: Caller, delegated: frozenset[str], application: frozenset[str]) -> bool:
    """Whether the token carries one of the permissions (scp for a user, roles for an app)."""
    if caller.user is None:
        return bool(caller.roles & application)
    return bool(caller.scopes & delegated)


def require(caller: Caller, delegated: frozenset[str], application: frozenset[str]) -> None:
    if not granted(caller, delegated, application):
        raise denied()
