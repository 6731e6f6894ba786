"""MSAL Python itself against the live HTTPS mock, the sign-in pages driven in Chromium through
Entra's element ids: the whole auth-code flow, refresh, Graph, client credentials, and the
errors, each on its AADSTS code and the HTTP status the mock answered with."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import msal
import pytest
from playwright.sync_api import Browser, Page

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import DEFAULT_CONFIG, with_redirect_uris

from .conftest import ADELE, MEGAN, b64json
from .redirect_catcher import shared_catcher
from .signin_http import sign_in_pages

CATCHER = shared_catcher()  # registered on the session's mock by this folder's conftest
REDIRECT = CATCHER.url
ARRIVED = "document.body.innerText.includes('captured')"


@pytest.fixture(scope="module")
def browser(mock_entra_server: MockEntra, lab_browser: Browser) -> Browser:
    """The run's one Chromium (root conftest): it trusts the session mock's TLS key, which
    comes from `key_template` (the mock starts first: MSAL's discovery needs it anyway)."""
    return lab_browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def msal_app(mock: MockEntra, **overrides: str) -> msal.ConfidentialClientApplication:
    info = mock.info()
    return msal.ConfidentialClientApplication(
        overrides.get("client_id", info["client_id"]),
        authority=mock.authority,
        client_credential=overrides.get("secret", info["client_secret"]),
        instance_discovery=False,
        http_client=TrustingSession(mock.ca_bundle),
    )


def capture_redirect(page: Page) -> dict[str, str]:
    """What the browser brings to the redirect URI next (query or form_post), as received by
    a real HTTP listener registered as the app's redirect URI."""
    return CATCHER.expect()


def sign_in(
    page: Page, auth_uri: str, user: tuple[str, str], *, stay: bool = False, consent: bool = True
) -> dict[str, str]:
    captured = capture_redirect(page)
    page.goto(auth_uri)
    page.fill("input#i0116[name=loginfmt]", user[0])
    page.click("#idSIButton9")
    page.wait_for_selector("#idA_PWD_ForgotPassword")  # the real page's password-view marker
    page.fill("input#i0118[name=passwd]", user[1])
    page.click("#idSIButton9")
    page.wait_for_selector("#KmsiCheckboxField")
    page.click("#idSIButton9" if stay else "#idBtn_Back")
    page.wait_for_function(
        f"{ARRIVED} || document.body.innerText.includes('Permissions requested')"
    )
    if not captured:
        page.click("#idSIButton9" if consent else "#idBtn_Back")
    page.wait_for_function(ARRIVED)
    return captured


def token_status(mock: MockEntra) -> list[int]:
    return [r["status"] for r in mock.requests() if r["path"].endswith("/oauth2/v2.0/token")]


def test_msal_auth_code_flow_through_the_sign_in_pages(mock_entra, page):
    app = msal_app(mock_entra)
    flow = app.initiate_auth_code_flow(
        ["User.Read"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    params = sign_in(page, flow["auth_uri"], ADELE)
    assert set(params) == {"code", "client_info", "state", "session_state"}
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert claims["aud"] == mock_entra.info()["client_id"]
    assert claims["iss"] == f"{mock_entra.authority}/v2.0" and claims["tid"] == mock_entra.tenant_id
    assert claims["sub"] != claims["oid"] and claims["preferred_username"] == ADELE[0]
    assert b64json(result["client_info"]) == {"uid": claims["oid"], "utid": claims["tid"]}
    (account,) = app.get_accounts()
    assert account["home_account_id"] == f"{claims['oid']}.{claims['tid']}"
    assert account["username"] == ADELE[0] and account["realm"] == mock_entra.tenant_id

    # Silent: from MSAL's cache first (the returned scope matched); then with the refresh token.
    cached = app.acquire_token_silent(["User.Read"], account=account)
    assert cached["token_source"] == "cache"
    refreshed = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider"
    me = TrustingSession(mock_entra.ca_bundle).get(
        f"{mock_entra.graph_endpoint}/me",
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
    )
    assert me.status_code == 200 and me.json()["id"] == claims["oid"]
    grants = [
        r["form"]["grant_type"] for r in mock_entra.requests() if r["path"].endswith("/token")
    ]
    assert grants == [["authorization_code"], ["refresh_token"]]


def test_sso_session_prompt_login_and_account_picker(mock_entra, page):
    app = msal_app(mock_entra)
    sign_in(
        page,
        app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)["auth_uri"],
        ADELE,
        stay=True,
    )
    # Signed in: the next request is answered without any page.
    captured = capture_redirect(page)
    page.goto(app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)["auth_uri"])
    page.wait_for_function(ARRIVED)
    assert "code" in captured
    # prompt=login asks for credentials again; a second account joins the session.
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, prompt="login")
    assert "code" in sign_in(page, flow["auth_uri"], MEGAN)
    picked = app.initiate_auth_code_flow(
        ["User.Read"], redirect_uri=REDIRECT, prompt="select_account"
    )
    page.goto(picked["auth_uri"])
    page.wait_for_selector("#tilesHolder")
    assert page.locator(f'div.table[role=button][data-test-id="{ADELE[0]}"]').count() == 1
    captured = capture_redirect(page)
    page.click(f'div.table[role=button][data-test-id="{MEGAN[0]}"]')
    page.wait_for_function(ARRIVED)
    result = app.acquire_token_by_auth_code_flow(picked, captured)
    assert result["id_token_claims"]["preferred_username"] == MEGAN[0]


