"""Page objects for the client app (client_app/templates): home, profile and error page.

Element ids are the app's contract with the suites: `#sign-in` (signed out), `#signed-out`
(once, right after Sign out), `#user-name` and `#sign-out` (signed in: the submit button of
`#sign-out-form`, a POST to `/logout` with a hidden CSRF token, in the page's `header` on every
signed-in page), `#confirm-sign-out` (what a GET of `/logout` shows), `#profile-<Graph
property>`, `#error-title`, `#error-code`, `#error-aadsts`, `#error-status`, `#try-again`
(only where a new sign-in can help), `#error-home`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import Locator, Page, expect

from client_app.settings import GUID
from conformance.targets import Target


class HomePage:
    """`/`: a Sign-in link when signed out; the user's name and Sign-out when signed in."""

    def __init__(self, page: Page, target: Target) -> None:
        self.page = page
        self.target = target
        self.sign_in_link = page.locator("#sign-in")
        self.user_name = page.locator("#user-name")
        self.user_username = page.locator("#user-username")
        self.profile_link = page.locator("#profile-link")
        self.sign_out_form = page.locator("#sign-out-form")
        self.sign_out_button = page.locator("#sign-out")
        self.signed_out_notice = page.locator("#signed-out")

    def open(self) -> HomePage:
        """Go to the home page."""
        self.page.goto(self.target.app("/"))
        return self

    def start_sign_in(self, *, prompt: str | None = None, next_path: str | None = None) -> None:
        """Go to `/login` (as the Sign-in link does), optionally with `prompt` / `next`."""
        query = {k: v for k, v in (("prompt", prompt), ("next", next_path)) if v}
        self.page.goto(self.target.app("/login") + (f"?{urlencode(query)}" if query else ""))

    def click_sign_in(self) -> None:
        """Press the Sign-in link."""
        self.sign_in_link.click()

    def click_sign_out(self) -> None:
        """Press Sign out: submits the Sign-out form (a POST with its CSRF token)."""
        expect(self.sign_out_form).to_have_attribute("method", "post")
        expect(self.sign_out_form.locator('input[type="hidden"][name="csrf_token"]')).to_have_count(
            1
        )
        self.sign_out_button.click()

    def expect_signed_in(self, username: str, display_name: str | None = None) -> None:
        """Assert the home page greets `username` (and shows `display_name` when known)."""
        expect(self.user_username).to_have_text(username, ignore_case=True)
        if display_name:
            expect(self.user_name).to_have_text(display_name)
        expect(self.page.locator("header #sign-out")).to_be_visible()  # where profile has it

    def expect_signed_out(self, *, just_now: bool = False) -> None:
        """Assert the home page offers Sign in and names nobody; `just_now`: and says "You
        are signed out" (the page Entra's logout returns to)."""
        expect(self.sign_in_link).to_be_visible()
        expect(self.user_name).to_have_count(0)
        if just_now:
            expect(self.signed_out_notice).to_have_text("You are signed out.")
        else:
            expect(self.signed_out_notice).to_have_count(0)


class ProfilePage:
    """`/profile`: the signed-in user's Microsoft Graph `/me` properties."""

    def __init__(self, page: Page, target: Target) -> None:
        self.page = page
        self.target = target
        self.user_name = page.locator("#user-name")

    def open(self) -> ProfilePage:
        """Go to the profile page."""
        self.page.goto(self.target.app("/profile"))
        return self

    def field(self, name: str) -> Locator:
        """The cell showing Graph property `name` (displayName, userPrincipalName, id, …)."""
        return self.page.locator(f"#profile-{name}")

    def expect_user(self, username: str, display_name: str | None = None) -> None:
        """Assert the page shows Graph's profile of `username`."""
        expect(self.field("userPrincipalName")).to_have_text(username, ignore_case=True)
        expect(self.field("id")).to_have_text(GUID)  # Graph's `id` is the object id
        expect(self.page.locator("header #sign-out")).to_be_visible()  # as on the home page
        if display_name:
            expect(self.field("displayName")).to_have_text(display_name)
        else:
            expect(self.field("displayName")).not_to_be_empty()


class AppErrorPage:
    """The app's error page (`error.html`), shown with a 4xx/5xx status."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.title = page.locator("#error-title")
        self.detail = page.locator("#error-detail")
        self.status = page.locator("#error-status")
        self.code = page.locator("#error-code")
        self.aadsts = page.locator("#error-aadsts")
        self.try_again = page.locator("#try-again")
        self.home = page.locator("#error-home")

    def expect_error(self, *, code: str | None = None, aadsts: str | None = None) -> None:
        """Assert the error page shows, with the given protocol error / AADSTS code."""
        expect(self.title).to_be_visible()
        if code:
            expect(self.code).to_have_text(code)
        if aadsts:
            expect(self.aadsts).to_have_text(aadsts)
