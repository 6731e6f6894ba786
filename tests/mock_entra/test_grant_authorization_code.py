"""The authorization-code grant: strict where Entra is strict, each error with its code."""

from __future__ import annotations

import base64
import dataclasses

from mock_entra.core.config import DEFAULT_CONFIG, GRAPH_APP_ID, AppRegistration
from mock_entra.intercept import MockEntraInterceptor

from .conftest import (
    ADELE,
    CLIENT_ID,
    REDIRECT,
    SECRET,
    TENANT,
    assert_entra_error,
    b64json,
    claims_of,
    get_code,
    new_flow,
    redeem,
)


def test_code_redeems_for_entra_shaped_tokens(interceptor, client):
    flow = new_flow()
    params = get_code(interceptor, flow)
    assert list(params) == ["code", "client_info", "state", "session_state"]
    assert params["state"] == flow.state
    assert params["code"].startswith("1.A") and len(params["code"]) > 500
    response = redeem(client, flow, params["code"])
    body = response.get_json()
    assert response.status_code == 200, body
    assert list(body) == [
        "token_type",
        "scope",
        "expires_in",
        "ext_expires_in",
        "access_token",
        "refresh_token",
        "id_token",
        "client_info",
    ]
    assert body["scope"] == "User.Read profile openid email"
    assert 3600 <= body["expires_in"] < 5400 and body["ext_expires_in"] == body["expires_in"]
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    info = b64json(body["client_info"])
    assert info == {"uid": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "utid": TENANT}
    idt = claims_of(body["id_token"])
    assert idt["aud"] == CLIENT_ID
    assert idt["iss"] == f"https://localhost:8443/{TENANT}/v2.0"
    assert idt["nonce"] == flow.nonce
    assert idt["oid"] == info["uid"] and idt["tid"] == TENANT and idt["ver"] == "2.0"
    assert idt["sub"] != idt["oid"] and len(idt["sub"]) == 43
    assert idt["preferred_username"] == ADELE[0] and idt["name"] == "Adele Vance"
    assert idt["iat"] == idt["nbf"] and idt["exp"] - idt["iat"] == body["expires_in"] + 300
    assert idt["sid"] == params["session_state"]
    assert idt["rh"].startswith("0.A") and idt["rh"].endswith(".") and len(idt["uti"]) == 22
    assert "at_hash" not in idt and "c_hash" not in idt
    at = claims_of(body["access_token"])
    assert at["aud"] == GRAPH_APP_ID
    assert at["iss"] == f"https://sts.windows.net/{TENANT}/" and at["ver"] == "1.0"
    assert at["scp"] == "User.Read profile openid email"
    assert at["appid"] == CLIENT_ID and at["upn"] == ADELE[0] and at["idtyp"] == "user"
    assert at["xms_st"]["sub"] == idt["sub"] and at["sub"] != idt["sub"]
    header = b64json(body["access_token"].split(".")[0])
    assert {"nonce", "x5t", "kid"} <= set(header)


