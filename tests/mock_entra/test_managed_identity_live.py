"""Secretless on Azure (issue 20), with the real clients against a live mock serving its
managed identity endpoints (`serve --managed-identity-port`): azure-identity's
ManagedIdentityCredential (App Service variables; IMDS through
AZURE_POD_IDENTITY_AUTHORITY_HOST) and WorkloadIdentityCredential (AZURE_FEDERATED_TOKEN_FILE),
MSAL Python's ManagedIdentityClient; and each wrong credential on Entra's or the platform's
error."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import msal
import pytest
import requests
from azure.identity import ManagedIdentityCredential, WorkloadIdentityCredential

from mock_entra.core.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CONFIG,
    DEFAULT_MANAGED_IDENTITY_CLIENT_ID,
    DEFAULT_MANAGED_IDENTITY_OBJECT_ID,
    DEFAULT_TENANT_ID,
    TOKEN_EXCHANGE_APP_ID,
    AppRegistration,
    ExternalIssuer,
    FederatedCredential,
    ManagedIdentity,
    MockConfig,
)
from mock_entra.info import PLATFORM_VARIABLES
from mock_entra.pytest_plugin import live_mock
from mock_entra.server import MockEntra

from .conftest import claims_of
from .external_issuer import ISSUER, SUBJECT, issuer

GRAPH = "https://graph.microsoft.com"
CI_APP = "7e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"  # trusts the external issuer (a CI job)
WORKER = ManagedIdentity(  # a second, user-assigned identity: named by id, never the default
    client_id="0b7c5a1e-2f3d-4e6a-9b8c-1d2e3f4a5b6c",
    object_id="5f4e3d2c-1b0a-4987-8765-43210fedcba9",
    display_name="worker",
    resource_id="/subscriptions/1111/resourceGroups/rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/worker",
)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ENV = (
    *PLATFORM_VARIABLES,
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
)


def secretless_config() -> MockConfig:
    tenant = DEFAULT_CONFIG.default_tenant
    ci_app = AppRegistration(
        client_id=CI_APP,
        display_name="ci deployer",
        application_permissions={GRAPH: ("User.Read.All",)},
        federated_credentials=(
            FederatedCredential(name="github-main", issuer=ISSUER, subject=SUBJECT),
        ),
    )
    tenant = dataclasses.replace(
        tenant,
        apps=(*tenant.apps, ci_app),
        managed_identities=(*tenant.managed_identities, WORKER),
    )
    return dataclasses.replace(
        DEFAULT_CONFIG,
        tenants=(tenant, *DEFAULT_CONFIG.tenants[1:]),
        external_issuers=(ExternalIssuer(issuer=ISSUER, jwks=issuer().jwks),),
    )


@pytest.fixture(scope="module")
def mock(tmp_path_factory, key_template: Path) -> Iterator[MockEntra]:
    workdir = tmp_path_factory.mktemp("managed-identity")
    with live_mock(secretless_config(), key_template, workdir, managed_identity=True) as m:
        yield m


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, mock: MockEntra) -> pytest.MonkeyPatch:
    """No managed identity variables but the test's own; the mock's CA trusted."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", mock.ca_bundle)
    return monkeypatch


def app_service(env: pytest.MonkeyPatch, mock: MockEntra) -> None:
    found = mock.managed_identity
    assert found is not None
    env.setenv("IDENTITY_ENDPOINT", found.identity_endpoint)
    env.setenv("IDENTITY_HEADER", found.identity_header)


# --- info ------------------------------------------------------------------------------------


def test_info_tells_the_endpoint_the_header_and_the_imds_host(mock: MockEntra):
    found = mock.info()["managed_identity"]
    assert set(found) == {"identity_endpoint", "identity_header", "imds_host"}
    assert found["identity_endpoint"] == found["imds_host"] + "/msi/token"
    assert found["imds_host"].startswith("http://localhost:")
    assert len(found["identity_header"]) >= 32


def test_info_has_no_managed_identity_when_it_is_off(mock: MockEntra):
    from mock_entra.info import info

    assert "managed_identity" not in info(DEFAULT_CONFIG, mock.paths, mock.base_url, None)


