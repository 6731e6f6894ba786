"""Microsoft's Graph SDK for Python (`msgraph-sdk`, httpx + kiota) against the live HTTPS
mock: listing users with paging and `$filter`, `/me` with `$select` and `$expand=manager`,
memberships, and the groups-overage path (`getMemberObjects`). Tokens come from MSAL; the
SDK gets them through an azure-core `TokenCredential`, as it would from azure-identity."""

from __future__ import annotations

import ssl
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal
import pytest
from azure.core.credentials import AccessToken

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import (
    DEFAULT_GROUP_ALL_ID,
    DEFAULT_GROUP_RETAIL_ID,
    DEFAULT_GROUP_SALES_ID,
    DEFAULT_MEGAN_ID,
    DEFAULT_REDIRECT_URI,
)
from tests.event_loop import run_coroutine

from .conftest import ADELE
from .signin_http import http_sign_in

# msgraph-sdk 1.65 and kiota 1.16 warn about their own deprecated generated classes when a
# module loads (at import, and lazily on a request builder's first use); the suite turns
# warnings into errors, so those two warnings, and only those, are silenced here.
SDK_DEPRECATIONS = ("GetQueryParameters is deprecated", "This class is deprecated")
# One pytest-xdist worker runs the module (the root conftest's SAME_WORKER): the SDK's first
# response parsed imports ~1,250 of its generated modules, and `tokens` signs in twice.
pytestmark = [
    pytest.mark.filterwarnings(f"ignore:{message}:DeprecationWarning")
    for message in SDK_DEPRECATIONS
]
with warnings.catch_warnings():
    for message in SDK_DEPRECATIONS:
        warnings.filterwarnings("ignore", message, DeprecationWarning)
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.users.item.get_member_objects import (
        get_member_objects_post_request_body as member_objects,
    )
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph.graph_request_adapter import options as sdk_options
    from msgraph_core import GraphClientFactory


