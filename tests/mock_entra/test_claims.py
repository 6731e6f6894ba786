"""Claims as Entra issues them, driven by MSAL Python through the in-process mock: consent
kept per user, app and resource (the returned `scope`, `/.default`, incremental and admin
consent), app roles per app, `groupMembershipClaims` and the groups overage followed to Graph,
v1.0 and v2.0 API tokens validated with PyJWT as an API would, optional claims, and the
`claims` parameter (client capabilities, malformed JSON). See docs/claims.md."""

from __future__ import annotations

import dataclasses
import html
import re
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import jwt
import msal
import pytest
import requests

from mock_entra.core.config import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_API_URI,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_CONFIG,
    DEFAULT_GROUP_ALL_ID,
    DEFAULT_GROUP_RETAIL_ID,
    DEFAULT_GROUP_SALES_ID,
    DEFAULT_REDIRECT_URI,
    GRAPH_RESOURCE,
    AppRegistration,
    MockConfig,
    OptionalClaims,
    TestUser,
)
from mock_entra.intercept import LOGIN_HOST, MockEntraInterceptor
from mock_entra.pytest_plugin import copy_keys

from .client_kinds import intercepting
from .conftest import ADELE, CLIENT_ID, TENANT, claims_of
from .token_form import code_form

AUTHORITY = f"https://{LOGIN_HOST}/{TENANT}"
GRAPH = "https://graph.microsoft.com/v1.0"
ADELE_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
API_V1_ID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c51"
API_V1_URI = "api://entra-lab-tasks"
ADMIN_APP_ID = "4d5e6f70-8192-4a3b-9c4d-5e6f7a8b9c61"
GREG = ("greg@contoso.onmicrosoft.com", "Passw0rd!3")
GREG_ID = "0c0ffee0-1234-4abc-9def-0123456789ab"
MANY_GROUPS = tuple(str(uuid.uuid5(uuid.NAMESPACE_OID, f"group-{i}")) for i in range(250))


def claims_config() -> MockConfig:
    tenant = DEFAULT_CONFIG.default_tenant
    client, api = tenant.apps
    client = dataclasses.replace(
        client,
        app_roles=("Reader",),
        group_membership_claims="SecurityGroup",
        required_resource_access={GRAPH_RESOURCE: ("User.Read", "Mail.Read")},
        optional_claims=OptionalClaims(id_token=("upn", "login_hint", "family_name")),
    )
    api_v1 = AppRegistration(
        client_id=API_V1_ID,
        display_name="entra-lab tasks API",
        app_id_uri=API_V1_URI,
        exposed_scopes=("Tasks.Read", "Tasks.Write"),
        app_roles=("Tasks.Admin",),
        group_membership_claims="All",
        optional_claims=OptionalClaims(access_token=("email", "xms_pl", "login_hint")),
    )
    admin_app = AppRegistration(
        client_id=ADMIN_APP_ID,
        display_name="admin-consented app",
        client_secrets=(DEFAULT_CLIENT_SECRET,),
        redirect_uris=(DEFAULT_REDIRECT_URI,),
        required_resource_access={GRAPH_RESOURCE: ("User.Read", "Mail.Read")},
        admin_consent_granted=True,
        group_membership_claims="ApplicationGroup",
        assigned_groups=(DEFAULT_GROUP_ALL_ID,),
    )
    adele = dataclasses.replace(
        tenant.users[0], roles=("Reader", "Forecast.Read.All", "Tasks.Admin")
    )
    greg = TestUser(
        username=GREG[0], password=GREG[1], display_name="Greg Winston", object_id=GREG_ID,
        groups=MANY_GROUPS,
    )  # fmt: skip
    tenant = dataclasses.replace(
        tenant,
        users=(adele, *tenant.users[1:], greg),
        apps=(client, api, api_v1, admin_app),
    )
    return dataclasses.replace(DEFAULT_CONFIG, tenants=(tenant,))


@pytest.fixture(scope="module")
def mock(tmp_path_factory, key_template) -> Iterator[MockEntraInterceptor]:
    yield from intercepting(tmp_path_factory.mktemp("claims"), key_template, claims_config())


@pytest.fixture(autouse=True)
def _fresh(mock: MockEntraInterceptor) -> None:
    mock.reset()  # no consent, no session: each test starts as a new tenant would


