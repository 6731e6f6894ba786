"""The fake Graph's directory calls over plain `requests` (the in-process interceptor answers
`https://graph.microsoft.com`): users with paging, `$filter`, `$count`, `$select`,
`$expand=manager`, memberships, `getMemberObjects`, the photo, permissions per call, and
Graph's error bodies, statuses and headers. Tokens come from MSAL."""

from __future__ import annotations

import dataclasses
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import msal
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_entra.core.clock import FixedClock
from mock_entra.core.config import (
    DEFAULT_CLIENT_SECRET,
    DEFAULT_CONFIG,
    DEFAULT_GROUP_ALL_ID,
    DEFAULT_GROUP_RETAIL_ID,
    DEFAULT_GROUP_SALES_ID,
    DEFAULT_MEGAN_ID,
    DEFAULT_REDIRECT_URI,
    MockConfig,
)
from mock_entra.intercept import MockEntraInterceptor
from mock_entra.pytest_plugin import copy_keys
from tests.hypothesis_profiles import examples

from .conftest import ADELE, CLIENT_ID, TENANT
from .test_graph import USER_DEFAULT_PROPERTIES

GRAPH = "https://graph.microsoft.com/v1.0"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"
ADELE_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
EVENTUAL = {"ConsistencyLevel": "eventual"}
ADVANCED_MESSAGE = (
    "Operator '{op}' is not supported because the required parameters might be missing. Try "
    "adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to "
    "https://aka.ms/graph-docs/advanced-queries for more information"
)


def start_interceptor(config: MockConfig, root: Path, key_template: Path) -> MockEntraInterceptor:

    state = copy_keys(key_template, root / "state")
    return MockEntraInterceptor(config, state_dir=state, clock=FixedClock()).start()


@pytest.fixture(scope="module")
def mock(tmp_path_factory, key_template) -> Iterator[MockEntraInterceptor]:
    interceptor = start_interceptor(DEFAULT_CONFIG, tmp_path_factory.mktemp("g"), key_template)
    yield interceptor
    interceptor.stop()


def msal_app() -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        CLIENT_ID, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET
    )


def user_token(mock: MockEntraInterceptor, scopes: list[str], user=ADELE) -> str:
    # A token with only these permissions: Entra's token carries every scope the user consented
    # to for Graph before, so each starts from no consent.
    mock.reset()
    app = msal_app()
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=DEFAULT_REDIRECT_URI)
    result = app.acquire_token_by_auth_code_flow(flow, mock.sign_in(flow["auth_uri"], *user))
    assert "access_token" in result, result
    return result["access_token"]


@pytest.fixture(scope="module")
def tokens(mock: MockEntraInterceptor) -> dict[str, str]:
    """One token per permission the tests need, acquired once."""
    app = msal_app().acquire_token_for_client(["https://graph.microsoft.com/.default"])
    return {
        "app": app["access_token"],  # roles: User.Read.All
        "User.Read": user_token(mock, ["User.Read"]),
        "User.ReadBasic.All": user_token(mock, ["User.ReadBasic.All"]),
        "User.Read.All": user_token(mock, ["User.Read.All"]),
        "GroupMember.Read.All": user_token(mock, ["User.Read", "GroupMember.Read.All"]),
        "Mail.Read": user_token(mock, ["Mail.Read"]),
    }


def get(path: str, token: str, **headers: str) -> requests.Response:
    return requests.get(
        path if path.startswith("https://") else f"{GRAPH}{path}",
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=5,
    )


def post(path: str, token: str, json: object = None, data: bytes | None = None):
    return requests.post(
        f"{GRAPH}{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=json,
        data=data,
        timeout=5,
    )