class StaticCredential:
    """An azure-core `TokenCredential` handing the SDK a token MSAL acquired."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3000)


def sign_in(mock: MockEntra, auth_uri: str, username: str, password: str) -> dict[str, str]:
    """Walk the mock's sign-in pages over HTTPS (no browser) and return what the browser would
    bring to the redirect URI."""
    with TrustingSession(mock.ca_bundle) as http:
        return http_sign_in(http, mock.base_url, auth_uri, (username, password))


def msal_app(mock: MockEntra, http: TrustingSession) -> msal.ConfidentialClientApplication:
    info = mock.info()
    return msal.ConfidentialClientApplication(
        info["client_id"],
        authority=mock.authority,
        client_credential=info["client_secret"],
        instance_discovery=False,
        http_client=http,
    )


def user_token(mock: MockEntra, http: TrustingSession, scopes: list[str]) -> str:
    app = msal_app(mock, http)
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=DEFAULT_REDIRECT_URI)
    result = app.acquire_token_by_auth_code_flow(flow, sign_in(mock, flow["auth_uri"], *ADELE))
    assert "access_token" in result, result
    return result["access_token"]


def graph_client(mock: MockEntra, token: str, http: httpx.AsyncClient) -> GraphServiceClient:
    """The SDK pointed at the mock: its CA trusted by the httpx client, its host allowed for
    the token, its `/v1.0` as the base URL."""
    host = urlsplit(mock.base_url).hostname or "localhost"
    auth = AzureIdentityAuthenticationProvider(
        StaticCredential(token),
        scopes=["https://graph.microsoft.com/.default"],
        allowed_hosts=[host],
    )
    # The SDK's own middleware options (they turn /users/me-token-to-replace into /me).
    client = GraphClientFactory.create_with_default_middleware(client=http, options=sdk_options)
    adapter = GraphRequestAdapter(auth, client=client)
    adapter.base_url = mock.graph_endpoint
    return GraphServiceClient(request_adapter=adapter)


def with_sdk(
    mock: MockEntra,
    token: str,
    scenario: Callable[[GraphServiceClient], Coroutine[Any, Any, Any]],
) -> Any:
    """Run `scenario(client)` on one event loop, with one httpx client bound to it."""

    async def main() -> Any:
        # The SDK wraps the client's transport in its middleware, and closing the client does
        # not close the wrapped one: keep it, and close both.
        transport = httpx.AsyncHTTPTransport(
            verify=ssl.create_default_context(cafile=mock.ca_bundle)
        )
        http = httpx.AsyncClient(transport=transport)
        try:
            return await scenario(graph_client(mock, token, http))
        finally:
            await http.aclose()
            await transport.aclose()

    return run_coroutine(main())


# `mock_entra_server` is the session's live mock (root conftest; its config is this folder's
# `mock_entra_config`, whichever module starts it first).


@pytest.fixture(scope="module")
def tokens(mock_entra_server: MockEntra) -> dict[str, str]:
    with TrustingSession(mock_entra_server.ca_bundle) as http:
        app = msal_app(mock_entra_server, http).acquire_token_for_client(
            ["https://graph.microsoft.com/.default"]
        )
        return {
            "app": app["access_token"],
            "User.Read": user_token(mock_entra_server, http, ["User.Read"]),
            "User.Read.All": user_token(mock_entra_server, http, ["User.Read.All"]),
        }


def test_sdk_lists_users_page_by_page(mock_entra_server, tokens):
    params = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        top=1, select=["displayName", "id", "postalCode"]
    )

    async def every_page(client: GraphServiceClient) -> list[list[str]]:
        pages = []
        page = await client.users.get(RequestConfiguration(query_parameters=params))
        while True:
            pages.append([u.display_name for u in page.value])
            if not page.odata_next_link:
                return pages
            page = await client.users.with_url(page.odata_next_link).get()

    assert with_sdk(mock_entra_server, tokens["app"], every_page) == [
        ["Adele Vance"],
        ["Megan Bowen"],
    ]


def test_sdk_filters_and_counts_users(mock_entra_server, tokens):
    async def scenario(client: GraphServiceClient) -> None:
        params = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            filter="startswith(displayName,'meg') or endswith(mail,'@contoso.onmicrosoft.com')",
            count=True,
            select=["displayName", "employeeId"],
        )
        config = RequestConfiguration(query_parameters=params)
        config.headers.add("ConsistencyLevel", "eventual")
        page = await client.users.get(config)
        assert page.odata_count == 2
        assert [(u.display_name, u.employee_id) for u in page.value] == [
            ("Adele Vance", "1001"),
            ("Megan Bowen", "1002"),
        ]
        plain = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            filter="endswith(mail,'@contoso.onmicrosoft.com')"
        )
        with pytest.raises(ODataError) as caught:
            await client.users.get(RequestConfiguration(query_parameters=plain))
        assert caught.value.response_status_code == 400
        assert caught.value.error.code == "Request_UnsupportedQuery"

    with_sdk(mock_entra_server, tokens["app"], scenario)


def test_sdk_reads_me_with_select_and_expand_manager(mock_entra_server, tokens):
    async def scenario(client: GraphServiceClient) -> None:
        config = RequestConfiguration(
            query_parameters=client.me.UserItemRequestBuilderGetQueryParameters(
                select=["displayName", "department", "createdDateTime", "identities"],
                expand=["manager"],
            )
        )
        me = await client.me.get(config)
        assert me.display_name == "Adele Vance" and me.department == "Retail"
        assert me.created_date_time.year == 2024
        assert me.identities[0].issuer_assigned_id == ADELE[0]
        assert me.manager.id == DEFAULT_MEGAN_ID
        assert me.manager.odata_type == "#microsoft.graph.user"
        assert me.manager.display_name == "Megan Bowen"  # deserialized as a User
        manager = await client.me.manager.get()
        assert manager.id == DEFAULT_MEGAN_ID

    with_sdk(mock_entra_server, tokens["User.Read.All"], scenario)


def test_sdk_lists_memberships(mock_entra_server, tokens):
    async def scenario(client: GraphServiceClient) -> None:
        direct = await client.me.member_of.get()
        assert [(g.odata_type, g.display_name) for g in direct.value] == [
            ("#microsoft.graph.group", "Retail"),
            ("#microsoft.graph.group", "All Company"),
        ]
        transitive = await client.me.transitive_member_of.get()
        assert {g.id for g in transitive.value} == {
            DEFAULT_GROUP_RETAIL_ID,
            DEFAULT_GROUP_ALL_ID,
            DEFAULT_GROUP_SALES_ID,
        }

    with_sdk(mock_entra_server, tokens["User.Read"], scenario)


def test_sdk_follows_the_overage_path_with_get_member_objects(mock_entra_server, tokens):
    """What an app does when a token says `_claim_names: {"groups": "src1"}`: POST to the
    `_claim_sources` endpoint, `users/{oid}/getMemberObjects`, with the user's token."""
    body = member_objects.GetMemberObjectsPostRequestBody

    async def scenario(client: GraphServiceClient) -> None:
        adele = (await client.me.get()).id
        security = await client.users.by_user_id(adele).get_member_objects.post(
            body(security_enabled_only=True)
        )
        assert security.value == [DEFAULT_GROUP_RETAIL_ID, DEFAULT_GROUP_ALL_ID]
        every = await client.me.get_member_objects.post(body(security_enabled_only=False))
        assert DEFAULT_GROUP_SALES_ID in every.value

    with_sdk(mock_entra_server, tokens["User.Read"], scenario)


def test_sdk_sees_graphs_errors(mock_entra_server, tokens):
    async def scenario(client: GraphServiceClient) -> None:
        with pytest.raises(ODataError) as caught:
            await client.users.get()
        error = caught.value
        assert error.response_status_code == 403
        assert error.error.code == "Authorization_RequestDenied"
        assert error.error.message == "Insufficient privileges to complete the operation."
        assert error.error.inner_error.request_id

    with_sdk(mock_entra_server, tokens["User.Read"], scenario)