def web_app(client_id: str = CLIENT_ID, **kwargs) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id, authority=AUTHORITY, client_credential=DEFAULT_CLIENT_SECRET, **kwargs
    )


_CTX = re.compile(r'name="ctx" value="([^"]+)"')
_PERMS = re.compile(r'<ul class="perms">(.*?)</ul>', re.S)


def sign_in(
    mock: MockEntraInterceptor, auth_uri: str, user=ADELE, pages: list[str] | None = None
) -> tuple[dict, list[str]]:
    """Walk the sign-in pages as a browser would; return what comes back to the app and the
    permissions the consent page listed ([] when no consent page was shown). `pages` collects
    the consent pages' HTML."""
    parts = urlsplit(auth_uri)
    client = mock.app.test_client()
    base = f"https://{parts.netloc}"
    page = client.get(parts.path, base_url=base, query_string=parts.query)
    tenant = parts.path.strip("/").split("/")[0]
    shown: list[str] = []
    steps = {"username": {"loginfmt": user[0]}, "password": {"passwd": user[1]}}
    steps |= {"kmsi": {"choice": "no"}, "consent": {"choice": "accept"}}
    while page.status_code == 200:
        text = page.get_data(as_text=True)
        step = re.search(r'name="step" value="(\w+)"', text)
        assert step is not None and step.group(1) in steps, text[:400]
        if step.group(1) == "consent":
            if pages is not None:
                pages.append(text)
            items = re.findall(r'<li data-scope="([^"]+)"', _PERMS.search(text).group(1))
            shown = [html.unescape(i) for i in items if i != "offline_access"]
        form = {"ctx": _CTX.search(text).group(1), "step": step.group(1), **steps[step.group(1)]}
        page = client.post(f"/{tenant}/login", base_url=base, data=form)
    assert page.status_code == 302, page.get_data()[:400]
    query = parse_qs(urlsplit(page.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}, shown


def login(mock, app, scopes: list[str], user=ADELE, **kwargs) -> tuple[dict, list[str]]:
    """MSAL's auth-code flow; returns MSAL's result and what the consent page listed."""
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=DEFAULT_REDIRECT_URI, **kwargs)
    answer, shown = sign_in(mock, flow["auth_uri"], user)
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert "access_token" in result, result
    return result, shown


# -- consent and the returned scope ------------------------------------------------------------


def test_incremental_consent_asks_only_the_new_scope_and_returns_old_and_new(mock):
    app = web_app()
    first, shown = login(mock, app, ["User.Read"])
    assert shown == ["User.Read"]
    assert first["scope"] == "User.Read profile openid email"  # Entra's captured answer

    second, shown = login(mock, app, ["Mail.Read"])
    assert shown == ["Mail.Read"]  # only what is new
    assert second["scope"].split() == ["Mail.Read", "User.Read", "profile", "openid", "email"]
    assert claims_of(second["access_token"])["scp"] == "Mail.Read User.Read profile openid email"

    # A third sign-in for the first scope needs no consent page, and still carries both.
    third, shown = login(mock, app, ["User.Read"])
    assert shown == [] and set(third["scope"].split()) >= {"User.Read", "Mail.Read"}
    # MSAL's cache answers silently for either scope: both are in the returned string.
    account = app.get_accounts()[0]
    for scope in ("User.Read", "Mail.Read"):
        cached = app.acquire_token_silent([scope], account=account)
        assert cached and cached["token_source"] == "cache", cached


def test_default_scope_asks_for_the_registered_permissions(mock):
    result, shown = login(mock, web_app(), [f"{GRAPH_RESOURCE}/.default"])
    assert shown == ["User.Read", "Mail.Read"]  # required_resource_access for Graph
    scope = result["scope"].split()
    assert scope[:3] == [
        f"{GRAPH_RESOURCE}/.default",
        f"{GRAPH_RESOURCE}/User.Read",
        f"{GRAPH_RESOURCE}/Mail.Read",
    ]
    claims = claims_of(result["access_token"])
    assert claims["aud"] == GRAPH_RESOURCE and claims["scp"].startswith("User.Read Mail.Read")