def graph_error(response: requests.Response, status: int, code: str, message: str | None = None):
    """Graph's error body, and the headers Graph sends with it."""
    body = response.json()
    assert response.status_code == status, body
    assert body["error"]["code"] == code, body
    if message is not None:
        assert body["error"]["message"] == message
    inner = body["error"]["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}
    assert response.headers["request-id"] == inner["request-id"]
    assert response.headers["client-request-id"] == inner["client-request-id"]
    return body


# --- GET /users: paging, $filter, $count -----------------------------------------------------


def test_list_users_pages_with_a_skiptoken_next_link(mock, tokens):
    first = get("/users?$top=1", tokens["app"])
    assert first.status_code == 200, first.text
    body = first.json()
    assert list(body) == ["@odata.context", "@odata.nextLink", "value"]
    assert body["@odata.context"] == f"{GRAPH}/$metadata#users"
    assert body["@odata.nextLink"].startswith(f"{GRAPH}/users?$top=1&$skiptoken=")
    assert [u["displayName"] for u in body["value"]] == ["Adele Vance"]
    assert list(body["value"][0]) == USER_DEFAULT_PROPERTIES
    second = get(body["@odata.nextLink"], tokens["app"]).json()
    assert [u["displayName"] for u in second["value"]] == ["Megan Bowen"]
    assert "@odata.nextLink" not in second


def test_list_users_filters_with_eq_and_startswith(mock, tokens):
    def names(query: str) -> list[str]:
        response = get(f"/users?$filter={query}", tokens["app"])
        assert response.status_code == 200, response.text
        return [u["displayName"] for u in response.json()["value"]]

    assert names("startswith(displayName,'meg')") == ["Megan Bowen"]
    assert names("userPrincipalName eq 'ADELE@contoso.onmicrosoft.com'") == ["Adele Vance"]
    assert names("department eq 'Retail' and accountEnabled eq true") == ["Adele Vance"]
    assert names("givenName in ('Megan', 'Nobody')") == ["Megan Bowen"]
    assert names(f"id eq '{DEFAULT_MEGAN_ID}' or startswith(surname,'Va')") == [
        "Adele Vance",
        "Megan Bowen",
    ]
    assert names("proxyAddresses/any(p:startswith(p,'smtp:adele'))") == ["Adele Vance"]
    # Learn "List users", example 2: a sign-in name through identities/any
    assert names(
        "identities/any(c:c/issuerAssignedId eq 'megan@contoso.onmicrosoft.com' and "
        "c/issuer eq 'contoso.onmicrosoft.com')"
    ) == ["Megan Bowen"]


def test_filter_operators_that_need_advanced_query_parameters(mock, tokens):
    refused = get("/users?$filter=endswith(mail,'contoso.onmicrosoft.com')", tokens["app"])
    graph_error(refused, 400, "Request_UnsupportedQuery", ADVANCED_MESSAGE.format(op="endsWith"))
    # the header alone is not enough: $count=true too (Learn: advanced query parameters)
    graph_error(
        get("/users?$filter=accountEnabled ne false", tokens["app"], **EVENTUAL),
        400,
        "Request_UnsupportedQuery",
        ADVANCED_MESSAGE.format(op="ne"),
    )
    ok = get(
        "/users?$filter=endswith(mail,'contoso.onmicrosoft.com')&$count=true",
        tokens["app"],
        **EVENTUAL,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["@odata.count"] == 2
    assert list(ok.json())[:2] == ["@odata.context", "@odata.count"]


def test_filter_errors_as_graph_words_them(mock, tokens):
    graph_error(
        get("/users?$filter=aboutMe eq 'x'", tokens["app"]),
        400,
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'aboutMe' of "
        "resource 'User'.",
    )
    graph_error(
        get("/users?$filter=nickname eq 'x'", tokens["app"]),
        400,
        "Request_BadRequest",
        "Could not find a property named 'nickname' on type 'microsoft.graph.user'.",
    )
    graph_error(
        get("/users?$filter=displayName eq", tokens["app"]),
        400,
        "BadRequest",
        "Invalid filter clause: Syntax error at position 14 in 'displayName eq'.",
    )


def test_a_deeply_nested_filter_is_graphs_400_not_a_500(mock, tokens):
    """340 parentheses overflowed the recursive parser: a 500 and a 135 KB traceback a
    request. Graph's parser (OData) has a recursion limit; past the mock's, the same 400."""
    deep = "(" * 340 + "displayName eq 'x'" + ")" * 340
    graph_error(
        get(f"/users?$filter={deep}", tokens["app"]),
        400,
        "BadRequest",
        "Invalid filter clause: Recursion depth exceeded allowed limit.",
    )
    nots = "not " * 340 + "accountEnabled eq true"
    assert get(f"/users?$filter={nots}&$count=true", tokens["app"], **EVENTUAL).status_code == 400
    nested = "(" * 60 + "startswith(displayName,'Adele')" + ")" * 60  # within the limit
    found = get(f"/users?$filter={nested}", tokens["app"])
    assert found.status_code == 200 and [u["displayName"] for u in found.json()["value"]] == [
        "Adele Vance"
    ]


def test_count_needs_consistency_level_eventual(mock, tokens):
    # ?$count=true without the header is silently ignored; /$count is an error
    ignored = get("/users?$count=true", tokens["app"]).json()
    assert "@odata.count" not in ignored and len(ignored["value"]) == 2
    graph_error(
        get("/users/$count", tokens["app"]),
        400,
        "Request_BadRequest",
        "$count is not currently supported.",
    )
    counted = get("/users/$count", tokens["app"], **EVENTUAL)
    assert counted.status_code == 200 and counted.text == "2"
    assert counted.headers["Content-Type"].startswith("text/plain")
    assert get("/users?$count=true", tokens["app"], **EVENTUAL).json()["@odata.count"] == 2


def test_query_options_graph_refuses(mock, tokens):
    graph_error(
        get("/users?$top=1000", tokens["app"]),
        400,
        "Request_UnsupportedQuery",
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    )
    graph_error(get("/users?$top=0", tokens["app"]), 400, "Request_UnsupportedQuery")
    graph_error(
        get("/users?$top=ten", tokens["app"]),
        400,
        "BadRequest",
        "Invalid value 'ten' for $top query option found. The $top query option requires a "
        "non-negative integer value.",
    )
    graph_error(
        get("/users?$skip=1", tokens["app"]),
        400,
        "Request_BadRequest",
        "'$skip' is not supported by the service.",
    )
    graph_error(
        get("/users?$foo=1", tokens["app"]),
        400,
        "BadRequest",
        "The query parameter '$foo' is not supported.",
    )
    graph_error(
        get('/users?$search="displayName:meg"', tokens["app"]),
        400,
        "Request_UnsupportedQuery",
        "Request with $search query parameter only works through MSGraph with a special "
        "request header: 'ConsistencyLevel: eventual'",
    )
    found = get('/users?$search="displayName:meg"', tokens["app"], **EVENTUAL).json()
    assert [u["displayName"] for u in found["value"]] == ["Megan Bowen"]
    graph_error(
        get("/users?$filter=startswith(displayName,'a')&$orderby=displayName", tokens["app"]),
        400,
        "Request_UnsupportedQuery",
        "Sorting not supported for current query.",
    )
    desc = get("/users?$orderby=displayName desc", tokens["app"]).json()
    assert [u["displayName"] for u in desc["value"]] == ["Megan Bowen", "Adele Vance"]


# --- $select: Graph's ordinary user properties -----------------------------------------------


def test_select_accepts_graphs_ordinary_user_properties(mock, tokens):
    names = (
        "displayName,postalCode,employeeId,createdDateTime,otherMails,proxyAddresses,"
        "identities,onPremisesSamAccountName,department,companyName,city,country,state,"
        "streetAddress,accountEnabled,userType,faxNumber,mailNickname,securityIdentifier"
    )
    response = get(f"/me?$select={names}", tokens["User.Read"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"] == f"{GRAPH}/$metadata#users({names})/$entity"
    assert list(body)[1:] == names.split(",")
    assert body["postalCode"] == "98052" and body["employeeId"] == "1001"
    assert body["createdDateTime"] == "2024-01-15T09:30:00Z"
    assert body["proxyAddresses"] == ["SMTP:adele@contoso.onmicrosoft.com"]
    assert body["identities"] == [
        {
            "signInType": "userPrincipalName",
            "issuer": "contoso.onmicrosoft.com",
            "issuerAssignedId": "adele@contoso.onmicrosoft.com",
        }
    ]
    assert body["onPremisesSamAccountName"] == "adelev"
    assert body["accountEnabled"] is True and body["userType"] == "Member"
    assert body["faxNumber"] is None and body["otherMails"] == []  # unset: null, or []
    assert body["mailNickname"] == "adele"
    assert body["securityIdentifier"].startswith("S-1-12-1-")


# --- manager ---------------------------------------------------------------------------------


def test_expand_manager_on_me_and_on_users(mock, tokens):
    me = get("/me?$select=displayName&$expand=manager", tokens["User.Read.All"])
    assert me.status_code == 200, me.text
    manager = me.json()["manager"]
    assert manager["@odata.type"] == "#microsoft.graph.user"
    assert manager["id"] == DEFAULT_MEGAN_ID and manager["displayName"] == "Megan Bowen"
    nested = get(f"/users/{ADELE_ID}?$expand=manager($select=id,displayName)", tokens["app"]).json()
    assert nested["manager"] == {
        "@odata.type": "#microsoft.graph.user",
        "id": DEFAULT_MEGAN_ID,
        "displayName": "Megan Bowen",
    }
    listed = get("/users?$select=displayName&$expand=manager($select=displayName)", tokens["app"])
    assert [(u["displayName"], u["manager"]) for u in listed.json()["value"]] == [
        ("Adele Vance", {"@odata.type": "#microsoft.graph.user", "displayName": "Megan Bowen"}),
        ("Megan Bowen", None),
    ]
    graph_error(
        get("/me?$expand=nope", tokens["User.Read.All"]),
        400,
        "Request_BadRequest",
        "Could not find a property named 'nope' on type 'microsoft.graph.user'.",
    )


def test_manager_and_graphs_404_when_there_is_none(mock, tokens):
    response = get("/me/manager", tokens["User.Read.All"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"] == f"{GRAPH}/$metadata#directoryObjects/$entity"
    assert body["@odata.type"] == "#microsoft.graph.user" and body["id"] == DEFAULT_MEGAN_ID
    graph_error(
        get(f"/users/{DEFAULT_MEGAN_ID}/manager", tokens["app"]),
        404,
        "Request_ResourceNotFound",
        "Resource 'manager' does not exist or one of its queried reference-property objects "
        "are not present.",
    )
    # Learn "List manager": User.Read.All is the least privileged permission
    graph_error(get("/me/manager", tokens["User.Read"]), 403, "Authorization_RequestDenied")


# --- memberships -----------------------------------------------------------------------------


def test_member_of_and_transitive_member_of(mock, tokens):
    direct = get("/me/memberOf", tokens["User.Read"])
    assert direct.status_code == 200, direct.text
    body = direct.json()
    assert body["@odata.context"] == f"{GRAPH}/$metadata#directoryObjects"
    assert [g["@odata.type"] for g in body["value"]] == ["#microsoft.graph.group"] * 2
    assert [(g["id"], g["displayName"], g["securityEnabled"]) for g in body["value"]] == [
        (DEFAULT_GROUP_RETAIL_ID, "Retail", True),
        (DEFAULT_GROUP_ALL_ID, "All Company", True),
    ]
    transitive = get("/me/transitiveMemberOf?$select=id,displayName", tokens["User.Read"])
    assert transitive.json()["@odata.context"] == (
        f"{GRAPH}/$metadata#directoryObjects(id,displayName)"
    )
    assert [g["displayName"] for g in transitive.json()["value"]] == [
        "Retail",
        "All Company",
        "Sales and Marketing",  # Retail is nested in it
    ]
    count = get("/me/transitiveMemberOf/$count", tokens["User.Read"], **EVENTUAL)
    assert count.text == "3"
    by_id = get(f"/users/{ADELE_ID}/memberOf", tokens["User.Read"])  # herself: User.Read
    assert by_id.status_code == 200


def test_member_of_with_limited_information_without_a_group_permission(mock, tokens):
    # Learn: an app that may not read groups gets them with @odata.type and id only
    limited = get(f"/users/{ADELE_ID}/memberOf", tokens["app"]).json()["value"]
    assert [(g["id"], g["displayName"]) for g in limited] == [
        (DEFAULT_GROUP_RETAIL_ID, None),
        (DEFAULT_GROUP_ALL_ID, None),
    ]
    full = get(f"/users/{ADELE_ID}/memberOf", tokens["GroupMember.Read.All"]).json()["value"]
    assert [g["displayName"] for g in full] == ["Retail", "All Company"]
    graph_error(
        get(f"/users/{DEFAULT_MEGAN_ID}/memberOf", tokens["User.Read"]),
        403,
        "Authorization_RequestDenied",
    )


def test_get_member_objects_is_transitive_and_honours_security_enabled_only(mock, tokens):
    every = post("/me/getMemberObjects", tokens["User.Read"], {"securityEnabledOnly": False})
    assert every.status_code == 200, every.text
    assert every.json() == {
        "@odata.context": f"{GRAPH}/$metadata#Collection(Edm.String)",
        "value": [DEFAULT_GROUP_RETAIL_ID, DEFAULT_GROUP_ALL_ID, DEFAULT_GROUP_SALES_ID],
    }
    security = post(
        f"/users/{ADELE_ID}/getMemberObjects", tokens["app"], {"securityEnabledOnly": True}
    )
    assert security.json()["value"] == [DEFAULT_GROUP_RETAIL_ID, DEFAULT_GROUP_ALL_ID]
    graph_error(
        post("/me/getMemberObjects", tokens["User.Read"], data=b""),
        400,
        "BadRequest",
        "Empty Payload. JSON content expected.",
    )
    graph_error(
        post("/me/getMemberObjects", tokens["Mail.Read"], {"securityEnabledOnly": True}),
        403,
        "Authorization_RequestDenied",
    )
    graph_error(get("/me/getMemberObjects", tokens["User.Read"]), 405, "Request_BadRequest")
    # A body nested past the JSON decoder's recursion limit was a 500; now Graph's 400.
    for body in (
        b"[" * 1500 + b"]" * 1500,
        b'{"securityEnabledOnly": ' + b"[" * 40 + b"]" * 40 + b"}",
    ):
        graph_error(
            post("/me/getMemberObjects", tokens["User.Read"], data=body),
            400,
            "BadRequest",
            "Invalid JSON. A token was not recognized in the JSON content.",
        )


def test_overage_claim_source_lists_every_group(tmp_path, key_template):
    """A user in 250 groups: the app follows the overage `_claim_sources` endpoint
    (`getMemberObjects`) and gets all of them, as Microsoft.Identity.Web does."""
    many = tuple(str(uuid.uuid5(uuid.NAMESPACE_DNS, f"group{i}")) for i in range(250))
    tenant = DEFAULT_CONFIG.default_tenant
    users = tuple(
        dataclasses.replace(u, groups=many) if u.username == ADELE[0] else u for u in tenant.users
    )
    config = dataclasses.replace(
        DEFAULT_CONFIG, tenants=(dataclasses.replace(tenant, users=users),)
    )
    interceptor = start_interceptor(config, tmp_path, key_template)
    try:
        token = user_token(interceptor, ["User.Read"])
        response = post(f"/users/{ADELE_ID}/getMemberObjects", token, {"securityEnabledOnly": True})
        assert response.status_code == 200, response.text
        assert response.json()["value"] == list(many)
        page = get("/me/memberOf?$top=100", token).json()
        assert len(page["value"]) == 100 and "$skiptoken=" in page["@odata.nextLink"]
    finally:
        interceptor.stop()


# --- photo -----------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    pixels = zlib.decompress(data[idat + 4 : idat + 4 + length])
    assert len(pixels) == height * (1 + 3 * width)  # one filter byte + RGB per row
    return width, height


def test_photo_value_is_an_image_and_userinfo_points_at_it(mock, tokens):
    response = get("/me/photo/$value", tokens["User.Read"])
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    assert png_size(response.content) == (96, 96)
    meta = get("/me/photo", tokens["User.Read"]).json()
    assert (meta["height"], meta["width"], meta["@odata.mediaContentType"]) == (
        96,
        96,
        "image/png",
    )
    assert meta["@odata.id"].endswith(f"/users('{ADELE_ID}@{TENANT}')/photo")
    app = msal_app()
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=DEFAULT_REDIRECT_URI)
    access = app.acquire_token_by_auth_code_flow(flow, mock.sign_in(flow["auth_uri"], *ADELE))
    info = requests.get(
        "https://graph.microsoft.com/oidc/userinfo",
        headers={"Authorization": f"Bearer {access['access_token']}"},
        timeout=5,
    ).json()
    picture = get(info["picture"], access["access_token"])
    assert picture.status_code == 200 and picture.content == response.content


def test_a_user_without_a_photo_is_graphs_image_not_found(mock, tokens):
    graph_error(
        get(f"/users/{DEFAULT_MEGAN_ID}/photo/$value", tokens["app"]),
        404,
        "ImageNotFound",
        "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' "
        "was thrown.",
    )


# --- permissions per call --------------------------------------------------------------------


def test_list_users_needs_a_directory_permission(mock, tokens):
    graph_error(
        get("/users", tokens["User.Read"]),
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
    graph_error(get("/users", tokens["Mail.Read"]), 403, "Authorization_RequestDenied")
    assert get("/users", tokens["User.Read.All"]).status_code == 200


def test_user_read_basic_all_reads_only_the_basic_profile_of_others(mock, tokens):
    response = get(
        f"/users/{DEFAULT_MEGAN_ID}?$select=displayName,mail,jobTitle,department,otherMails",
        tokens["User.ReadBasic.All"],
    )
    assert response.status_code == 200, response.text
    assert response.json() | {"@odata.context": None} == {
        "@odata.context": None,
        "displayName": "Megan Bowen",
        "mail": "megan@contoso.onmicrosoft.com",
        "jobTitle": None,
        "department": None,
        "otherMails": [],
    }
    full = get(f"/users/{DEFAULT_MEGAN_ID}?$select=jobTitle", tokens["User.Read.All"])
    assert full.json()["jobTitle"] == "Marketing Manager"
    mine = get("/me?$select=jobTitle", tokens["User.ReadBasic.All"])  # one's own: all of it
    assert mine.json()["jobTitle"] == "Retail Manager"


def test_application_permission_user_read_basic_all(tmp_path, key_template):
    """A daemon granted User.ReadBasic.All (an application permission since 2024) lists users
    with the basic profile only, and may not read managers."""
    tenant = DEFAULT_CONFIG.default_tenant
    sample = dataclasses.replace(
        tenant.apps[0],
        application_permissions={"https://graph.microsoft.com": ("User.ReadBasic.All",)},
    )
    apps = (sample, *tenant.apps[1:])
    config = dataclasses.replace(DEFAULT_CONFIG, tenants=(dataclasses.replace(tenant, apps=apps),))
    interceptor = start_interceptor(config, tmp_path, key_template)
    try:
        token = msal_app().acquire_token_for_client(["https://graph.microsoft.com/.default"])
        listed = get("/users?$select=displayName,jobTitle", token["access_token"])
        assert listed.status_code == 200, listed.text
        assert [(u["displayName"], u["jobTitle"]) for u in listed.json()["value"]] == [
            ("Adele Vance", None),
            ("Megan Bowen", None),
        ]
        graph_error(
            get(f"/users/{ADELE_ID}/manager", token["access_token"]),
            403,
            "Authorization_RequestDenied",
        )
    finally:
        interceptor.stop()


# --- Graph's errors and headers --------------------------------------------------------------


def test_unknown_segments_are_graphs_400_naming_the_segment(mock, tokens):
    for path, segment in (
        ("/foo", "foo"),
        ("/me/bar", "bar"),
        (f"/users/{ADELE_ID}/drive2", "drive2"),
        ("/me/photo/raw", "raw"),
    ):
        graph_error(
            get(path, tokens["User.Read"]),
            400,
            "BadRequest",
            f"Resource not found for the segment '{segment}'.",
        )
    graph_error(
        post("/me", tokens["User.Read"], {}),
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )


def test_every_graph_response_carries_graphs_headers(mock, tokens):
    ok = get("/me", tokens["User.Read"], **{"client-request-id": "5f0c6f6e-4c1a-4b8e-9b1e-0e7d"})
    error = get("/nothing", tokens["User.Read"])
    unauthenticated = requests.get(f"{GRAPH}/me", timeout=5)
    for response in (ok, error, unauthenticated):
        assert uuid.UUID(response.headers["request-id"])
        assert response.headers["OData-Version"] == "4.0"
        assert response.headers["Content-Type"].startswith("application/json;odata.metadata=")
        assert "ServerInfo" in response.headers["x-ms-ags-diagnostic"]
    assert ok.headers["client-request-id"] == "5f0c6f6e-4c1a-4b8e-9b1e-0e7d"
    assert error.headers["client-request-id"] == error.headers["request-id"]
    assert unauthenticated.status_code == 401


# --- no 500s ---------------------------------------------------------------------------------

OPTION = st.sampled_from(
    ["$filter", "$select", "$top", "$expand", "$search", "$orderby", "$skiptoken", "$count"]
)
FILTER_WORDS = st.sampled_from(
    [
        "displayName",
        "eq",
        "ne",
        "and",
        "or",
        "not",
        "(",
        ")",
        ",",
        "'a'",
        "''",
        "startswith",
        "endswith",
        "any",
        "/",
        ":",
        "x",
        "null",
        "true",
        "1",
        "in",
        "identities",
        "c/issuer",
    ]
)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    option=OPTION,
    value=st.one_of(st.text(max_size=40), st.lists(FILTER_WORDS, max_size=12).map(" ".join)),
    path=st.sampled_from(["/users", "/me", "/me/memberOf", f"/users/{ADELE_ID}"]),
)
def test_query_options_never_make_a_500(mock, tokens, option, value, path):
    response = mock.app.test_client().get(
        f"/v1.0{path}",
        base_url="https://graph.microsoft.com",
        query_string={option: value},
        headers={"Authorization": f"Bearer {tokens['User.Read.All']}", **EVENTUAL},
    )
    assert response.status_code < 500, response.get_data()[:300]
    if response.status_code >= 400:
        assert set(response.get_json()["error"]) == {"code", "message", "innerError"}