def test_id_token_verifies_with_the_tenant_jwks(interceptor, client):
    import jwt

    flow = new_flow()
    body = redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()
    jwks = client.get(f"/{TENANT}/discovery/v2.0/keys", base_url="https://localhost:8443")
    keys = jwt.PyJWKSet.from_dict(jwks.get_json())
    kid = jwt.get_unverified_header(body["id_token"])["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(
        body["id_token"],
        key.key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=f"https://localhost:8443/{TENANT}/v2.0",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["tid"] == TENANT


def test_graph_access_token_cannot_be_verified_by_third_parties(interceptor, client):
    """Graph tokens are signed over a hashed header nonce, as Entra's
    (AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet#609)."""
    import jwt

    flow = new_flow()
    body = redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()
    keys = jwt.PyJWKSet.from_dict(
        client.get(f"/{TENANT}/discovery/v2.0/keys", base_url="https://localhost:8443").get_json()
    )
    kid = jwt.get_unverified_header(body["access_token"])["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    try:
        jwt.decode(
            body["access_token"],
            key.key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False},
        )
    except jwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("a Graph token verified with plain JWS rules")


def test_second_redemption_of_a_code_is_refused_with_aadsts54005(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    assert redeem(client, flow, code).status_code == 200
    assert_entra_error(redeem(client, flow, code), 400, "invalid_grant", 54005)


def test_a_failed_redemption_uses_the_code_up(interceptor, client):
    """Decided (docs/hardening.md, finding 13): a code is consumed by its first redemption,
    failed or not, so a wrong PKCE verifier cannot be retried against the same code."""
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    wrong = redeem(client, flow, code, code_verifier="w" * 43)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    assert_entra_error(redeem(client, flow, code), 400, "invalid_grant", 54005)


def test_code_older_than_ten_minutes_is_refused_with_aadsts70008(interceptor, client, clock):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    clock.advance(601)
    assert_entra_error(redeem(client, flow, code), 400, "invalid_grant", 70008)


def test_code_within_ten_minutes_is_accepted(interceptor, client, clock):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    clock.advance(590)
    assert redeem(client, flow, code).status_code == 200


def test_wrong_code_verifier_is_refused_with_aadsts501481(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    response = redeem(client, flow, code, code_verifier="x" * 43)
    assert_entra_error(response, 400, "invalid_grant", 501481)


def test_missing_code_verifier_is_refused_when_a_challenge_was_sent(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    assert_entra_error(redeem(client, flow, code, code_verifier=None), 400, "invalid_grant", 501481)


def test_plain_pkce_is_verified(interceptor, client):
    flow = new_flow()
    flow.challenge = flow.verifier
    code = interceptor.sign_in(flow.auth_uri(code_challenge_method="plain"), *ADELE)["code"]
    assert redeem(client, flow, code).status_code == 200


def test_redirect_uri_different_from_the_authorize_one_is_refused(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    response = redeem(client, flow, code, redirect_uri=REDIRECT + "/other")
    body = assert_entra_error(response, 401, "invalid_client", 500112)
    assert (
        f"'{REDIRECT}/other' does not match the reply address '{REDIRECT}'"
        in (body["error_description"])
    )


def test_wrong_client_secret_is_refused_with_aadsts7000215(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    body = assert_entra_error(
        redeem(client, flow, code, client_secret="nope"), 401, "invalid_client", 7000215
    )
    assert CLIENT_ID in body["error_description"]


def test_missing_client_secret_is_refused_with_aadsts7000218(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    assert_entra_error(
        redeem(client, flow, code, client_secret=None), 401, "invalid_client", 7000218
    )


def test_unknown_client_is_refused_with_aadsts700016(interceptor, client):
    flow = new_flow()
    response = redeem(client, flow, "whatever", client_id="00000000-0000-0000-0000-000000000001")
    assert_entra_error(response, 400, "unauthorized_client", 700016)


def test_client_secret_basic_is_accepted(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    response = client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        base_url="https://localhost:8443",
        headers={"Authorization": f"Basic {basic}"},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
    )
    assert response.status_code == 200, response.get_json()


def test_missing_parameters_are_named_with_aadsts900144(interceptor, client):
    for missing in ("grant_type", "client_id", "code", "redirect_uri"):
        data = {
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "code": "x",
            "redirect_uri": REDIRECT,
        }
        del data[missing]
        response = client.post(
            f"/{TENANT}/oauth2/v2.0/token", data=data, base_url="https://localhost:8443"
        )
        body = assert_entra_error(response, 400, "invalid_request", 900144)
        assert f"'{missing}'" in body["error_description"]


def test_garbage_code_is_refused_with_aadsts9002313(interceptor, client):
    assert_entra_error(redeem(client, new_flow(), "not-a-code"), 400, "invalid_grant", 9002313)


def test_code_is_bound_to_its_client(state_dir, clock):
    second = AppRegistration(
        client_id="0f0e0d0c-0000-4000-8000-000000000002",
        display_name="other",
        client_secrets=("other-secret",),
        redirect_uris=(REDIRECT,),
    )
    tenant = DEFAULT_CONFIG.default_tenant
    config = dataclasses.replace(
        DEFAULT_CONFIG, tenants=(dataclasses.replace(tenant, apps=(*tenant.apps, second)),)
    )
    with MockEntraInterceptor(config, state_dir=state_dir, clock=clock) as mock:
        flow = new_flow()
        code = get_code(mock, flow)["code"]
        response = redeem(
            mock.app.test_client(),
            flow,
            code,
            client_id=second.client_id,
            client_secret="other-secret",
        )
        assert_entra_error(response, 400, "invalid_grant", 70000)


def test_unsupported_grant_type_is_refused_with_aadsts70003(client):
    response = client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        base_url="https://localhost:8443",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:saml1_1-bearer",
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        },
    )
    assert_entra_error(response, 400, "unsupported_grant_type", 70003)


def test_get_on_the_token_endpoint_is_refused_with_aadsts900561(client):
    response = client.get(f"/{TENANT}/oauth2/v2.0/token", base_url="https://localhost:8443")
    assert_entra_error(response, 400, "invalid_request", 900561)
    # Entra's text names both methods the endpoint takes (nbarbettini/oidc-debugger#87,
    # BitySA/oauth2-auth-code-pkce#30).
    assert response.get_json()["error_description"].startswith(
        "AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a GET request."
    )


def test_correlation_id_echoes_client_request_id(interceptor, client):
    cid = "5fd4118f-bf90-4a7b-a0e8-9e2e23caa187"
    response = client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        base_url="https://localhost:8443",
        headers={"client-request-id": cid},
        data={"grant_type": "x"},
    )
    assert response.get_json()["correlation_id"] == cid
