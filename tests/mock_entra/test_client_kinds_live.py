"""MSAL Python and azure-identity against the live HTTPS mock on an ephemeral port, as a test
suite runs them: certificate credentials, on-behalf-of and username/password.

Two things differ from the in-process interceptor:
- MSAL asks home realm discovery at `https://<host>/common/userrealm/<user>` without the
  authority's port (`msal.authority.Authority.user_realm_discovery`), so the HTTP client given
  to MSAL (`http_client=`; for azure-identity a `transport=`) sends a port-less request for
  the mock's host to the mock's port. MSAL has no option to skip the call.
- azure-identity takes `authority="https://127.0.0.1:<port>"`,
  `disable_instance_discovery=True`, and trusts the mock's CA through `connection_verify=`
  (a per-request `verify`, which `REQUESTS_CA_BUNDLE` does not override).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msal
import pytest
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import CertificateCredential, OnBehalfOfCredential, UsernamePasswordCredential

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_ID,
)

from .client_kinds import (
    API_SCOPE,
    API_SECRET,
    DAEMON_ID,
    PUBLIC_ID,
    certificate,
    client_kinds_config,
)
from .conftest import ADELE, claims_of

ADELE_OID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
pytestmark = [
    pytest.mark.slow,  # a mock server process (run with --run-slow; CI runs it)
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msal.application"),
]


class MockPortSession(TrustingSession):
    """MSAL's HTTP client for a mock on another port: a request to the mock's host without a
    port (MSAL's home realm discovery) goes to the mock's port."""

    def __init__(self, mock: MockEntra) -> None:
        super().__init__(mock.ca_bundle)
        self._netloc = urlsplit(mock.base_url).netloc
        self._host = urlsplit(mock.base_url).hostname

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(str(url))
        if parts.netloc == self._host:
            url = parts._replace(netloc=self._netloc).geturl()
        return super().request(method, url, *args, **kwargs)


GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockEntra]:
    state = tmp_path_factory.mktemp("client-kinds-live")
    with MockEntra.start(client_kinds_config(), state_dir=state) as server:
        yield server


def _azure_kwargs(mock: MockEntra) -> dict[str, Any]:
    return {
        "authority": mock.base_url,  # https://127.0.0.1:<port>, no tenant
        "disable_instance_discovery": True,
        "connection_verify": mock.ca_bundle,
    }


def test_msal_username_password_reaches_the_user_realm_on_the_mocks_port(mock):
    session = MockPortSession(mock)
    app = msal.PublicClientApplication(
        PUBLIC_ID, authority=mock.authority, http_client=session, instance_discovery=False
    )
    result = app.acquire_token_by_username_password(*ADELE, scopes=["User.Read"])
    assert "access_token" in result, result
    paths = [entry.get("path", "") for entry in mock.requests()]
    assert any(p.startswith("/common/userrealm/") for p in paths), paths
    session.close()


def test_without_the_port_msal_cannot_reach_the_user_realm(mock):
    """What the session above is for: MSAL's own call goes to port 443."""
    session = TrustingSession(mock.ca_bundle)
    app = msal.PublicClientApplication(
        PUBLIC_ID, authority=mock.authority, http_client=session, instance_discovery=False
    )
    with pytest.raises(OSError):  # requests' ConnectionError: nothing listens on 443
        app.acquire_token_by_username_password(*ADELE, scopes=["User.Read"])
    session.close()


def test_msal_certificate_and_on_behalf_of(mock):
    session = MockPortSession(mock)
    web = msal.PublicClientApplication(
        PUBLIC_ID, authority=mock.authority, http_client=session, instance_discovery=False
    )
    incoming = web.acquire_token_by_username_password(*ADELE, scopes=[API_SCOPE])
    assert "access_token" in incoming, incoming

    def confidential(
        client_id: str, credential: dict[str, str]
    ) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            client_id,
            authority=mock.authority,
            client_credential=credential,
            http_client=session,
            instance_discovery=False,
        )

    api = confidential(DEFAULT_API_CLIENT_ID, certificate().msal_certificate)
    result = api.acquire_token_on_behalf_of(incoming["access_token"], ["User.Read"])
    assert claims_of(result["access_token"])["oid"] == ADELE_OID, result
    # The middle tier acts in the user's session: the same `sid` (a GUID, Learn, "ID token
    # claims reference") downstream as in the token it was sent.
    sid = claims_of(incoming["access_token"])["sid"]
    assert claims_of(result["access_token"])["sid"] == sid and GUID.match(sid)
    daemon = confidential(DAEMON_ID, certificate().msal_thumbprint)
    app_only = daemon.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert claims_of(app_only["access_token"])["appid"] == DAEMON_ID, app_only
    session.close()