# --- App Service (and Container Apps) --------------------------------------------------------


def test_azure_identity_on_app_service_gets_the_system_assigned_identitys_graph_token(env, mock):
    app_service(env, mock)
    token = ManagedIdentityCredential().get_token(f"{GRAPH}/.default")
    claims = claims_of(token.token)
    assert claims["oid"] == claims["sub"] == DEFAULT_MANAGED_IDENTITY_OBJECT_ID
    assert claims["appid"] == DEFAULT_MANAGED_IDENTITY_CLIENT_ID
    assert claims["aud"] == GRAPH and claims["idtyp"] == "app"
    assert claims["roles"] == ["User.Read.All"] and claims["appidacr"] == "2"
    assert claims["xms_mirid"].endswith(DEFAULT_MANAGED_IDENTITY_CLIENT_ID)
    assert token.expires_on > time.time() + 3000


def test_azure_identity_on_app_service_names_a_user_assigned_identity(env, mock):
    app_service(env, mock)
    token = ManagedIdentityCredential(client_id=WORKER.client_id).get_token(f"{GRAPH}/.default")
    claims = claims_of(token.token)
    assert claims["oid"] == WORKER.object_id and "roles" not in claims  # none granted


def test_app_service_answer_shape_and_selectors(mock: MockEntra):
    found = mock.managed_identity
    url, header = found.identity_endpoint, {"X-IDENTITY-HEADER": found.identity_header}
    for selector in (
        {"client_id": WORKER.client_id},
        {"principal_id": WORKER.object_id},
        {"object_id": WORKER.object_id},
        {"mi_res_id": WORKER.resource_id},
    ):
        params = {"api-version": "2019-08-01", "resource": GRAPH, **selector}
        response = requests.get(url, params=params, headers=header, timeout=10)
        body = response.json()
        assert response.status_code == 200, body
        assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
        assert isinstance(body["expires_on"], str) and int(body["expires_on"]) > time.time()
        assert body["client_id"] == WORKER.client_id and body["resource"] == GRAPH
        assert response.headers["Cache-Control"] == "no-store"


def test_app_service_errors_are_the_platforms(mock: MockEntra):
    found = mock.managed_identity
    url = found.identity_endpoint
    ok = {"api-version": "2019-08-01", "resource": GRAPH}
    good = {"X-IDENTITY-HEADER": found.identity_header}

    def get(params: dict, headers: dict) -> tuple[int, dict]:
        response = requests.get(url, params=params, headers=headers, timeout=10)
        body = response.json()
        assert set(body) == {"statusCode", "message", "correlationId"}, body
        assert body["statusCode"] == response.status_code
        return response.status_code, body

    assert get(ok, {"X-IDENTITY-HEADER": "wrong"})[0] == 401
    assert get(ok, {})[0] == 401
    status, body = get({**ok, "client_id": "00000000-0000-0000-0000-000000000001"}, good)
    assert (status, body["message"]) == (400, "Unable to load the proper Managed Identity.")
    assert get({**ok, "resource": "https://vault.azure.net"}, good)[0] == 500
    assert get({"resource": GRAPH}, good)[0] == 400  # no api-version
    assert get({"api-version": "2019-08-01"}, good)[0] == 400  # no resource


def test_msal_managed_identity_client_on_app_service(env, mock):
    app_service(env, mock)
    client = msal.ManagedIdentityClient(
        msal.UserAssignedManagedIdentity(client_id=WORKER.client_id),
        http_client=requests.Session(),
    )
    result = client.acquire_token_for_client(resource=GRAPH)
    assert "access_token" in result, result
    assert claims_of(result["access_token"])["oid"] == WORKER.object_id
    assert result["token_source"] == "identity_provider"
    again = client.acquire_token_for_client(resource=GRAPH)
    assert again["token_source"] == "cache"  # MSAL read expires_on: the token is reused


# --- IMDS --------------------------------------------------------------------------------------


