"""The app's own ID-token checks (MSAL 1.38+ checks only the nonce): each bad token is refused."""

from __future__ import annotations

import html
import time
from typing import Any

import jwt
import pytest
from client_app_fakes import IDP_BASE, TENANT_ID, FakeIdP, SigningKey, sign_in
from flask.testing import FlaskClient

from client_app import Settings, create_app
from client_app.errors import SignInError


def assert_rejected(client: FlaskClient, response: Any, reason: str) -> None:
    assert response.status_code == 400, response.text
    assert 'id="error-code">invalid_id_token<' in response.text
    assert reason in html.unescape(response.text)
    with client.session_transaction() as session:
        assert "user" not in session
        assert "token_cache" not in session
    assert 'id="sign-in"' in client.get("/").text


def test_valid_id_token_is_accepted(client: FlaskClient, idp: FakeIdP) -> None:
    assert sign_in(client, idp).status_code == 302
    with client.session_transaction() as session:
        assert session["user"]["tid"] == TENANT_ID


def test_bad_signature_is_rejected(
    client: FlaskClient, idp: FakeIdP, signing_key: SigningKey, other_key: SigningKey
) -> None:
    # Signed by another key but claiming the published kid.
    idp.id_token_signer = SigningKey(signing_key.kid, other_key.private)
    assert_rejected(client, sign_in(client, idp), "signature does not verify")


def test_tampered_payload_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    def tamper(claims: dict[str, Any]) -> str:
        header, _, signature = idp.key.sign(claims).split(".")
        forged = jwt.utils.base64url_encode(
            jwt.api_jws.json.dumps({**claims, "name": "Mallory"}).encode()
        ).decode()
        return f"{header}.{forged}.{signature}"

    idp.id_token_factory = tamper
    assert_rejected(client, sign_in(client, idp), "signature does not verify")


def test_wrong_issuer_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    idp.id_token_overrides = {"iss": f"https://evil.example/{TENANT_ID}/v2.0"}
    assert_rejected(client, sign_in(client, idp), "unexpected issuer")


def test_wrong_audience_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    idp.id_token_overrides = {"aud": "00000000-0000-0000-0000-000000000000"}
    assert_rejected(client, sign_in(client, idp), "another application")


def test_expired_id_token_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    now = int(time.time())
    idp.id_token_overrides = {"iat": now - 7200, "nbf": now - 7200, "exp": now - 600}
    assert_rejected(client, sign_in(client, idp), "expired")


def test_expiry_within_the_clock_skew_leeway_is_accepted(client: FlaskClient, idp: FakeIdP) -> None:
    now = int(time.time())
    idp.id_token_overrides = {"iat": now - 3600, "nbf": now - 3600, "exp": now - 60}
    assert sign_in(client, idp).status_code == 302


def test_id_token_from_the_future_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    later = int(time.time()) + 3600
    idp.id_token_overrides = {"nbf": later, "iat": later}
    assert_rejected(client, sign_in(client, idp), "not valid yet")


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "tid"])
def test_missing_required_claim_is_rejected(client: FlaskClient, idp: FakeIdP, claim: str) -> None:
    idp.id_token_overrides = {claim: None}
    assert_rejected(client, sign_in(client, idp), f"{claim!r} claim is missing")


def test_token_for_another_tenant_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    other = "11111111-2222-3333-4444-555555555555"
    idp.id_token_overrides = {"tid": other, "iss": f"{IDP_BASE}/{other}/v2.0"}
    assert_rejected(client, sign_in(client, idp), "another tenant")


def test_alg_none_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    idp.id_token_factory = lambda claims: jwt.encode(
        claims, None, algorithm="none", headers={"kid": idp.key.kid}
    )
    assert_rejected(client, sign_in(client, idp), "algorithm 'none' is not allowed")


def test_hs256_signed_with_the_public_key_is_rejected(client: FlaskClient, idp: FakeIdP) -> None:
    # Classic key-confusion attack: HMAC keyed with the published RSA key.
    idp.id_token_factory = lambda claims: jwt.api_jws.PyJWS().encode(
        jwt.api_jws.json.dumps(claims).encode(),
        b"public-key-material-public-key-material",
        algorithm="HS256",
        headers={"kid": idp.key.kid},
    )
    assert_rejected(client, sign_in(client, idp), "algorithm 'HS256' is not allowed")


def test_unknown_kid_triggers_exactly_one_jwks_refetch(
    client: FlaskClient, idp: FakeIdP, other_key: SigningKey
) -> None:
    assert sign_in(client, idp).status_code == 302
    assert idp.jwks_fetches == 1
    # The IdP rolls its keys: the new kid is published, then used.
    idp.jwks_keys = [idp.key.jwk, other_key.jwk]
    idp.id_token_signer = other_key
    assert sign_in(client, idp).status_code == 302
    assert idp.jwks_fetches == 2
    # Known now: no further fetch.
    assert sign_in(client, idp).status_code == 302
    assert idp.jwks_fetches == 2


def test_unpublished_kid_is_rejected_after_one_refetch(
    client: FlaskClient, idp: FakeIdP, other_key: SigningKey
) -> None:
    idp.id_token_signer = other_key  # never published
    assert_rejected(client, sign_in(client, idp), "unknown key")
    assert idp.jwks_fetches == 2  # the first load + one refetch, no more


def test_multi_tenant_authority_checks_iss_against_the_tokens_tid(
    settings: Settings, idp: FakeIdP, env: dict[str, str]
) -> None:
    # TENANT_ID "organizations": the discovery issuer has a {tenantid} placeholder.
    org_settings = Settings.from_env({**env, "TENANT_ID": "organizations"})
    validator = create_app(org_settings).extensions["client_app"].validator
    idp.mock.replace(
        "GET",
        f"{settings.authority}/v2.0/.well-known/openid-configuration",
        json={
            "issuer": f"{IDP_BASE}/{{tenantid}}/v2.0",
            "jwks_uri": f"{settings.authority}/discovery/v2.0/keys",
        },
    )
    now = int(time.time())
    claims = {
        "aud": settings.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "tid": TENANT_ID,
        "iss": f"{IDP_BASE}/{TENANT_ID}/v2.0",
    }
    assert validator.validate(idp.key.sign(claims))["tid"] == TENANT_ID
    forged = {**claims, "iss": f"{IDP_BASE}/11111111-2222-3333-4444-555555555555/v2.0"}
    with pytest.raises(SignInError, match="unexpected issuer"):
        validator.validate(idp.key.sign(forged))