def test_wrong_user_password_and_unknown_user_show_errors_on_the_page(mock_entra, page):
    app = msal_app(mock_entra)
    page.goto(app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)["auth_uri"])
    page.fill("#i0116", "nobody@contoso.onmicrosoft.com")
    page.click("#idSIButton9")
    assert "may be incorrect" in page.inner_text("#usernameError")
    page.fill("#i0116", ADELE[0])
    page.click("#idSIButton9")
    page.wait_for_selector("#idA_PWD_ForgotPassword")
    page.fill("#i0118", "wrong")
    page.click("#idSIButton9")
    assert "incorrect" in page.inner_text("#passwordError")


def test_unregistered_redirect_uri_is_shown_by_entra_not_redirected(mock_entra, page):
    app = msal_app(mock_entra)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT + "/evil")
    page.goto(flow["auth_uri"])
    assert "AADSTS50011" in page.inner_text("#service_exception_message")


def test_code_reuse_and_wrong_verifier_are_refused_through_msal(mock_entra, page):
    app = msal_app(mock_entra)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    params = sign_in(page, flow["auth_uri"], ADELE)
    assert "access_token" in app.acquire_token_by_auth_code_flow(dict(flow), params)
    again = app.acquire_token_by_auth_code_flow(dict(flow), params)
    assert again["error"] == "invalid_grant" and again["error_codes"] == [54005]
    flow2 = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, prompt="login")
    params2 = sign_in(page, flow2["auth_uri"], ADELE)
    wrong = app.acquire_token_by_auth_code_flow({**flow2, "code_verifier": "x" * 43}, params2)
    assert wrong["error_codes"] == [501481]
    assert token_status(mock_entra) == [200, 400, 400]


def test_client_credentials_and_client_errors_through_msal(mock_entra):
    ok = msal_app(mock_entra).acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert ok["token_type"] == "Bearer"
    wrong = msal_app(mock_entra, secret="nope").acquire_token_for_client(
        ["https://graph.microsoft.com/.default"]
    )
    assert wrong["error"] == "invalid_client" and wrong["error_codes"] == [7000215]
    unknown = msal_app(mock_entra, client_id="00000000-0000-0000-0000-0000000000ff")
    result = unknown.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert result["error_codes"] == [700016]
    scope = msal_app(mock_entra).acquire_token_for_client(["https://graph.microsoft.com/Nope"])
    assert scope["error_codes"] == [1002012]
    assert token_status(mock_entra) == [200, 401, 400, 400]


def test_invalid_scope_at_authorize_comes_back_to_msal(mock_entra, page):
    app = msal_app(mock_entra)
    flow = app.initiate_auth_code_flow(["Not.AScope"], redirect_uri=REDIRECT)
    captured = capture_redirect(page)
    page.goto(flow["auth_uri"])
    page.wait_for_function(ARRIVED)
    result = app.acquire_token_by_auth_code_flow(flow, captured)
    assert result["error"] == "invalid_scope"
    assert result["error_description"].startswith("AADSTS70011")


@pytest.mark.slow  # a second server process (in-process: test_concurrency.py)
def test_one_code_redeemed_concurrently_over_https_by_two_workers(
    tmp_path, page, mock_entra_server
):
    # The admin API (and so the request log) is off: token requests take the fast path, as
    # under `mock-entra serve` with no admin key.
    # Same CA and server certificate as the session's mock (the browser trusts those keys).
    shutil.copytree(
        mock_entra_server.paths.root,
        tmp_path / "state",
        ignore=shutil.ignore_patterns("store.sqlite3*", "config.json"),
    )
    with MockEntra.start(
        with_redirect_uris(DEFAULT_CONFIG, [REDIRECT]),
        state_dir=tmp_path / "state",
        workers=2,
        admin=False,
    ) as mock:
        app = msal_app(mock)
        flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
        captured = capture_redirect(page)
        page.goto(flow["auth_uri"])
        sign_in_pages(page, ADELE)
        page.click("#idSIButton9")  # consent
        page.wait_for_function(ARRIVED)
        barrier = threading.Barrier(12)
        token_url = f"{mock.authority}/oauth2/v2.0/token"
        form = {
            "client_id": mock.info()["client_id"],
            "client_secret": mock.info()["client_secret"],
            "grant_type": "authorization_code",
            "code": captured["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": flow["code_verifier"],
        }

        def attempt(_: int) -> int:
            session = TrustingSession(mock.ca_bundle)
            barrier.wait()
            return session.post(token_url, data=form).status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(attempt, range(12)))
        assert statuses.count(200) == 1 and statuses.count(400) == 11
        graph = ["https://graph.microsoft.com/.default"]
        assert msal_app(mock).acquire_token_for_client(graph)["token_type"] == "Bearer"
        wrong = msal_app(mock, secret="nope").acquire_token_for_client(graph)
        assert wrong["error_codes"] == [7000215]


def test_expired_code_and_missing_secret_through_msal(mock_entra, page):
    app = msal_app(mock_entra)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT)
    params = sign_in(page, flow["auth_uri"], ADELE)
    mock_entra.clock.advance(11 * 60)  # codes live about ten minutes
    expired = app.acquire_token_by_auth_code_flow(flow, params)
    assert expired["error"] == "invalid_grant" and expired["error_codes"] == [70008]
    # A public client sends no secret: a web app's registration refuses it.
    public = msal.PublicClientApplication(
        mock_entra.info()["client_id"],
        authority=mock_entra.authority,
        instance_discovery=False,
        http_client=TrustingSession(mock_entra.ca_bundle),
    )
    flow = public.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, prompt="login")
    params = sign_in(page, flow["auth_uri"], ADELE)
    refused = public.acquire_token_by_auth_code_flow(flow, params)
    assert refused["error"] == "invalid_client" and refused["error_codes"] == [7000218]
    assert token_status(mock_entra) == [400, 401]
