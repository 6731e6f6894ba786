"""The fault catalogue: each scenario by name, what it simulates and the real-world event
behind it, and the OpenID Foundation relying-party certification test it mirrors where there
is one (`oidcc-client-test-*`).

Every `Hook` is used by some entry, and no two share a name: checked at import (`_check`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mock_entra.core.aadsts import (
    AADSTS50000,
    AADSTS50076,
    AADSTS50173,
    AADSTS65001,
    AADSTS90033,
    AADSTS90055,
    AADSTS700082,
)
from mock_entra.core.faults import hooks

OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # Microsoft's own tenant id
OTHER_CLIENT = "00000000-0000-0000-0000-00000000dead"


class ScenarioError(ValueError):
    """An unknown scenario name or a scope it cannot have (admin API: 400)."""


def _claims(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A claims transform: set each value (a callable gets the claims), or drop it (None)."""

    def transform(claims: dict[str, Any]) -> dict[str, Any]:
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value(claims) if callable(value) else value
        return claims

    return transform


def _narrow(body: dict[str, Any]) -> dict[str, Any]:
    granted = [s for s in str(body.get("scope", "")).split() if s.lower() in _OIDC]
    body["scope"] = " ".join(granted) or "openid"
    return body


_OIDC = {"openid", "profile", "email", "offline_access"}
_SILENT = frozenset({"refresh_token"})