def test_admin_consent_skips_the_page_and_grants_every_registered_permission(mock):
    result, shown = login(mock, web_app(ADMIN_APP_ID), ["User.Read"])
    assert shown == []
    assert result["scope"].split()[:2] == ["User.Read", "Mail.Read"]
    # A scope the admin did not consent to still asks the user.
    _, shown = login(mock, web_app(ADMIN_APP_ID), ["Calendars.Read"])
    assert shown == ["Calendars.Read"]


def _consent_lines(mock, scopes: list[str]) -> dict[str, str]:
    """The consent page's lines for these scopes: the words a user reads, by scope name."""
    flow = web_app().initiate_auth_code_flow(scopes, redirect_uri=DEFAULT_REDIRECT_URI)
    pages: list[str] = []
    sign_in(mock, flow["auth_uri"], pages=pages)
    items = re.findall(r'<li data-scope="([^"]+)">(.*?)</li>', _PERMS.search(pages[0]).group(1))
    return {name: html.unescape(re.sub(r"<[^>]+>", " ", body)) for name, body in items}


def test_the_consent_page_words_graph_permissions_as_graph_publishes_them(mock):
    """Entra's consent page shows each Graph permission's user consent display name (Learn,
    "consent-types-developer": User.Read is "Sign you in and read your profile"), with its
    description, not the permission's name."""
    lines = _consent_lines(mock, ["User.Read", "Mail.Send"])
    assert set(lines) == {"User.Read", "Mail.Send", "offline_access"}
    assert "Sign you in and read your profile" in lines["User.Read"]
    assert "let the app read your profile" in lines["User.Read"]  # the description
    assert "Send mail as you" in lines["Mail.Send"]
    assert "Maintain access to data you have given it access to" in lines["offline_access"]
    assert not [text for text in lines.values() if "User.Read" in text or "Mail.Send" in text]


def test_the_consent_page_names_a_configured_apis_scope(mock):
    # The config holds no consent text for an API's scopes: the page shows the scope's name.
    lines = _consent_lines(mock, [f"{DEFAULT_API_URI}/Forecast.Read"])
    assert lines["Forecast.Read"].strip() == "Forecast.Read"


# -- app roles per app -------------------------------------------------------------------------


def test_roles_go_only_into_the_tokens_of_the_app_that_defines_them(mock):
    app = web_app()
    result, _ = login(mock, app, [f"{DEFAULT_API_URI}/Forecast.Read"])
    assert result["id_token_claims"]["roles"] == ["Reader"]  # the client's own role only
    assert claims_of(result["access_token"])["roles"] == ["Forecast.Read.All"]  # the API's
    other, _ = login(mock, app, [f"{API_V1_URI}/Tasks.Read"])
    assert claims_of(other["access_token"])["roles"] == ["Tasks.Admin"]


# -- groups --------------------------------------------------------------------------------------


def test_group_membership_claims_select_the_groups(mock):
    # The client: SecurityGroup (transitive; "Sales and Marketing" is not a security group).
    result, _ = login(mock, web_app(), [f"{API_V1_URI}/Tasks.Read"])
    assert result["id_token_claims"]["groups"] == [DEFAULT_GROUP_RETAIL_ID, DEFAULT_GROUP_ALL_ID]
    # The v1 API: All, with the group Retail is nested in.
    assert claims_of(result["access_token"])["groups"] == [
        DEFAULT_GROUP_RETAIL_ID,
        DEFAULT_GROUP_ALL_ID,
        DEFAULT_GROUP_SALES_ID,
    ]
    # ApplicationGroup: only the groups assigned to the app; Graph tokens: no groups.
    admin, _ = login(mock, web_app(ADMIN_APP_ID), ["User.Read"])
    assert admin["id_token_claims"]["groups"] == [DEFAULT_GROUP_ALL_ID]
    assert "groups" not in claims_of(admin["access_token"])


def test_the_default_config_sends_no_groups_unless_the_app_asks(tmp_path, key_template):
    with interceptor_for(DEFAULT_CONFIG, tmp_path, key_template) as mock:
        result, _ = login(mock, web_app(), ["User.Read"])
        assert "groups" not in result["id_token_claims"]
        assert "roles" not in result["id_token_claims"]


