"""The token endpoint: one request in, the grant its `grant_type` names through `GRANTS`,
after client authentication (`client_secret_post`, `client_secret_basic` or a certificate
assertion: `client_auth`; a federated credential's assertion: `federated`). Errors are
`EntraError`s with the AADSTS codes Entra uses.

One module per grant: `authorization_code`, `refresh_token`, `client_credentials`,
`device_code`, `obo` (on-behalf-of) and `ropc` (username/password).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mock_entra.core.aadsts import AADSTS70003, AADSTS700016, AADSTS9002313
from mock_entra.core.config import audience
from mock_entra.core.config.tenants import tenant_of
from mock_entra.core.errors import EntraError
from mock_entra.core.faults import Hook, TokenContext, TokenFault
from mock_entra.core.forms import missing, required, single_values
from mock_entra.core.grants import (
    authorization_code,
    client_credentials,
    device_code,
    federated,
    obo,
    refresh_token,
    ropc,
)
from mock_entra.core.grants.client_auth import (
    Client,
    Endpoint,
    basic_credentials,
    verify_credential,
)
from mock_entra.core.grants.request import Grant, TokenRequest, user_tenant
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin import device_code as device_authorization
from mock_entra.core.store.records import Account
from mock_entra.core.tokens.claims import parse_claims_request

MAX_PARAM_LENGTH = 16 * 1024


def authenticate_client(rt: Runtime, req: TokenRequest, params: dict[str, str]) -> Client:
    basic = basic_credentials(req.authorization)
    client_id = params.get("client_id") or (basic[0] if basic else None)
    if not client_id:
        raise missing("client_id")
    if basic and params.get("client_id") and basic[0] != params["client_id"]:
        raise EntraError(AADSTS9002313)
    found = rt.config.find_app(client_id)
    tenant_name = req.tenant.display_name if req.tenant else req.tenant_segment
    if found is None or (req.tenant is not None and found[0] is not req.tenant):
        raise EntraError(AADSTS700016, client_id=client_id, tenant=tenant_name)
    tenant, app = found
    audience.check(app, req.tenant, req.tenant_segment)  # /common etc. vs sign_in_audience
    if federated.presented(app, params):  # workload identity federation: no secret kept
        return federated.verify(tenant, app, params, rt.config, rt.keys, rt.now())
    endpoint = Endpoint(req.base_url, req.tenant_segment, rt.config)
    return verify_credential(tenant, app, params, basic, endpoint, rt.now())


GRANTS: dict[str, Grant] = {
    "authorization_code": authorization_code.authorization_code,
    "refresh_token": refresh_token.refresh_token,
    "client_credentials": client_credentials.client_credentials,
    device_authorization.GRANT_TYPE: device_code.device_code_grant,
    # msal-node polls with the short name, and Entra answers it as the URN (recorded:
    # Azure/azure-sdk-for-js sdk/identity/identity/recordings/node/devicecodecredential/).
    "device_code": device_code.device_code_grant,
    obo.JWT_BEARER: obo.on_behalf_of,
    "password": ropc.password,
}


def exchange(
    rt: Runtime,
    segment: str,
    form: Mapping[str, list[str]],
    *,
    authorization: str | None,
    base_url: str,
    origin: str | None = None,
) -> dict[str, Any]:
    """The token endpoint for `/{segment}/oauth2/v2.0/token`: the success body, or
    `EntraError` (unknown tenant, or the grant's own)."""
    req = TokenRequest(
        tenant=tenant_of(rt.config, segment),
        tenant_segment=segment,
        form=form,
        authorization=authorization,
        base_url=base_url,
        origin=origin,
    )
    return token(rt, req)


def token(rt: Runtime, req: TokenRequest) -> dict[str, Any]:
    """Run a token request; returns the success body or raises `EntraError`."""
    params = single_values(req.form, MAX_PARAM_LENGTH)
    grant_type = required(params, "grant_type")
    client = authenticate_client(rt, req, params)
    # Malformed JSON is AADSTS50117, for every grant; parsed once, the grant takes it from `req`.
    if "claims" in params:  # without one, `req` keeps its empty ClaimsRequest (no copy)
        req = replace(req, claims=parse_claims_request(params["claims"]))
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise EntraError(AADSTS70003, grant_type=grant_type)
    if rt.faults.any(Hook.TOKEN):  # a fault scenario in force: this request may be its target
        req = _token_fault(rt, req, grant_type, params, client)
    return grant(rt, req, params, client)


def _token_fault(
    rt: Runtime, req: TokenRequest, grant_type: str, params: dict[str, str], client: Client
) -> TokenRequest:
    """Raise (or delay) as the token-endpoint scenario in force for this client or user says.
    The user is read from the code or refresh token without using it up; the record read is
    handed on to the grant in `req`, which does not read it again."""
    account: Account | None = None
    if grant_type == "authorization_code" and params.get("code"):
        code = rt.records.codes.get_with_expiry(params["code"])
        if code is not None:
            req, account = replace(req, code_read=code.record), code.record.account
    elif grant_type == "refresh_token" and params.get("refresh_token"):
        refresh = rt.records.refresh_tokens.get_with_expiry(params["refresh_token"])
        if refresh is not None:
            req, account = replace(req, refresh_read=refresh), refresh.record.account
    tenant = user_tenant(rt.config, client, account) if account is not None else None
    user = tenant.user_by_id(account.oid) if tenant and account is not None else None
    fault = rt.faults.find(
        Hook.TOKEN, client_id=client.app.client_id, user=user, grant_type=grant_type
    )
    if fault is not None and isinstance(fault.scenario, TokenFault):
        context = TokenContext(
            client.app.client_id, client.app.display_name, grant_type, rt.clock.now()
        )
        fault.scenario.intervene(context, fault.activation.seconds)
    return req
