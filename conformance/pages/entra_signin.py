"""One page object for Entra's sign-in pages: the mock's and login.microsoftonline.com's.

Both serve the same DOM contract: the element ids of login.microsoftonline.com's pages that
browser automation of them relies on (`#i0116`, `#i0118`, `#idSIButton9`, ...). `sign_in` is
a small state machine: it waits for whichever view comes next (username, password, "Stay
signed in?", consent, account picker, error page, or back at the app) and takes the user's
step, so it copes with SSO, pickers and optional interrupts in any order. It fails with the
page's AADSTS text and a screenshot.

Pitfall handled here: the real username view holds a hidden, off-screen `#i0118` for
autofill; typing into it does nothing. The password view is recognised by
`#idA_PWD_ForgotPassword` or by an `#i0118` that is not the hidden one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NoReturn

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from conformance.targets import User

# The views `sign_in` recognises (also what it returns, in visiting order).
USERNAME = "username"
PASSWORD = "password"
KMSI = "kmsi"
CONSENT = "consent"
PICKER = "picker"
ERROR = "error"
DONE = "done"

POLL_SECONDS = 0.05

# How each view is recognised, most specific first: (css selector, text it must contain).
# The off-screen #i0118 of the username view carries aria-hidden, so it never counts.
VIEW_MARKERS: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = (
    (ERROR, (("#service_exception_message", None),)),
    (KMSI, (("#kmsiTitle", None), ("#KmsiCheckboxField", None))),
    (CONSENT, (("[role=heading], h1, h2", "Permissions requested"),)),
    (PICKER, (("#loginHeader", "Pick an account"),)),
    (
        PASSWORD,
        (
            ("#idA_PWD_ForgotPassword", None),
            ('input#i0118[name=passwd][type=password]:not([aria-hidden="true"])', None),
        ),
    ),
    (USERNAME, (("input#i0116[name=loginfmt]", None),)),
)
# One round trip per poll instead of one per marker. "Visible" as Playwright defines it:
# a non-empty box and not visibility:hidden.
_DETECT_JS = """(markers) => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  for (const [view, rules] of markers) {
    for (const [css, text] of rules) {
      for (const el of document.querySelectorAll(css)) {
        if (visible(el) && (text === null || el.textContent.includes(text))) return view;
      }
    }
  }
  return null;
}"""


class SignInFailed(AssertionError):
    """Entra showed an error page or a field error, or no known view appeared in time."""


class EntraSignInPage:
    """Entra's sign-in views on `page`; `done` says when the browser is back at the client."""

    def __init__(
        self,
        page: Page,
        *,
        done: str | Callable[[str], bool],
        artifacts_dir: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.page = page
        self._done = done if callable(done) else (lambda url, prefix=done: url.startswith(prefix))
        self.artifacts_dir = artifacts_dir
        self.timeout = timeout
        # username view
        self.username_input = page.locator("input#i0116[name=loginfmt]")
        self.username_error = page.locator("#usernameError")
        # password view (see the module docstring about the hidden #i0118)
        self.forgot_password = page.locator("#idA_PWD_ForgotPassword")
        self.password_input = page.locator(
            'input#i0118[name=passwd][type=password]:not([aria-hidden="true"])'
        )
        self.password_error = page.locator("#passwordError")
        # shared buttons: primary (Next / Sign in / Yes / Accept) and back (Back / No / Cancel)
        self.primary_button = page.locator("#idSIButton9")
        self.back_button = page.locator("#idBtn_Back")
        # "Stay signed in?"
        self.kmsi_title = page.locator("#kmsiTitle")
        self.kmsi_checkbox = page.locator("#KmsiCheckboxField")
        # consent
        self.consent_heading = page.get_by_role("heading", name="Permissions requested")
        # account picker
        self.picker_header = page.locator("#loginHeader", has_text="Pick an account")
        self.other_account = page.locator("#otherTile")
        # error page ("Sorry, but we're having trouble signing you in."): the message holds
        # the AADSTS code; the heading's wording (and apostrophe) is not relied on.
        self.error_message = page.locator("#service_exception_message")

    # -- reading the page ------------------------------------------------------------------

    def current_view(self) -> str | None:
        """Which view is showing now (see `VIEW_MARKERS`), or None (loading, or unknown)."""
        if self._done(self.page.url):
            return DONE
        try:
            view: str | None = self.page.evaluate(_DETECT_JS, VIEW_MARKERS)
        except PlaywrightError:
            return None  # the page navigated while we looked: look again
        return view

    def error_text(self) -> str | None:
        """The error page's message or a field error (e.g. "AADSTS50011: …"), if any."""
        for locator in (self.error_message, self.username_error, self.password_error):
            try:
                if locator.is_visible():
                    text = locator.inner_text().strip()
                    if text:
                        return text
            except PlaywrightError:
                continue
        return None

    def expect_error(self, code: str) -> None:
        """Assert that Entra's error page is showing and names `code` (e.g. "AADSTS50011")."""
        expect(self.error_message).to_be_visible()
        expect(self.error_message).to_contain_text(code)

    # -- user steps --------------------------------------------------------------------------

    def enter_username(self, username: str) -> None:
        """Type the UPN and press Next."""
        self.username_input.fill(username)
        self.primary_button.click()

    def enter_password(self, password: str) -> None:
        """Wait for the real password view, type the password and press Sign in."""
        expect(self.forgot_password.or_(self.password_input).first).to_be_visible()
        self.password_input.fill(password)
        self.primary_button.click()

    def stay_signed_in(self, yes: bool) -> None:
        """Answer "Stay signed in?" with Yes or No."""
        expect(self.kmsi_title.or_(self.kmsi_checkbox).first).to_be_visible()
        (self.primary_button if yes else self.back_button).click()

    def accept_consent(self) -> None:
        """Press Accept on "Permissions requested"."""
        expect(self.consent_heading).to_be_visible()
        self.primary_button.click()

    def cancel_consent(self) -> None:
        """Press Cancel on "Permissions requested"."""
        expect(self.consent_heading).to_be_visible()
        self.back_button.click()

    def pick_account(self, upn: str | None) -> None:
        """Choose `upn`'s tile on "Pick an account"; None or no tile: "Use another account"."""
        expect(self.picker_header).to_be_visible()
        tile = self.page.locator(f'#tilesHolder div.table[role=button][data-test-id="{upn}"]')
        if upn and tile.count():
            tile.first.click()
        else:
            self.other_account.click()

    def sign_in(
        self,
        user: User,
        *,
        stay_signed_in: bool = False,
        consent: Literal["accept", "cancel"] = "accept",
    ) -> list[str]:
        """Drive whatever views come until the browser is back at the client; return the views
        seen in order (ending with "done"), so tests can assert e.g. that a password was asked.
        """
        seen: list[str] = []
        actions: dict[str, Callable[[], None]] = {
            USERNAME: lambda: self.enter_username(user.username),
            PASSWORD: lambda: self.enter_password(user.password),
            KMSI: lambda: self.stay_signed_in(stay_signed_in),
            CONSENT: self.accept_consent if consent == "accept" else self.cancel_consent,
            PICKER: lambda: self.pick_account(user.username),
        }
        deadline = time.monotonic() + self.timeout
        while True:
            view = self._wait_for_view(deadline, previous=seen[-1] if seen else None)
            seen.append(view)
            if view == DONE:
                return seen
            if view == ERROR:
                self.fail(f"Entra showed an error page after {seen[:-1]}")
            actions[view]()

    def sign_out(self, user: User) -> None:
        """After the app sent the browser to Entra's logout: pick the account if asked, and
        wait until the browser is back at the client."""
        deadline = time.monotonic() + self.timeout
        while not self._done(self.page.url):
            if self.picker_header.is_visible():
                self.pick_account(user.username)
            elif time.monotonic() > deadline:
                self.fail("sign-out did not return to the app")
            time.sleep(POLL_SECONDS)

    # -- internals ---------------------------------------------------------------------------

    def _wait_for_view(self, deadline: float, previous: str | None) -> str:
        """The next view; after an action on `previous`, wait until that view is gone (the
        real username→password switch is client-side, with no navigation to wait for)."""
        while True:
            view = self.current_view()
            if view is not None and (view != previous or view in (DONE, ERROR)):
                return view
            field_error = self._field_error() if view == previous else None
            if field_error:
                self.fail(f"{view} was refused: {field_error}")
            if time.monotonic() > deadline:
                self.fail(f"no known sign-in view within {self.timeout:.0f}s (last: {previous})")
            time.sleep(POLL_SECONDS)

    def _field_error(self) -> str | None:
        for locator in (self.username_error, self.password_error):
            try:
                if locator.is_visible():
                    return locator.inner_text().strip() or None
            except PlaywrightError:
                continue
        return None

    def fail(self, what: str) -> NoReturn:
        """Raise `SignInFailed` with the page's error text, URL and a screenshot path."""
        shot = None
        if self.artifacts_dir is not None:
            self.artifacts_dir.mkdir(parents=True, exist_ok=True)
            shot = self.artifacts_dir / f"signin-failure-{int(time.time() * 1000)}.png"
            try:
                self.page.screenshot(path=str(shot), full_page=True)
            except PlaywrightError:
                shot = None
        raise SignInFailed(
            f"{what}\n  page error: {self.error_text() or '(none)'}\n  url: {self.page.url}"
            f"\n  screenshot: {shot or '(none)'}"
        )
