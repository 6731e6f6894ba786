"""Multi-page user journeys shared by the suites (sign in to the app; get an authorization
response into the test process without letting the app redeem the code)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Page, Request, Route

from conformance.pages.app import HomePage
from conformance.pages.entra_signin import EntraSignInPage
from conformance.targets import Target, User

CAPTURED_PAGE = "<!doctype html><title>captured</title><p id='captured'>captured</p>"


@dataclass
class RedirectCatcher:
    """Answers every browser request to `redirect_uri` itself (so the app never sees the
    code) and keeps them; install with `page.route(catcher.matches, catcher.handle)`.

    Playwright does not route the hops of a server-side redirect chain, so a `query` response
    (a 302 to the redirect URI) slips past it; use `response_mode="form_post"`, whose
    auto-submitted form is a request of its own. `urls` still records what the browser
    reached, through `page.on("request")`, so a test can assert a redirect never happened.
    """

    redirect_uri: str
    urls: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)

    def matches(self, url: str) -> bool:
        """Whether `url` is the redirect URI (with any query)."""
        return url == self.redirect_uri or url.startswith(self.redirect_uri + "?")

    def handle(self, route: Route) -> None:
        """Keep the form (a form_post response) and answer with a tiny page."""
        query = dict(parse_qsl(urlsplit(route.request.url).query))
        self.forms.append(query | dict(parse_qsl(route.request.post_data or "")))
        route.fulfill(status=200, content_type="text/html", body=CAPTURED_PAGE)

    def on_request(self, request: Request) -> None:
        """`page.on("request")` listener: remember every request to the redirect URI."""
        if self.matches(request.url):
            self.urls.append(request.url)

    @property
    def params(self) -> dict[str, str]:
        """The last captured authorization response (code, state, … or error)."""
        if not self.forms:
            raise AssertionError(f"no form_post response reached {self.redirect_uri}")
        return self.forms[-1]

    def install(self, page: Page) -> None:
        """Start catching on `page`."""
        page.on("request", self.on_request)
        page.route(self.matches, self.handle)

    def remove(self, page: Page) -> None:
        """Stop catching on `page`."""
        page.unroute(self.matches, self.handle)
        page.remove_listener("request", self.on_request)


def authorization_response(
    page: Page,
    auth_uri: str,
    redirect_uri: str,
    user: User,
    *,
    consent: Literal["accept", "cancel"] = "accept",
    artifacts_dir: Path | None = None,
) -> dict[str, str]:
    """Open `auth_uri` (built with `response_mode="form_post"`), sign `user` in, and return
    the authorization response (code, state, client_info, … or error) as the client would
    receive it; the app behind `redirect_uri` never sees it."""
    catcher = RedirectCatcher(redirect_uri)
    catcher.install(page)
    try:
        page.goto(auth_uri)
        EntraSignInPage(page, done=catcher.matches, artifacts_dir=artifacts_dir).sign_in(
            user, consent=consent
        )
    finally:
        catcher.remove(page)
    return catcher.params


def sign_in_to_app(
    page: Page,
    target: Target,
    user: User,
    *,
    prompt: str | None = None,
    next_path: str | None = None,
    consent: Literal["accept", "cancel"] = "accept",
    stay_signed_in: bool = False,
    artifacts_dir: Path | None = None,
) -> list[str]:
    """Start the app's sign-in (`/login`), complete Entra's views, and return them."""
    HomePage(page, target).start_sign_in(prompt=prompt, next_path=next_path)
    signin = EntraSignInPage(page, done=_at_app(target), artifacts_dir=artifacts_dir)
    return signin.sign_in(user, consent=consent, stay_signed_in=stay_signed_in)


def sign_out_of_app(
    page: Page, target: Target, user: User, *, artifacts_dir: Path | None = None
) -> None:
    """Press Sign out and follow Entra's logout back to the app."""
    home = HomePage(page, target)
    with page.expect_navigation():
        home.click_sign_out()
    EntraSignInPage(page, done=_at_app(target), artifacts_dir=artifacts_dir).sign_out(user)


def _at_app(target: Target) -> Callable[[str], bool]:
    authority_origin = target.authority_host

    def done(url: str) -> bool:
        # Back at the app, and not on the IdP (the two could share a host in odd set-ups).
        return url.startswith(target.app_url + "/") and not url.startswith(authority_origin)

    return done
