"""Username/password (ROPC) with MSAL Python's `acquire_token_by_username_password` and
azure-identity's `UsernamePasswordCredential`: home realm discovery first
(`/common/userrealm/{user}`), then the password grant, for a public client that allows public
client flows and for a confidential one; Entra's errors on their code and HTTP status."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import msal
import pytest
from azure.identity import UsernamePasswordCredential

from mock_entra.core.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_ID,
    GRAPH_APP_ID,
)
from mock_entra.intercept import LOGIN_HOST, MockEntraInterceptor

from .client_kinds import CLOSED_PUBLIC_ID, PUBLIC_ID, client_kinds_config, intercepting
from .conftest import ADELE, assert_entra_error, claims_of

AUTHORITY = f"https://{LOGIN_HOST}/{DEFAULT_TENANT_ID}"
# MSAL and azure-identity deprecate ROPC for public clients (it still works, as with Entra).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:msal.application")
ADELE_OID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def mock(tmp_path_factory, key_template) -> Iterator[MockEntraInterceptor]:
    config = client_kinds_config(web_consent=True)
    yield from intercepting(tmp_path_factory.mktemp("ropc"), key_template, config)


@pytest.fixture(autouse=True)
def _fresh(mock: MockEntraInterceptor) -> None:
    mock.calls.clear()
    mock.reset()


def _post(mock, segment: str = DEFAULT_TENANT_ID, **data: str):
    form = {"grant_type": "password", "scope": "User.Read openid profile", **data}
    return mock.app.test_client().post(
        f"/{segment}/oauth2/v2.0/token", data=form, base_url=f"https://{LOGIN_HOST}"
    )


def test_msal_public_client_asks_the_user_realm_then_signs_in(mock):
    app = msal.PublicClientApplication(PUBLIC_ID, authority=AUTHORITY)
    result = app.acquire_token_by_username_password(*ADELE, scopes=["User.Read"])
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == ADELE[0]
    assert claims_of(result["access_token"])["oid"] == ADELE_OID
    assert claims_of(result["access_token"])["appidacr"] == "0"
    assert "refresh_token" in result
    realm = [c for c in mock.calls if "/common/userrealm/" in c.url]
    assert len(realm) == 1 and realm[0].url.startswith(f"https://{LOGIN_HOST}/common/userrealm/")
    # The silent call that follows uses the account MSAL cached.
    (account,) = app.get_accounts(username=ADELE[0])
    assert "access_token" in app.acquire_token_silent(["User.Read"], account=account)


def test_the_user_realm_says_managed_for_a_tenant_domain(mock):
    client = mock.app.test_client()
    managed = client.get(
        f"/common/userrealm/{ADELE[0]}?api-version=1.0", base_url=f"https://{LOGIN_HOST}"
    ).get_json()
    assert managed == {
        "ver": "1.0",
        "account_type": "Managed",
        "domain_name": "contoso.onmicrosoft.com",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }
    other = client.get(
        "/common/userrealm/someone@fabrikam.example?api-version=1.0",
        base_url=f"https://{LOGIN_HOST}",
    ).get_json()
    assert other["account_type"] == "Unknown" and "domain_name" not in other


def test_msal_confidential_client_with_consent_given(mock):
    tenant = mock.config.default_tenant
    mock.runtime.add_consent(tenant, ADELE_OID, DEFAULT_CLIENT_ID, [f"{GRAPH_APP_ID}/User.Read"])
    app = msal.ConfidentialClientApplication(
        DEFAULT_CLIENT_ID, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET
    )
    result = app.acquire_token_by_username_password(*ADELE, scopes=["User.Read"])
    assert "access_token" in result, result
    assert claims_of(result["access_token"])["appidacr"] == "1"


def test_each_password_sign_in_is_a_session_named_by_a_guid_only_in_the_access_token(mock):
    # `sid`: "String, a GUID ... generated when a new session is established" (Learn, "ID
    # token claims reference"). Entra's username/password ID tokens name no session (recorded:
    # Azure/azure-sdk-for-python sdk/identity/azure-identity/tests/recordings/
    # test_cae.test_username_password.yaml), its access tokens do.
    sids = []
    for _ in range(2):
        body = _post(mock, client_id=PUBLIC_ID, username=ADELE[0], password=ADELE[1]).get_json()
        assert "sid" not in claims_of(body["id_token"])
        sids.append(claims_of(body["access_token"])["sid"])
    assert all(GUID.match(s) for s in sids) and sids[0] != sids[1]


def test_no_consent_is_aadsts65001_consent_required(mock):
    app = msal.ConfidentialClientApplication(
        DEFAULT_CLIENT_ID, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET
    )
    result = app.acquire_token_by_username_password(*ADELE, scopes=["User.Read"])
    assert result["error_codes"] == [65001] and result["suberror"] == "consent_required"


def test_azure_identity_username_password_credential(mock):
    with warnings.catch_warnings():  # azure-identity deprecates ROPC (it still works)
        warnings.simplefilter("ignore", DeprecationWarning)
        credential = UsernamePasswordCredential(PUBLIC_ID, *ADELE, tenant_id=DEFAULT_TENANT_ID)
    token = credential.get_token("https://graph.microsoft.com/User.Read")
    assert claims_of(token.token)["upn"] == ADELE[0]


WRONG = {"client_id": PUBLIC_ID, "username": ADELE[0], "password": "wrong"}
NOBODY = {"client_id": PUBLIC_ID, "username": "nobody@contoso.onmicrosoft.com", "password": "x"}
FLOWS_OFF = {"client_id": CLOSED_PUBLIC_ID, "username": ADELE[0], "password": ADELE[1]}
NO_SECRET = {"client_id": DEFAULT_CLIENT_ID, "username": ADELE[0], "password": ADELE[1]}
GOOD = {"client_id": PUBLIC_ID, "username": ADELE[0], "password": ADELE[1]}


@pytest.mark.parametrize(
    ("data", "segment", "status", "error", "code"),
    [
        (WRONG, None, 400, "invalid_grant", 50126),
        (NOBODY, None, 400, "invalid_grant", 50034),
        (FLOWS_OFF, None, 401, "invalid_client", 7000218),
        (NO_SECRET, None, 401, "invalid_client", 7000218),
        (GOOD, "common", 400, "invalid_request", 9001023),
        (GOOD, "consumers", 400, "invalid_request", 9002332),  # a work-accounts-only app
        ({**GOOD, "password": ""}, None, 400, "invalid_request", 900144),
    ],
    ids=[
        "wrong-password",
        "unknown-user",
        "flows-off",
        "no-secret",
        "common",
        "consumers",
        "no-pw",
    ],
)
def test_ropc_errors(mock, data, segment, status, error, code):
    response = _post(mock, segment or DEFAULT_TENANT_ID, **data)
    body = assert_entra_error(response, status, error, code)
    assert ADELE[1] not in body["error_description"]


def test_msal_reports_a_wrong_password(mock):
    app = msal.PublicClientApplication(PUBLIC_ID, authority=AUTHORITY)
    result = app.acquire_token_by_username_password(ADELE[0], "wrong", scopes=["User.Read"])
    assert result["error"] == "invalid_grant" and result["error_codes"] == [50126]


def test_organizations_finds_the_users_tenant(mock):
    response = _post(
        mock, "organizations", client_id=PUBLIC_ID, username=ADELE[0], password=ADELE[1]
    )
    assert response.status_code == 200, response.get_json()