CATALOGUE: tuple[hooks.Scenario, ...] = (
    hooks.IdTokenFault(
        name="id_token.wrong_iss",
        description="The ID token's `iss` names another tenant.",
        event="A token minted for another tenant or authority replayed to the app.",
        oidf="oidcc-client-test-invalid-iss",
        claims=_claims(iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"),
    ),
    hooks.IdTokenFault(
        name="id_token.wrong_aud",
        description="The ID token's `aud` is another app's client id.",
        event="A token issued to another app forwarded to this one.",
        oidf="oidcc-client-test-invalid-aud",
        claims=_claims(aud=OTHER_CLIENT),
    ),
    hooks.IdTokenFault(
        name="id_token.missing_aud",
        description="The ID token has no `aud`.",
        event="A forged or truncated token.",
        oidf="oidcc-client-test-missing-aud",
        claims=_claims(aud=None),
    ),
    hooks.IdTokenFault(
        name="id_token.missing_iat",
        description="The ID token has no `iat`.",
        event="A forged or truncated token.",
        oidf="oidcc-client-test-missing-iat",
        claims=_claims(iat=None),
    ),
    hooks.IdTokenFault(
        name="id_token.expired",
        description="The ID token expired an hour ago.",
        event="A token replayed late, or a server clock far behind.",
        claims=_claims(
            iat=lambda c: c["iat"] - 7200, nbf=lambda c: c["nbf"] - 7200, exp=lambda c: c["iat"]
        ),
    ),
    hooks.IdTokenFault(
        name="id_token.nbf_future",
        description="The ID token's `nbf` is an hour from now.",
        event="A token minted ahead of its use, or a client clock far behind.",
        claims=_claims(nbf=lambda c: c["iat"] + 3900),
    ),
    hooks.IdTokenFault(
        name="id_token.bad_signature",
        description="The ID token's signature does not verify.",
        event="A token altered in transit (claims edited after signing).",
        oidf="oidcc-client-test-invalid-sig-rs256",
        signing="bad_signature",
    ),
    hooks.IdTokenFault(
        name="id_token.alg_none",
        description="The ID token is unsigned (`alg: none`).",
        event="The classic JWT downgrade attack.",
        signing="alg_none",
    ),
    hooks.IdTokenFault(
        name="id_token.unknown_kid",
        description="The ID token is signed by a key the JWKS does not hold.",
        event="A token signed by an attacker's key, naming its own `kid`.",
        signing="unknown_kid",
    ),
    hooks.IdTokenFault(
        name="id_token.no_kid",
        description="The ID token's header names no `kid`.",
        event="A token from an issuer that omits `kid` while the JWKS holds several keys.",
        oidf="oidcc-client-test-kid-absent-multiple-jwks",
        signing="no_kid",
    ),
    hooks.IdTokenFault(
        name="id_token.wrong_nonce",
        description="The ID token's `nonce` is not the one the client sent.",
        event="An ID token injected from another sign-in (replay).",
        oidf="oidcc-client-test-nonce-invalid",
        claims=_claims(nonce="injected-" + "0" * 16),
    ),
    hooks.RedirectFault(
        name="redirect.missing_client_info",
        description="No `client_info` in the redirect or the token response.",
        event="A proxy or an older endpoint that drops MSAL's account hint.",
        drop=("client_info",),
    ),
    hooks.RedirectFault(
        name="redirect.state_altered",
        description="The `state` on the redirect is not the one the client sent.",
        event="A forged callback (login CSRF) or a mixed-up browser tab.",
        alter_state=True,
    ),
    hooks.KeyRotation(
        name="keys.rotated",
        description="A new signing key signs, listed first in the JWKS; the old one is "
        "removed after a grace period (`seconds`, default one day).",
        event="Entra rolling its signing keys (several times a year, or at once in an emergency).",
        oidf="oidcc-client-test-signing-key-rotation",
    ),
    hooks.JwksFault(
        name="jwks.unavailable",
        description="The JWKS endpoint answers 503.",
        event="An Entra outage or a network failure on the way to the keys.",
    ),
    hooks.TokenFault(
        name="token.server_error",
        description="The token endpoint answers 500 (`server_error`, AADSTS50000).",
        event="An Entra incident.",
        entry=AADSTS50000,
    ),
    hooks.TokenFault(
        name="token.unavailable",
        description="The token endpoint answers 503 with `Retry-After`.",
        event="An Entra outage or maintenance.",
        entry=AADSTS90033,
        retry_after=True,
    ),
    hooks.TokenFault(
        name="token.throttled",
        description="The token endpoint answers 429 with `Retry-After`.",
        event="Throttling: too many token requests from one app or tenant.",
        entry=AADSTS90055,
        retry_after=True,
    ),
    hooks.TokenFault(
        name="token.timeout",
        description="The token endpoint answers only after `seconds` (default 30).",
        event="A network stall or an overloaded service.",
        delay=True,
    ),
    hooks.TokenFault(
        name="token.not_json",
        description="The token endpoint answers 502 with an HTML page.",
        event="A proxy or gateway error page in front of the identity provider.",
        raw=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    ),
    hooks.TokenBodyFault(
        name="token.no_expires_in",
        description="The token response has no `expires_in`.",
        event="A non-conforming server or proxy (RFC 6749 only recommends it).",
        transform=_claims(expires_in=None, ext_expires_in=None),
    ),
    hooks.TokenBodyFault(
        name="token.narrow_scope",
        description="The token response grants fewer scopes than were asked for.",
        event="An admin revoked a permission, or consent covered less than requested.",
        transform=_narrow,
    ),
    hooks.TokenFault(
        name="refresh.expired",
        description="A refresh is refused: `invalid_grant`, AADSTS700082.",
        event="The refresh token went unused past its inactivity window.",
        entry=AADSTS700082,
        grants=_SILENT,
    ),
    hooks.TokenFault(
        name="refresh.password_changed",
        description="A refresh is refused: `invalid_grant`, AADSTS50173.",
        event="The user changed or reset their password; earlier grants are revoked.",
        entry=AADSTS50173,
        grants=_SILENT,
    ),
    hooks.TokenFault(
        name="silent.mfa_required",
        description="A silent request is refused: `interaction_required`, AADSTS50076.",
        event="A Conditional Access policy now demands multi-factor authentication.",
        entry=AADSTS50076,
        grants=_SILENT,
    ),
    hooks.TokenFault(
        name="silent.consent_required",
        description="A silent request is refused: `invalid_grant`/`consent_required`, AADSTS65001.",
        event="Consent was revoked, or the app now asks for more permissions.",
        entry=AADSTS65001,
        grants=_SILENT,
    ),
    hooks.GraphFault(
        name="graph.invalid_token",
        description="Graph answers 401 `InvalidAuthenticationToken` to a valid token.",
        event="A token revoked or expired by Graph's clock before the app's.",
        status=401,
        code="InvalidAuthenticationToken",
        message="Lifetime validation failed, the token is expired.",
    ),
    hooks.GraphFault(
        name="graph.claims_challenge",
        description="Graph answers 401 with a CAE claims challenge (`insufficient_claims`).",
        event="Continuous access evaluation: the user's session was revoked or a policy changed.",
        status=401,
        code="InvalidAuthenticationToken",
        message="Continuous access evaluation resulted in challenge with result: "
        "InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp",
        claims_challenge=True,
    ),
    hooks.GraphFault(
        name="graph.forbidden",
        description="Graph answers 403 `Authorization_RequestDenied`.",
        event="A permission was removed from the app or the user.",
        status=403,
        code="Authorization_RequestDenied",
        message="Insufficient privileges to complete the operation.",
    ),
    hooks.GraphFault(
        name="graph.throttled",
        description="Graph answers 429 `TooManyRequests` with `Retry-After`.",
        event="Graph throttling.",
        status=429,
        code="TooManyRequests",
        message="Too many requests. Please try again later.",
        retry_after=True,
    ),
    hooks.GraphFault(
        name="graph.unavailable",
        description="Graph answers 503 `serviceNotAvailable` with `Retry-After`.",
        event="A Graph outage or overload.",
        status=503,
        code="serviceNotAvailable",
        message="The service is temporarily unavailable. Please try again later.",
        retry_after=True,
    ),
)
SCENARIOS: Mapping[str, hooks.Scenario] = {s.name: s for s in CATALOGUE}


def scenario(name: str) -> hooks.Scenario:
    """The catalogue entry; `ScenarioError` listing every name for an unknown one."""
    found = SCENARIOS.get(name)
    if found is None:
        raise ScenarioError(f"unknown scenario {name!r:.80}; known: {', '.join(SCENARIOS)}")
    return found


def catalogue_rows() -> list[dict[str, str]]:
    """The catalogue as plain rows (the admin API's 400, the README table)."""
    return [
        {
            "name": s.name,
            "description": s.description,
            "event": s.event,
            "oidf": s.oidf or "",
        }
        for s in CATALOGUE
    ]


def check(catalogue: Iterable[hooks.Scenario]) -> None:
    """Every hook is used by some scenario, and no two share a name (run at import)."""
    entries = list(catalogue)
    unused = set(hooks.Hook) - {hook for s in entries for hook in s.hooks}
    if unused:
        raise TypeError(f"fault hooks no scenario uses: {sorted(h.value for h in unused)}")
    names = [s.name for s in entries]
    if len(set(names)) != len(names):
        raise TypeError("two fault scenarios share a name")


check(CATALOGUE)