def test_azure_identity_credentials(mock):
    cert = certificate()
    certificate_credential = CertificateCredential(
        DEFAULT_TENANT_ID,
        DAEMON_ID,
        certificate_data=(cert.key_pem + cert.cert_pem).encode(),
        **_azure_kwargs(mock),
    )
    token = certificate_credential.get_token("https://graph.microsoft.com/.default")
    assert claims_of(token.token)["appid"] == DAEMON_ID

    # A transport of one's own takes the CA itself (the credential's `connection_verify`
    # configures only the transport azure-identity builds).
    transport = RequestsTransport(
        session=MockPortSession(mock), session_owner=False, connection_verify=mock.ca_bundle
    )
    with warnings.catch_warnings():  # azure-identity deprecates ROPC (it still works)
        warnings.simplefilter("ignore", DeprecationWarning)
        user_credential = UsernamePasswordCredential(
            PUBLIC_ID,
            *ADELE,
            tenant_id=DEFAULT_TENANT_ID,
            transport=transport,
            **_azure_kwargs(mock),
        )
    incoming = user_credential.get_token(API_SCOPE).token
    assert claims_of(incoming)["aud"] == DEFAULT_API_CLIENT_ID

    obo = OnBehalfOfCredential(
        DEFAULT_TENANT_ID,
        DEFAULT_API_CLIENT_ID,
        client_secret=API_SECRET,
        user_assertion=incoming,
        **_azure_kwargs(mock),
    )
    graph = obo.get_token("https://graph.microsoft.com/User.Read")
    assert claims_of(graph.token)["oid"] == ADELE_OID


NODE_CLIENT = Path(__file__).parent / "node"


def msal_node(mock: MockEntra, **request: Any) -> dict[str, Any]:
    """Run `node/client_credentials.mjs` (@azure/msal-node) against the live mock."""
    if shutil.which("node") is None or not (NODE_CLIENT / "node_modules").is_dir():
        pytest.skip("@azure/msal-node not installed: run `npm ci` in tests/mock_entra/node")
    done = subprocess.run(
        ["node", str(NODE_CLIENT / "client_credentials.mjs")],
        input=json.dumps({"authority": mock.authority, **request}),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(mock.ca_file)},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_msal_node_daemon_with_a_secret_and_with_a_certificate(mock):
    graph = ["https://graph.microsoft.com/.default"]
    with_secret = msal_node(
        mock, clientId=DEFAULT_CLIENT_ID, clientSecret=DEFAULT_CLIENT_SECRET, scopes=graph
    )
    assert with_secret["ok"], with_secret
    assert claims_of(with_secret["accessToken"])["appid"] == DEFAULT_CLIENT_ID
    cert = certificate()
    with_certificate = msal_node(
        mock,
        clientId=DAEMON_ID,
        certificate={"thumbprintSha256": cert.sha256_hex, "privateKey": cert.key_pem},
        scopes=graph,
    )
    assert with_certificate["ok"], with_certificate
    assert claims_of(with_certificate["accessToken"])["appid"] == DAEMON_ID
    wrong = msal_node(mock, clientId=DEFAULT_CLIENT_ID, clientSecret="wrong", scopes=graph)
    assert not wrong["ok"]
    assert wrong["errorCode"] == "invalid_client"
    assert "AADSTS7000215" in wrong["message"]
