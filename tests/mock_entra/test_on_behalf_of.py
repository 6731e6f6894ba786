"""On-behalf-of: a web API (confidential, with a secret or a certificate) trades the access
token its caller sent it for a Microsoft Graph token for the same user, with MSAL Python's
`acquire_token_on_behalf_of` and azure-identity's `OnBehalfOfCredential`; Entra's errors on
their code and HTTP status."""

from __future__ import annotations

import jwt
import msal
import pytest
from azure.identity import OnBehalfOfCredential

from mock_entra.core.config import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_ID,
    GRAPH_APP_ID,
)
from mock_entra.intercept import LOGIN_HOST

from .client_kinds import (
    API_SCOPE,
    API_SECRET,
    PUBLIC_ID,
    certificate,
    client_kinds_config,
    client_kinds_fixtures,
    intercepting,
)
from .conftest import ADELE, assert_entra_error, claims_of

AUTHORITY = f"https://{LOGIN_HOST}/{DEFAULT_TENANT_ID}"
ADELE_OID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


mock, _fresh = client_kinds_fixtures("obo")


def _web_app() -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        DEFAULT_CLIENT_ID, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET
    )


def _user_token(scopes: list[str] | None = None) -> str:
    """What the web app sends the API: Adele's access token for the API."""
    result = _web_app().acquire_token_by_username_password(*ADELE, scopes=scopes or [API_SCOPE])
    assert "access_token" in result, result
    return result["access_token"]


def _api(credential) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        DEFAULT_API_CLIENT_ID, authority=AUTHORITY, client_credential=credential
    )


@pytest.mark.parametrize(
    "credential",
    [API_SECRET, certificate().msal_certificate, certificate().msal_thumbprint],
    ids=["secret", "certificate-ps256", "certificate-rs256"],
)
def test_msal_on_behalf_of_gives_the_api_a_graph_token_for_the_same_user(mock, credential):
    incoming = _user_token()
    assert claims_of(incoming)["aud"] == DEFAULT_API_CLIENT_ID
    result = _api(credential).acquire_token_on_behalf_of(incoming, ["User.Read"])
    assert "access_token" in result, result
    claims = claims_of(result["access_token"])
    assert claims["oid"] == ADELE_OID and claims["upn"] == ADELE[0]
    assert claims["appid"] == DEFAULT_API_CLIENT_ID
    assert claims["appidacr"] == ("1" if credential == API_SECRET else "2")  # secret, certificate
    assert claims["aud"] == GRAPH_APP_ID and claims["scp"].split()[0] == "User.Read"
    assert "refresh_token" in result  # MSAL asks offline_access (and openid)
    assert result["id_token_claims"]["oid"] == ADELE_OID
    assert result["id_token_claims"]["aud"] == DEFAULT_API_CLIENT_ID


def test_without_openid_there_is_no_id_token(mock):
    response = _obo(mock, _user_token())
    body = response.get_json()
    assert response.status_code == 200, body
    assert set(body) == {"token_type", "scope", "expires_in", "ext_expires_in", "access_token"}
    assert body["scope"] == "https://graph.microsoft.com/User.Read"


def test_azure_identity_on_behalf_of_credential(mock):
    for kwargs in (
        {"client_secret": API_SECRET},
        {"client_certificate": (certificate().key_pem + certificate().cert_pem).encode()},
    ):
        credential = OnBehalfOfCredential(
            DEFAULT_TENANT_ID, DEFAULT_API_CLIENT_ID, user_assertion=_user_token(), **kwargs
        )
        token = credential.get_token("https://graph.microsoft.com/User.Read")
        assert claims_of(token.token)["oid"] == ADELE_OID


def _obo(mock, assertion: str, *, client_id=DEFAULT_API_CLIENT_ID, secret=API_SECRET, **extra):
    data = {
        "grant_type": JWT_BEARER,
        "client_id": client_id,
        "assertion": assertion,
        "requested_token_use": "on_behalf_of",
        "scope": "https://graph.microsoft.com/User.Read",
        **extra,
    }
    if secret:
        data["client_secret"] = secret
    return mock.app.test_client().post(
        f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token", data=data, base_url=f"https://{LOGIN_HOST}"
    )


def test_a_token_for_graph_is_not_an_assertion_for_the_api(mock):
    graph_token = _user_token(["User.Read"])
    body = assert_entra_error(_obo(mock, graph_token), 400, "invalid_grant", 500131)
    assert f"expected audience is '{DEFAULT_API_CLIENT_ID}'" in body["error_description"]


def test_a_tampered_assertion_fails_signature_validation(mock):
    header, payload, signature = _user_token().split(".")
    forged = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b"Adele", b"Eve..")
    ).decode()
    body = assert_entra_error(
        _obo(mock, f"{header}.{forged}.{signature}"), 400, "invalid_grant", 50013
    )
    assert "Assertion failed signature validation" in body["error_description"]


def test_an_expired_assertion_is_aadsts500133(mock):
    incoming = _user_token()
    mock.clock.advance(3 * 3600)
    try:
        assert_entra_error(_obo(mock, incoming), 400, "invalid_grant", 500133)
    finally:
        mock.clock.advance(-3 * 3600)


def test_an_id_token_is_not_an_assertion(mock):
    result = _web_app().acquire_token_by_username_password(*ADELE, scopes=["User.Read"])
    id_token = result["id_token"]
    # An ID token for the web app, redeemed by the web app itself.
    response = _obo(mock, id_token, client_id=DEFAULT_CLIENT_ID, secret=DEFAULT_CLIENT_SECRET)
    assert_entra_error(response, 400, "invalid_grant", 240002)


def test_consent_is_checked_for_the_downstream_api(tmp_path_factory, key_template):
    config = client_kinds_config(api_consent=True)
    for mock in intercepting(tmp_path_factory.mktemp("obo-consent"), key_template, config):
        incoming = _user_token()
        result = _api(API_SECRET).acquire_token_on_behalf_of(incoming, ["User.Read"])
        assert result["error_codes"] == [65001] and result["suberror"] == "consent_required"
        tenant = mock.config.default_tenant
        mock.runtime.add_consent(
            tenant, ADELE_OID, DEFAULT_API_CLIENT_ID, [f"{GRAPH_APP_ID}/User.Read"]
        )
        result = _api(API_SECRET).acquire_token_on_behalf_of(incoming, ["User.Read"])
        assert "access_token" in result, result


@pytest.mark.parametrize(
    ("kwargs", "status", "error", "code"),
    [
        ({"client_id": PUBLIC_ID, "secret": None}, 401, "invalid_client", 7000218),
        ({"requested_token_use": "other"}, 400, "invalid_request", 90100),
        ({"requested_token_use": ""}, 400, "invalid_request", 900144),
        ({"secret": "wrong"}, 401, "invalid_client", 7000215),
    ],
    ids=["public-client", "bad-token-use", "no-token-use", "wrong-secret"],
)
def test_obo_request_errors(mock, kwargs, status, error, code):
    assert_entra_error(_obo(mock, "x.y.z", **kwargs), status, error, code)


def test_garbage_assertion_is_aadsts50013(mock):
    assert_entra_error(_obo(mock, "not-a-token"), 400, "invalid_grant", 50013)