def test_azure_identity_through_imds(env, mock):
    env.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", mock.managed_identity.imds_host)
    token = ManagedIdentityCredential(client_id=WORKER.client_id).get_token(f"{GRAPH}/.default")
    assert claims_of(token.token)["oid"] == WORKER.object_id


def test_msal_managed_identity_client_through_imds(env, mock):
    env.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", mock.managed_identity.imds_host)
    client = msal.ManagedIdentityClient(
        msal.SystemAssignedManagedIdentity(), http_client=requests.Session()
    )
    result = client.acquire_token_for_client(resource=GRAPH)
    assert "access_token" in result, result
    assert claims_of(result["access_token"])["oid"] == DEFAULT_MANAGED_IDENTITY_OBJECT_ID


def test_imds_answer_shape_and_errors(mock: MockEntra):
    url = mock.managed_identity.imds_host + "/metadata/identity/oauth2/token"
    params = {"api-version": "2018-02-01", "resource": GRAPH, "msi_res_id": WORKER.resource_id}
    response = requests.get(url, params=params, headers={"Metadata": "true"}, timeout=10)
    body = response.json()
    assert response.status_code == 200, body
    for name in ("expires_in", "expires_on", "ext_expires_in", "not_before"):
        assert isinstance(body[name], str) and body[name].isdigit(), name
    assert body["client_id"] == WORKER.client_id and body["token_type"] == "Bearer"

    def error(params: dict, headers: dict) -> tuple[int, str]:
        response = requests.get(url, params=params, headers=headers, timeout=10)
        found = response.json()
        assert set(found) == {"error", "error_description"}, found
        return response.status_code, found["error"]

    assert error(params, {}) == (400, "bad_request_102")  # no Metadata header
    assert error(params, {"Metadata": "True"}) == (400, "bad_request_102")  # lower case only
    unknown = {**params, "msi_res_id": "/subscriptions/none"}
    assert error(unknown, {"Metadata": "true"}) == (400, "invalid_request")
    vault = {"api-version": "2018-02-01", "resource": "https://vault.azure.net"}
    assert error(vault, {"Metadata": "true"}) == (400, "invalid_resource")
    # With a trailing slash too, as AAD Pod Identity answers it and msal-node sends it.
    slash = requests.get(url + "/", params=params, headers={"Metadata": "true"}, timeout=10)
    assert slash.status_code == 200 and slash.json()["client_id"] == WORKER.client_id
    other = requests.get(url + "/x", params=params, headers={"Metadata": "true"}, timeout=10)
    assert other.status_code == 404


# --- workload identity federation ------------------------------------------------------------


def _workload(env, mock: MockEntra, tmp_path: Path, token: str, client_id: str):
    path = tmp_path / "federated-token"
    path.write_text(token)
    return WorkloadIdentityCredential(
        tenant_id=DEFAULT_TENANT_ID,
        client_id=client_id,
        token_file_path=str(path),
        authority=mock.base_url,
        disable_instance_discovery=True,
    )


def test_workload_identity_with_an_external_issuers_token(env, mock, tmp_path: Path):
    credential = _workload(env, mock, tmp_path, issuer().token(), CI_APP)
    claims = claims_of(credential.get_token(f"{GRAPH}/.default").token)
    assert claims["appid"] == CI_APP and claims["roles"] == ["User.Read.All"]


def test_the_managed_identitys_exchange_token_signs_the_sample_app_in(env, mock, tmp_path):
    """The secretless Web App: its managed identity's token for api://AzureADTokenExchange is
    the sample app's client assertion (the default federated credential trusts it)."""
    found = mock.managed_identity
    response = requests.get(
        found.identity_endpoint,
        params={"api-version": "2019-08-01", "resource": "api://AzureADTokenExchange"},
        headers={"X-IDENTITY-HEADER": found.identity_header},
        timeout=10,
    )
    exchange = response.json()["access_token"]
    sent = claims_of(exchange)
    assert sent["iss"] == f"{mock.base_url}/{DEFAULT_TENANT_ID}/v2.0"
    assert sent["sub"] == sent["oid"] == DEFAULT_MANAGED_IDENTITY_OBJECT_ID
    assert sent["aud"] == TOKEN_EXCHANGE_APP_ID and sent["ver"] == "2.0"
    credential = _workload(env, mock, tmp_path, exchange, DEFAULT_CLIENT_ID)
    assert claims_of(credential.get_token(f"{GRAPH}/.default").token)["appid"] == DEFAULT_CLIENT_ID


