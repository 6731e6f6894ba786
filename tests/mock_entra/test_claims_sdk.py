"""The groups overage followed with Microsoft's Graph SDK (`msgraph-sdk`) against the live
HTTPS mock: its own module, since `test_claims`'s in-process interceptor would answer every
`requests` call, the live server's readiness check included."""

from __future__ import annotations

import pytest

from mock_entra.core.config import DEFAULT_REDIRECT_URI
from mock_entra.pytest_plugin import live_mock

from .test_claims import GREG, GREG_ID, MANY_GROUPS, claims_config


@pytest.fixture(scope="module")
def served(tmp_path_factory, key_template):
    workdir = tmp_path_factory.mktemp("claims-served")
    with live_mock(claims_config(), key_template, workdir, timeout=60) as mock:
        yield mock


@pytest.mark.slow  # starts the mock as a process
@pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning")
def test_msgraph_sdk_follows_the_overage_claim_source(served):
    """An app that finds `_claim_names` in the ID token calls Microsoft Graph's
    getMemberObjects for the user with its Graph token (Learn's overage guidance), here with
    msgraph-sdk."""
    from conformance.trust import TrustingSession

    from .test_graph_msgraph_sdk import member_objects, msal_app, sign_in, with_sdk

    with TrustingSession(served.ca_bundle) as http:
        app = msal_app(served, http)
        flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=DEFAULT_REDIRECT_URI)
        result = app.acquire_token_by_auth_code_flow(flow, sign_in(served, flow["auth_uri"], *GREG))
    assert "access_token" in result, result
    id_claims = result["id_token_claims"]
    assert "groups" not in id_claims and id_claims["_claim_names"] == {"groups": "src1"}
    endpoint = id_claims["_claim_sources"]["src1"]["endpoint"]
    # Entra's Azure AD Graph URL: the app calls Microsoft Graph for the user itself (Learn).
    assert endpoint.startswith("https://graph.windows.net/")
    assert endpoint.endswith(f"/users/{GREG_ID}/getMemberObjects")

    async def scenario(client):
        body = member_objects.GetMemberObjectsPostRequestBody(security_enabled_only=True)
        request = client.users.by_user_id(id_claims["oid"]).get_member_objects
        return (await request.post(body)).value

    assert sorted(with_sdk(served, result["access_token"], scenario)) == sorted(MANY_GROUPS)
