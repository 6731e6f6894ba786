"""Microsoft Graph answers the calls apps make the same way on both targets: `/me` and its
default property set, `$select`, Graph's error for a segment it does not know, the
`request-id` / `client-request-id` headers, `/me/memberOf`, `/me/photo/$value`, `/users` with
`$top` paging, and `$expand=manager`.

Runs unchanged against the mock and a real tenant, with delegated tokens MSAL gets by the
auth-code flow (the browser only signs the user in, as in the IdP protocol suite). What a
plain test user's app registration cannot be assumed to have (`User.ReadBasic.All`,
`User.Read.All`: admin-consented or not configured at all) is `mock_only`, with the reason.

Learn pages: "Get user" (default properties), "Use the $select query parameter", "Microsoft
Graph error responses and resource types", "Paging Microsoft Graph data in your app", "List
a user's direct memberships", "Get profilePhoto", "List manager".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import msal
import pytest
import requests
from playwright.sync_api import Browser, Page

from conformance.browser_fixtures import SignedInStates
from conformance.flows import authorization_response
from conformance.targets import Target
from conformance.trust import TrustingSession

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Learn, "Get user": what `GET /me` returns without `$select` (v1.0).
DEFAULT_USER_PROPERTIES = {
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
}  # fmt: skip
# Learn, "List users": the delegated permissions that allow it (least privileged first).
LIST_USERS_SCOPES = {
    "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All",
    "Directory.ReadWrite.All", "Directory.AccessAsUser.All",
}  # fmt: skip
# The first bytes of the image formats Graph serves photos in.
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8")


class GraphTokens:
    """Delegated Graph tokens of the target's first user, one auth-code sign-in per scope set
    (Entra's session in the browser: no password typed after the first)."""

    def __init__(self, target: Target, page: Page, artifacts: Path) -> None:
        self.target = target
        self.page = page
        self.artifacts = artifacts
        self.session = TrustingSession(target.ca_bundle)
        self.app = msal.ConfidentialClientApplication(
            target.client_id,
            client_credential=target.client_secret,
            authority=target.authority,
            http_client=self.session,
            instance_discovery=None if target.is_microsoft_host else False,
        )
        self._tokens: dict[tuple[str, ...], str] = {}

    def __call__(self, *scopes: str) -> str:
        """An access token for Graph with `scopes` (default `User.Read`)."""
        key = tuple(sorted(scopes or ("User.Read",)))
        if key not in self._tokens:
            flow = self.app.initiate_auth_code_flow(
                list(key), redirect_uri=self.target.redirect_uri, response_mode="form_post"
            )
            response = authorization_response(
                self.page,
                flow["auth_uri"],
                self.target.redirect_uri,
                self.target.users[0],
                artifacts_dir=self.artifacts,
            )
            result = self.app.acquire_token_by_auth_code_flow(flow, response)
            assert "access_token" in result, result
            self._tokens[key] = result["access_token"]
        return self._tokens[key]


@pytest.fixture(scope="module")
def graph_token(
    browser: Browser,
    signed_in_states: SignedInStates,
    target: Target,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GraphTokens]:
    """Scope: module. `graph_token("User.Read", …)`: a delegated Graph token of the first
    user, from a browser that holds the user's Entra session."""
    context = browser.new_context(storage_state=str(signed_in_states.sso_state(target.users[0])))
    tokens = GraphTokens(target, context.new_page(), tmp_path_factory.mktemp("graph-sign-in"))
    yield tokens
    context.close()
    tokens.session.close()


@pytest.fixture
def graph(target: Target, http: TrustingSession) -> Callable[..., requests.Response]:
    """Scope: function. `graph(path, token, method="GET", headers=…, params=…)`: one call
    to the target's Graph (`path` relative to the v1.0 endpoint, or an absolute nextLink)."""

    def call(
        path: str,
        token: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        url = path if path.startswith("https://") else f"{target.graph_endpoint}/{path}"
        return http.request(
            method,
            url,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            params=params,
        )

    return call


def scopes_of(token: str) -> set[str]:
    """The `scp` claim of a Graph token, as a set (not verified: Graph tokens are Graph's)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return set(str(claims.get("scp", "")).split())


def assert_graph_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """Graph's error answer: the status, `{"error": {"code", "message", "innerError"}}` with
    the request's ids, and the `request-id` header; returns `error`."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    inner = error["innerError"]
    assert GUID.match(inner["request-id"]), inner
    assert response.headers["request-id"] == inner["request-id"]
    assert inner.get("date"), inner
    return error


# -- /me -------------------------------------------------------------------------------------


def test_me_returns_graphs_default_property_set_about_the_signed_in_user(
    graph_token: GraphTokens,
    graph: Callable[..., requests.Response],
    target: Target,
    observe: Callable[[str, Any], None],
) -> None:
    token = graph_token()
    response = graph("me", token)
    assert response.status_code == 200, response.text[:500]
    me = response.json()
    observe("me.properties", sorted(me))
    assert set(me) == DEFAULT_USER_PROPERTIES | {"@odata.context"}
    assert me["@odata.context"] == f"{target.graph_endpoint}/$metadata#users/$entity"
    assert me["userPrincipalName"].lower() == target.users[0].username.lower()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert me["id"] == claims["oid"]
    assert isinstance(me["businessPhones"], list)
    assert response.headers["Content-Type"].startswith("application/json")


def test_me_select_returns_exactly_the_selected_properties(
    graph_token: GraphTokens, graph: Callable[..., requests.Response], target: Target
) -> None:
    # `department` and `accountEnabled` are not in the default set: `$select` brings them.
    selected = ("displayName", "id", "department", "accountEnabled")
    response = graph("me", graph_token(), params={"$select": ",".join(selected)})
    assert response.status_code == 200, response.text[:500]
    me = response.json()
    assert set(me) == {*selected, "@odata.context"}
    assert me["@odata.context"] == (
        f"{target.graph_endpoint}/$metadata#users({','.join(selected)})/$entity"
    )
    assert isinstance(me["accountEnabled"], bool)


def test_an_unknown_segment_is_a_400_badrequest_naming_the_segment(
    graph_token: GraphTokens,
    graph: Callable[..., requests.Response],
    observe: Callable[[str, Any], None],
) -> None:
    response = graph("me/notAGraphSegment", graph_token())
    error = assert_graph_error(response, 400, "BadRequest")
    observe("unknown_segment", {"status": response.status_code, "code": error["code"]})
    assert error["message"] == "Resource not found for the segment 'notAGraphSegment'."


def test_responses_carry_request_id_and_echo_client_request_id(
    graph_token: GraphTokens, graph: Callable[..., requests.Response]
) -> None:
    token = graph_token()
    for path in ("me", "me/notAGraphSegment"):  # an answer and an error alike
        sent = str(uuid.uuid4())
        response = graph(path, token, headers={"client-request-id": sent})
        assert GUID.match(response.headers.get("request-id", "")), (path, response.headers)
        assert response.headers.get("client-request-id") == sent, (path, response.headers)
    # Without one, Graph still answers with a client-request-id of its own.
    response = graph("me", token)
    assert GUID.match(response.headers.get("client-request-id", "")), response.headers


# -- memberships, photo ----------------------------------------------------------------------


def test_me_member_of_lists_directory_objects_with_their_type_and_id(
    graph_token: GraphTokens,
    graph: Callable[..., requests.Response],
    target: Target,
    observe: Callable[[str, Any], None],
) -> None:
    # Learn, "List a user's direct memberships": User.Read is enough for /me/memberOf.
    response = graph("me/memberOf", graph_token())
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body["@odata.context"] == f"{target.graph_endpoint}/$metadata#directoryObjects"
    assert isinstance(body["value"], list)
    observe("me.memberOf.types", sorted({item["@odata.type"] for item in body["value"]}))
    for item in body["value"]:
        assert item["@odata.type"].startswith("#microsoft.graph."), item
        assert GUID.match(item["id"]), item
        if item["@odata.type"] == "#microsoft.graph.group":
            assert {"displayName", "securityEnabled", "mailEnabled"} <= set(item), item


def test_me_photo_value_is_an_image_or_graphs_image_not_found(
    graph_token: GraphTokens,
    graph: Callable[..., requests.Response],
    observe: Callable[[str, Any], None],
) -> None:
    # Both are Graph's answers (a tenant's user may have no photo); userinfo's `picture`
    # points here.
    response = graph("me/photo/$value", graph_token())
    observe("me.photo.status", response.status_code)
    if response.status_code == 404:
        assert_graph_error(response, 404, "ImageNotFound")
        return
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("image/"), response.headers
    assert response.content.startswith(IMAGE_MAGIC), response.content[:16]


# -- /users and the manager ------------------------------------------------------------------


def test_listing_users_needs_a_users_permission_beyond_user_read(
    graph_token: GraphTokens,
    graph: Callable[..., requests.Response],
    observe: Callable[[str, Any], None],
) -> None:
    # The token's `scp` holds every Graph scope the user consented to for this app, so a
    # tenant whose admin consented User.ReadBasic.All lists users even for a User.Read ask.
    token = graph_token()
    response = graph("users", token, params={"$top": "1"})
    observe("users.with_user_read", response.status_code)
    if scopes_of(token) & LIST_USERS_SCOPES:
        assert response.status_code == 200, response.text[:500]
        assert isinstance(response.json()["value"], list)
    else:
        error = assert_graph_error(response, 403, "Authorization_RequestDenied")
        assert error["message"] == "Insufficient privileges to complete the operation."


@pytest.mark.mock_only(
    reason="User.ReadBasic.All: a live test user's app registration need not have it"
)
def test_users_page_with_top_and_follow_the_next_link(
    graph_token: GraphTokens, graph: Callable[..., requests.Response], target: Target
) -> None:
    token = graph_token("User.ReadBasic.All")
    assert "User.ReadBasic.All" in scopes_of(token)
    seen: list[str] = []
    link: str | None = "users"
    params: dict[str, str] | None = {"$top": "1", "$select": "id,displayName"}
    for _ in range(3):
        assert link is not None
        response = graph(link, token, params=params)
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        assert body["@odata.context"] == (
            f"{target.graph_endpoint}/$metadata#users(id,displayName)"
        )
        assert len(body["value"]) == 1, body
        assert set(body["value"][0]) == {"id", "displayName"}
        seen.append(body["value"][0]["id"])
        link = body.get("@odata.nextLink")
        if link is None:
            break
        # An absolute URL on Graph's endpoint carrying the query and Graph's $skiptoken.
        parts = urlsplit(link)
        assert link.startswith(f"{target.graph_endpoint}/users?"), link
        query = parse_qs(parts.query)
        assert query.get("$top") == ["1"] and "$skiptoken" in query, link
        params = None  # the nextLink is followed as is
    assert len(seen) >= 2 and len(set(seen)) == len(seen), seen


@pytest.mark.mock_only(reason="User.Read.All needs an admin's consent on a tenant")
def test_me_expand_manager_embeds_the_manager_as_a_user(
    graph_token: GraphTokens, graph: Callable[..., requests.Response]
) -> None:
    # Learn, "List manager": User.Read.All is the least privileged delegated permission.
    token = graph_token("User.Read.All")
    response = graph("me", token, params={"$expand": "manager"})
    assert response.status_code == 200, response.text[:500]
    me = response.json()
    manager = me["manager"]
    assert manager["@odata.type"] == "#microsoft.graph.user", manager
    assert GUID.match(manager["id"]) and manager["id"] != me["id"], manager
    assert manager["displayName"], manager
    # $select inside $expand picks the manager's properties.
    response = graph("me", token, params={"$expand": "manager($select=id,displayName)"})
    assert response.status_code == 200, response.text[:500]
    picked = response.json()["manager"]
    assert set(picked) - {"@odata.type"} == {"id", "displayName"}, picked
    assert picked["id"] == manager["id"]