def _client_credentials(mock: MockEntra, assertion: str, client_id: str = CI_APP) -> dict:
    response = requests.post(
        f"{mock.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "scope": f"{GRAPH}/.default",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
        verify=mock.ca_bundle,
        timeout=10,
    )
    body = response.json()
    body["status"] = response.status_code
    return body


@pytest.mark.parametrize(
    ("claims", "kid", "code", "shown"),
    [
        ({"sub": "repo:contoso/entra-lab:ref:refs/heads/dev"}, "key-1", 700213, "refs/heads/dev"),
        ({"aud": "api://SomethingElse"}, "key-1", 700212, "api://SomethingElse"),
        ({"iss": "https://other.example.test"}, "key-1", 700211, "https://other.example.test"),
        ({}, "key-2", 7000272, "key-2"),
        ({"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200}, "key-1", 700024, ""),
    ],
    ids=["wrong-subject", "wrong-audience", "unknown-issuer", "unknown-key", "expired"],
)
def test_a_wrong_federated_assertion_gets_entras_error(mock, claims, kid, code, shown):
    signer = issuer() if kid == "key-1" else issuer(kid=kid)  # key-2: not in the JWKS
    body = _client_credentials(mock, signer.token(**claims))
    assert body["status"] == 401 and body["error"] == "invalid_client", body
    assert body["error_codes"] == [code]
    description = body["error_description"]
    assert description.startswith(f"AADSTS{code}: ") and shown in description


def test_a_forged_signature_is_refused(mock):
    token = issuer().token()
    forged = issuer(name="https://forger.example.test", kid="key-1").token()
    tampered = ".".join([*token.split(".")[:2], forged.split(".")[2]])
    assert _client_credentials(mock, tampered)["error_codes"] == [50027]


def test_another_managed_identitys_token_is_not_the_apps(mock):
    found = mock.managed_identity
    response = requests.get(
        found.identity_endpoint,
        params={
            "api-version": "2019-08-01",
            "resource": "api://AzureADTokenExchange",
            "client_id": WORKER.client_id,
        },
        headers={"X-IDENTITY-HEADER": found.identity_header},
        timeout=10,
    )
    body = _client_credentials(mock, response.json()["access_token"], DEFAULT_CLIENT_ID)
    assert body["error_codes"] == [700213] and WORKER.object_id in body["error_description"]


# --- msal-node ---------------------------------------------------------------------------------

NODE = Path(__file__).parent / "node"


def msal_node_managed_identity(platform: dict[str, str], **request: str) -> dict:
    """`node/managed_identity.mjs` (@azure/msal-node's ManagedIdentityApplication) with the
    platform's variables `platform` and no other managed identity variable."""
    if shutil.which("node") is None or not (NODE / "node_modules").is_dir():
        pytest.skip("@azure/msal-node not installed: run `npm ci` in tests/mock_entra/node")
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    done = subprocess.run(
        ["node", str(NODE / "managed_identity.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, **platform},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_msal_node_managed_identity_on_app_service_and_through_imds(mock: MockEntra):
    found = mock.managed_identity
    assert found is not None
    app_service = {"IDENTITY_ENDPOINT": found.identity_endpoint,
                   "IDENTITY_HEADER": found.identity_header}  # fmt: skip
    system = msal_node_managed_identity(app_service, resource=GRAPH)
    assert system["ok"], system
    assert system["source"] == "AppService"
    claims = claims_of(system["accessToken"])
    assert claims["appid"] == DEFAULT_MANAGED_IDENTITY_CLIENT_ID and claims["aud"] == GRAPH
    assert claims["roles"] == ["User.Read.All"]

    user = msal_node_managed_identity(
        app_service, resource=GRAPH, userAssignedClientId=WORKER.client_id
    )
    assert user["ok"], user
    assert claims_of(user["accessToken"])["oid"] == WORKER.object_id

    imds = msal_node_managed_identity(
        {"AZURE_POD_IDENTITY_AUTHORITY_HOST": found.imds_host},
        resource="api://AzureADTokenExchange",
    )
    assert imds["ok"], imds
    assert imds["source"] == "DefaultToImds"  # msal-node's name when no other source is set
    exchange = claims_of(imds["accessToken"])
    assert exchange["aud"] == TOKEN_EXCHANGE_APP_ID
    assert exchange["sub"] == DEFAULT_MANAGED_IDENTITY_OBJECT_ID

    wrong = {**app_service, "IDENTITY_HEADER": "not-the-header"}
    refused = msal_node_managed_identity(wrong, resource=GRAPH)
    assert refused["ok"] is False, refused


# --- the sample app, secretless --------------------------------------------------------------


def test_client_app_signs_in_with_its_managed_identity_and_no_secret(env, mock, tmp_path):
    """client_app with MANAGED_IDENTITY_CLIENT_ID and no CLIENT_SECRET: the code is redeemed
    with the managed identity's token as the client assertion, and the user is signed in."""
    from urllib.parse import urlencode

    from client_app import Settings, create_app

    from .signin_http import http_sign_in

    app_service(env, mock)  # what App Service gives the Web App's container
    settings = Settings.from_env(
        {
            "TENANT_ID": DEFAULT_TENANT_ID,
            "CLIENT_ID": DEFAULT_CLIENT_ID,
            "MANAGED_IDENTITY_CLIENT_ID": DEFAULT_MANAGED_IDENTITY_CLIENT_ID,
            "AUTHORITY": mock.authority,
            "REDIRECT_URI": "http://localhost:5000/getAToken",
            "GRAPH_ENDPOINT": mock.graph_endpoint,
            "CA_BUNDLE": mock.ca_bundle,
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "SESSION_DIR": str(tmp_path / "sessions"),
        }
    )
    browser = create_app(settings).test_client()
    mock.reset()
    login = browser.get("/login")
    assert login.status_code == 302
    with requests.Session() as http:
        http.verify = mock.ca_bundle
        back = http_sign_in(
            http,
            mock.base_url,
            login.headers["Location"],
            ("adele@contoso.onmicrosoft.com", "Passw0rd!1"),
        )
    done = browser.get("/getAToken?" + urlencode(back))
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert "Adele Vance" in browser.get("/profile").get_data(as_text=True)
    token_calls = [r for r in mock.requests() if r["path"].endswith("/oauth2/v2.0/token")]
    assert token_calls, mock.requests()
    for call in token_calls:
        assert "client_secret" not in call["form"]
        assert call["form"]["client_assertion_type"] == [ASSERTION_TYPE]


@pytest.mark.parametrize(
    "claims",
    [{"aud": [[1]]}, {"aud": {}}, {"aud": ["api://AzureADTokenExchange", 7]}],
    ids=["nested-list", "object", "number"],
)
def test_an_assertion_with_audiences_that_are_no_strings_is_aadsts50027(mock, claims):
    # Read before the signature is checked: a set of unhashable values was a 500.
    body = _client_credentials(mock, issuer().token(**claims))
    assert body["status"] == 400 and body["error_codes"] == [50027], body


def test_an_issuer_that_is_no_url_under_the_mocks_own_key_is_an_unknown_issuer(mock):
    # The mock's key ids are public (its JWKS): with one, the issuer is read as a URL, and an
    # unclosed IPv6 bracket was a 500.
    jwks = requests.get(f"{mock.authority}/discovery/v2.0/keys", verify=mock.ca_bundle, timeout=10)
    own_kid = jwks.json()["keys"][0]["kid"]
    token = issuer(kid=own_kid).token(iss="https://[x/t/v2.0")
    body = _client_credentials(mock, token)
    assert body["status"] == 401 and body["error_codes"] == [700211], body
