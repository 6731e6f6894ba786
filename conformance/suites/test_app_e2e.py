"""The client app end to end, as a user sees it: sign in, the Graph profile, sign out, a
second user, a cancelled consent, `prompt=login`, and a session outliving its access token.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from conformance.flows import sign_in_to_app, sign_out_of_app
from conformance.pages.app import AppErrorPage, HomePage, ProfilePage
from conformance.pages.entra_signin import CONSENT, PASSWORD, PICKER, EntraSignInPage
from conformance.plugin import MockClock
from conformance.targets import Target, User

# Entra's access tokens live 60-90 minutes; two hours is past any of them.
PAST_TOKEN_EXPIRY = 2 * 3600


def test_signing_in_shows_the_users_graph_profile(
    page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    HomePage(page, target).open().click_sign_in()
    views = EntraSignInPage(page, done=target.app_url + "/", artifacts_dir=artifacts_dir).sign_in(
        user
    )
    assert PASSWORD in views, views  # a new browser: Entra had to ask
    assert "code=" not in page.url  # the callback redirected the code out of the address bar
    HomePage(page, target).expect_signed_in(user.username, user.display_name)
    ProfilePage(page, target).open().expect_user(user.username, user.display_name)


def test_signing_out_ends_the_app_session_and_returns_home(
    page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    sign_in_to_app(page, target, user, artifacts_dir=artifacts_dir)
    home = HomePage(page, target)
    home.expect_signed_in(user.username, user.display_name)
    sign_out_of_app(page, target, user, artifacts_dir=artifacts_dir)
    home.expect_signed_out(just_now=True)
    home.open().expect_signed_out()  # said once
    # The profile now needs a new sign-in at Entra: neither the app nor Entra kept a session.
    page.goto(target.app("/profile"))
    assert page.url.startswith(target.authority_host), page.url
    assert EntraSignInPage(page, done=target.app_url + "/").current_view() != "done"


def test_a_second_user_signs_in_and_sees_their_own_profile(
    new_context: Callable[..., BrowserContext],
    target: Target,
    user: User,
    second_user: User,
    artifacts_dir: Path,
) -> None:
    page = new_context().new_page()
    sign_in_to_app(page, target, second_user, artifacts_dir=artifacts_dir)
    HomePage(page, target).expect_signed_in(second_user.username, second_user.display_name)
    profile = ProfilePage(page, target).open()
    profile.expect_user(second_user.username, second_user.display_name)
    expect(profile.field("userPrincipalName")).not_to_have_text(user.username, ignore_case=True)


def test_cancelling_consent_shows_the_apps_error_page_and_signs_nobody_in(
    sso_page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    # prompt=consent asks again even after an earlier consent, on the mock and on Entra.
    views = sign_in_to_app(
        sso_page, target, user, prompt="consent", consent="cancel", artifacts_dir=artifacts_dir
    )
    assert CONSENT in views, views
    AppErrorPage(sso_page).expect_error(code="access_denied", aadsts="AADSTS65004")
    HomePage(sso_page, target).open().expect_signed_out()


def test_signing_in_again_reuses_the_entra_session_without_a_password(
    sso_page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    views = sign_in_to_app(sso_page, target, user, artifacts_dir=artifacts_dir)
    assert PASSWORD not in views, views
    HomePage(sso_page, target).expect_signed_in(user.username, user.display_name)


def test_prompt_select_account_shows_the_picker_and_signs_in_the_picked_account(
    sso_page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    views = sign_in_to_app(
        sso_page, target, user, prompt="select_account", artifacts_dir=artifacts_dir
    )
    assert views[0] == PICKER and PASSWORD not in views, views
    HomePage(sso_page, target).expect_signed_in(user.username, user.display_name)


def test_prompt_login_asks_for_the_password_again(
    sso_page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    views = sign_in_to_app(sso_page, target, user, prompt="login", artifacts_dir=artifacts_dir)
    assert PASSWORD in views, views
    HomePage(sso_page, target).expect_signed_in(user.username, user.display_name)


@pytest.mark.mock_only
def test_session_survives_an_access_token_refresh(
    mock_clock: MockClock, sso_page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    sign_in_to_app(sso_page, target, user, artifacts_dir=artifacts_dir)
    ProfilePage(sso_page, target).open().expect_user(user.username, user.display_name)
    mock_clock.advance(PAST_TOKEN_EXPIRY)

    response = sso_page.goto(target.app("/profile"))
    assert response is not None and response.status == 200, response and response.status
    ProfilePage(sso_page, target).expect_user(user.username, user.display_name)
    refreshes = [
        r
        for r in mock_clock.mock.requests()
        if r["path"].endswith("/oauth2/v2.0/token")
        and "refresh_token" in (r.get("form") or {}).get("grant_type", [])
    ]
    assert refreshes, "the app showed the profile without refreshing its expired access token"


def test_two_users_signed_in_at_once_each_see_only_their_own_profile(
    new_context: Callable[..., BrowserContext],
    target: Target,
    user: User,
    second_user: User,
    artifacts_dir: Path,
) -> None:
    first, second = new_context().new_page(), new_context().new_page()
    sign_in_to_app(first, target, user, artifacts_dir=artifacts_dir)
    sign_in_to_app(second, target, second_user, artifacts_dir=artifacts_dir)
    # Both sessions are live at once; each browser still sees only its own user.
    ProfilePage(first, target).open().expect_user(user.username, user.display_name)
    ProfilePage(second, target).open().expect_user(second_user.username, second_user.display_name)
    ProfilePage(first, target).open().expect_user(user.username, user.display_name)


def test_a_page_that_does_not_exist_offers_home_not_a_sign_in(page: Page, target: Target) -> None:
    response = page.goto(target.app("/no-such-page"))
    assert response is not None and response.status == 404
    error = AppErrorPage(page)
    expect(error.status).to_have_text("404")
    expect(error.try_again).to_have_count(0)  # signing in would not make the page exist
    expect(error.home).to_have_attribute("href", "/")