def interceptor_for(config, root, key_template):

    from mock_entra.core.clock import FixedClock

    state = copy_keys(key_template, root / "state")
    return MockEntraInterceptor(config, state_dir=state, clock=FixedClock())


def test_over_200_groups_sends_the_overage_claim_and_graph_answers_it(mock):
    result, _ = login(mock, web_app(), ["User.Read"], user=GREG)
    id_claims = result["id_token_claims"]
    assert "groups" not in id_claims
    assert id_claims["_claim_names"] == {"groups": "src1"}
    endpoint = id_claims["_claim_sources"]["src1"]["endpoint"]
    # The Azure AD Graph URL Entra sends (Learn, access token claims reference, groups
    # overage claim); Learn tells apps to call Microsoft Graph for the user themselves.
    assert endpoint == f"https://graph.windows.net/{TENANT}/users/{GREG_ID}/getMemberObjects"
    answer = requests.post(
        f"{GRAPH}/users/{id_claims['oid']}/getMemberObjects",
        json={"securityEnabledOnly": False},
        headers={"Authorization": f"Bearer {result['access_token']}"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["value"]) == sorted(MANY_GROUPS)


# -- API tokens: v1.0 and v2.0 -------------------------------------------------------------------


def validate_as_an_api(token: str, *, audience: str, issuer: str) -> dict:
    """What a Flask API does with a bearer token: the key from the tenant's JWKS, RS256,
    audience and issuer checked (Learn, "Access tokens", validating tokens)."""
    keys = requests.get(f"{AUTHORITY}/discovery/v2.0/keys", timeout=5).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in keys["keys"] if k["kid"] == kid))
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer)


def test_an_api_without_accepted_version_gets_v1_tokens(mock):
    result, _ = login(mock, web_app(), [f"{API_V1_URI}/Tasks.Read"])
    token = result["access_token"]
    claims = validate_as_an_api(
        token, audience=API_V1_URI, issuer=f"https://sts.windows.net/{TENANT}/"
    )
    assert claims["ver"] == "1.0" and claims["appid"] == CLIENT_ID and claims["appidacr"] == "1"
    assert claims["upn"] == claims["unique_name"] == ADELE[0]
    assert "azp" not in claims and claims["scp"] == "Tasks.Read"
    # Validated the v2.0 way, it fails: the code written against a v2-only mock breaks here.
    with pytest.raises(jwt.InvalidTokenError):
        validate_as_an_api(token, audience=API_V1_ID, issuer=f"https://{LOGIN_HOST}/{TENANT}/v2.0")


def test_an_api_accepting_version_2_gets_v2_tokens(mock):
    result, _ = login(mock, web_app(), [f"{DEFAULT_API_URI}/Forecast.Read"])
    claims = validate_as_an_api(
        result["access_token"],
        audience=DEFAULT_API_CLIENT_ID,
        issuer=f"https://{LOGIN_HOST}/{TENANT}/v2.0",
    )
    assert claims["ver"] == "2.0" and claims["azp"] == CLIENT_ID and claims["azpacr"] == "1"
    assert "appid" not in claims and "upn" not in claims
    assert result["scope"] == f"{DEFAULT_API_URI}/Forecast.Read profile openid email"


def test_app_only_tokens_follow_the_apis_version(mock):
    app = web_app()
    v1 = claims_of(app.acquire_token_for_client([f"{API_V1_URI}/.default"])["access_token"])
    assert v1["ver"] == "1.0" and v1["aud"] == API_V1_URI
    assert v1["iss"] == f"https://sts.windows.net/{TENANT}/"
    v2 = claims_of(app.acquire_token_for_client([f"{DEFAULT_API_URI}/.default"])["access_token"])
    assert v2["ver"] == "2.0" and v2["aud"] == DEFAULT_API_CLIENT_ID


# -- optional claims and the claims parameter ----------------------------------------------------


def test_optional_claims_per_app_and_token_type(mock):
    result, _ = login(mock, web_app(), [f"{API_V1_URI}/Tasks.Read"])
    id_claims = result["id_token_claims"]
    assert id_claims["upn"] == ADELE[0] and id_claims["family_name"] == "Vance"
    assert id_claims["login_hint"] and "email" not in id_claims  # no `email` scope asked
    access = claims_of(result["access_token"])
    assert access["email"] == "adele@contoso.onmicrosoft.com" and access["xms_pl"] == "en-US"
    assert access["login_hint"] == id_claims["login_hint"]  # stable per user
    plain, _ = login(mock, web_app(), [f"{DEFAULT_API_URI}/Forecast.Read"])
    assert "email" not in claims_of(plain["access_token"])  # the v2 API asks for none


