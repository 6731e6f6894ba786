"""The authorize endpoint's protocol half: validate the request, then issue the code.

Learn: "Microsoft identity platform and OAuth 2.0 authorization code flow" and "OpenID
Connect on the Microsoft identity platform". Rule (RFC 6749 §4.1.2.1, and what Entra does):
errors found before the client and its redirect URI are trusted are shown on Entra's page;
every later error goes back to the redirect URI with `state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mock_entra.core import pkce
from mock_entra.core.aadsts import (
    AADSTS50011,
    AADSTS90100,
    AADSTS700016,
    AADSTS700054,
    AADSTS900144,
    AADSTS900971,
    AADSTS9002313,
    EntraError,
    missing,
)
from mock_entra.core.config import AppRegistration, Tenant
from mock_entra.core.runtime import CODE, CONTEXT, Runtime, opaque
from mock_entra.core.scopes import Scopes, parse_scopes
from mock_entra.core.tokens import client_info

RESPONSE_MODES = ("query", "form_post", "fragment")
PROMPTS = ("none", "login", "consent", "select_account", "create")
MAX_PARAM_LENGTH = 8 * 1024


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorization request, kept (as a dict) while the user signs in."""

    tenant_id: str
    client_id: str
    redirect_uri: str
    response_mode: str
    scope: str
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    method: str | None = None
    prompt: str | None = None
    login_hint: str | None = None
    domain_hint: str | None = None
    max_age: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def error(self, entry, **args: Any) -> EntraError:
        """An error that goes back to the (now trusted) redirect URI."""
        return EntraError(
            entry,
            redirect_uri=self.redirect_uri,
            state=self.state,
            response_mode=self.response_mode,
            **args,
        )


@dataclass(frozen=True)
class AuthorizeResponse:
    """Where to send the browser, how, and with what."""

    redirect_uri: str
    response_mode: str
    params: list[tuple[str, str]]


def _single(params: Mapping[str, list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, values in params.items():
        if len(values) > 1 or any(len(v) > MAX_PARAM_LENGTH for v in values):
            raise EntraError(AADSTS9002313)
        if values and values[0] != "":
            out[name] = values[0]
    return out


def validate(
    rt: Runtime, tenant: Tenant | None, segment: str, raw: Mapping[str, list[str]]
) -> tuple[AuthorizeRequest, Tenant, AppRegistration, Scopes]:
    """Check an authorization request; raise `EntraError` (page or redirect)."""
    p = _single(raw)
    client_id = p.get("client_id")
    if not client_id:
        raise missing("client_id")
    found = rt.config.find_app(client_id)
    if found is None or (tenant is not None and found[0] is not tenant):
        name = tenant.display_name if tenant else segment
        raise EntraError(AADSTS700016, client_id=client_id[:100], tenant=name)
    app_tenant, app = found
    redirect_uri = p.get("redirect_uri")
    if not redirect_uri:
        raise EntraError(AADSTS900971)
    if redirect_uri not in app.redirect_uris:  # exact string match, as Entra and RFC 9700
        raise EntraError(AADSTS50011, uri=redirect_uri[:2048], client_id=client_id)
    state = p.get("state")
    mode = p.get("response_mode", "query")
    if mode not in RESPONSE_MODES:
        raise EntraError(AADSTS9002313, redirect_uri=redirect_uri, state=state)
    trusted = AuthorizeRequest(app_tenant.tenant_id, client_id, redirect_uri, mode, "", state)
    response_type = p.get("response_type")
    if not response_type:
        raise trusted.error(AADSTS900144, name="response_type")
    if response_type != "code":
        raise trusted.error(AADSTS700054, response_type=response_type[:64])
    try:
        scopes = parse_scopes(p.get("scope"), rt.config, tenant_name=app_tenant.display_name)
        challenge, method = pkce.check_challenge(
            p.get("code_challenge"), p.get("code_challenge_method")
        )
    except EntraError as exc:
        raise trusted.error(exc.entry, **exc.args_) from None
    prompt = p.get("prompt")
    if prompt is not None and prompt not in PROMPTS:
        raise trusted.error(AADSTS90100, name="prompt")
    max_age = p.get("max_age")
    if max_age is not None and not max_age.isdigit():
        raise trusted.error(AADSTS90100, name="max_age")
    request = AuthorizeRequest(
        tenant_id=app_tenant.tenant_id,
        client_id=client_id,
        redirect_uri=redirect_uri,
        response_mode=mode,
        scope=p["scope"],
        state=state,
        nonce=p.get("nonce"),
        code_challenge=challenge,
        method=method,
        prompt=prompt,
        login_hint=p.get("login_hint"),
        domain_hint=p.get("domain_hint"),
        max_age=int(max_age) if max_age is not None else None,
    )
    return request, app_tenant, app, scopes


def save_context(rt: Runtime, request: AuthorizeRequest, **extra: Any) -> str:
    ctx = opaque("", 24)
    rt.store.put(CONTEXT, ctx, {**request.to_dict(), **extra}, ttl=rt.config.signin_page_lifetime)
    return ctx


def load_context(rt: Runtime, ctx: str | None) -> dict[str, Any] | None:
    if not ctx or len(ctx) > 256:
        return None
    return rt.store.get(CONTEXT, ctx)


def request_from_context(data: Mapping[str, Any]) -> AuthorizeRequest:
    fields = AuthorizeRequest.__dataclass_fields__
    return AuthorizeRequest(**{k: v for k, v in data.items() if k in fields})


def issue_code(
    rt: Runtime,
    request: AuthorizeRequest,
    tenant: Tenant,
    *,
    oid: str,
    sid: str,
    auth_time: int,
    kmsi: bool,
) -> AuthorizeResponse:
    """Bind a one-time code to client, redirect URI, PKCE challenge and sign-in."""
    user = tenant.user_by_id(oid)
    assert user is not None
    code = opaque("1.AXoA", 512)  # real codes are ~1 KB
    rt.store.put(
        CODE,
        code,
        {
            "tenant_id": tenant.tenant_id,
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "scope": request.scope,
            "nonce": request.nonce,
            "code_challenge": request.code_challenge,
            "method": request.method,
            "max_age": request.max_age,
            "oid": oid,
            "sid": sid,
            "auth_time": auth_time,
            "kmsi": kmsi,
        },
        ttl=rt.config.code_lifetime,
    )
    # Parameter order as in real redirects: code, client_info, state, session_state.
    params = [("code", code), ("client_info", client_info(user, tenant))]
    if request.state is not None:
        params.append(("state", request.state))
    params.append(("session_state", sid))
    return AuthorizeResponse(request.redirect_uri, request.response_mode, params)


def error_response(
    error: EntraError, *, trace_id: str, correlation_id: str, timestamp: str, base_url: str
) -> AuthorizeResponse:
    """The redirect that carries an error back to a trusted redirect URI."""
    assert error.redirect_uri is not None
    params = [("error", error.entry.error)]
    if error.error_subcode:
        params.append(("error_subcode", error.error_subcode))
    params.append(
        (
            "error_description",
            f"{error.description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}"
            f"\r\nTimestamp: {timestamp}",
        )
    )
    params.append(("error_uri", f"{base_url}/error?code={error.entry.code}"))
    if error.state is not None:
        params.append(("state", error.state))
    return AuthorizeResponse(error.redirect_uri, error.response_mode, params)