def test_client_capabilities_reach_the_access_token_as_xms_cc(mock):
    app = web_app(client_capabilities=["CP1"])
    result, _ = login(mock, app, ["User.Read"])
    assert claims_of(result["access_token"])["xms_cc"] == ["CP1"]
    assert "xms_cc" not in claims_of(login(mock, web_app(), ["User.Read"])[0]["access_token"])
    # The other grants carry it too: refresh (MSAL's silent call), username/password.
    account = app.get_accounts()[0]
    refreshed = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert claims_of(refreshed["access_token"])["xms_cc"] == ["CP1"]
    ropc = app.acquire_token_by_username_password(*ADELE, scopes=["User.Read"])
    assert claims_of(ropc["access_token"])["xms_cc"] == ["CP1"], ropc


DEEP = 1500  # past the JSON decoder's recursion limit (a RecursionError: a 500 before), 3 KB


@pytest.mark.parametrize(
    "claims",
    [
        "{not json",
        "[1, 2]",
        '{"access_token": 5}',
        '{"access_token": {"xms_cc": {"values": ' + "[" * DEEP + "]" * DEEP + "}}}",
        '{"access_token": {"xms_cc": {"values": ' + "[" * 40 + "]" * 40 + "}}}",
        '{"access_token": {"xms_cc": {"value": NaN}}}',
    ],
    ids=["not-json", "array", "not-an-object", "1500-deep", "40-deep", "NaN"],
)
def test_a_malformed_claims_parameter_is_aadsts50117(mock, claims):
    app = web_app()
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=DEFAULT_REDIRECT_URI)
    answer, _ = sign_in(mock, flow["auth_uri"])
    response = requests.post(
        f"{AUTHORITY}/oauth2/v2.0/token",
        data=code_form(answer["code"], verifier=flow["code_verifier"], claims=claims),
        timeout=5,
    )
    body = response.json()
    assert response.status_code == 400 and body["error"] == "invalid_request", body
    assert body["error_codes"] == [50117]
    # At /authorize it goes back to the app, as Entra's other request errors do.
    location = mock.app.test_client().get(
        urlsplit(flow["auth_uri"]).path,
        base_url=f"https://{LOGIN_HOST}",
        query_string=urlsplit(flow["auth_uri"]).query + "&claims=" + requests.utils.quote(claims),
    )
    assert location.status_code == 302
    query = parse_qs(urlsplit(location.headers["Location"]).query)
    assert query["error"] == ["invalid_request"] and "AADSTS50117" in query["error_description"][0]


# -- the config fields -------------------------------------------------------------------------


def test_group_membership_claims_keeps_its_old_true_false_form_and_checks_the_names():
    from mock_entra.core.config import ConfigError, config_from_dict, config_to_dict

    raw = config_to_dict(DEFAULT_CONFIG)
    apps = raw["tenants"][0]["apps"]
    apps[0]["group_membership_claims"] = True
    apps[1]["group_membership_claims"] = "SecurityGroup"
    apps[1]["optional_claims"] = {"access_token": ["email", "xms_pdl"]}
    config = config_from_dict(raw)
    client, api = config.default_tenant.apps
    assert client.group_claims == "All" and api.group_claims == "SecurityGroup"
    assert api.optional_claims.access_token == ("email", "xms_pdl")
    apps[1]["group_membership_claims"] = "Everything"
    apps[1]["optional_claims"] = {"id_token": ["shoe_size"]}
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw)
    paths = [path for path, _ in caught.value.problems]
    assert any("group_membership_claims" in p for p in paths), paths
    assert any("optional_claims" in p for p in paths), paths


def test_every_graph_permission_the_mock_knows_has_its_consent_text():
    from mock_entra.core.config import GRAPH_DELEGATED_SCOPES
    from mock_entra.core.signin.permission_text import GRAPH_USER_CONSENT

    assert set(GRAPH_USER_CONSENT) >= GRAPH_DELEGATED_SCOPES
