"""The client app's security properties (RFC 9700 for a confidential web client): cookie
flags, no open redirect, forged and replayed callbacks refused, sign-out that no other site
can force, no tokens in pages, an anonymous health probe, and a redirect URI that request
headers cannot change.
"""

from __future__ import annotations

import html
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, Response, Route

from conformance.flows import sign_in_to_app
from conformance.pages.app import AppErrorPage, HomePage
from conformance.targets import Target, User
from conformance.trust import TrustingSession

# A JWT (access or ID token) and Entra's opaque codes / refresh tokens ("0.A…", "1.A…").
JWT = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*")
OPAQUE_GRANT = re.compile(r"\b[01]\.A[\w-]{50,}")
OFF_SITE = ("https://evil.example/", "//evil.example/", "/\\evil.example/")
# An attacker's page on another site, served to the browser by `page.route`.
ATTACKER = "https://attacker.example/"


@pytest.fixture
def app_http() -> Iterator[TrustingSession]:
    """Scope: function. A cookie-less HTTP client for the app (system trust store)."""
    with TrustingSession(None) as session:
        yield session


def set_cookies(response: Response) -> list[str]:
    """The Set-Cookie headers of a Playwright response."""
    return response.header_values("set-cookie")


def test_every_cookie_the_app_sets_is_httponly_with_the_samesite_its_response_mode_needs(
    sso_page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    page = sso_page
    app_cookies: list[str] = []

    def keep(response: Response) -> None:
        if response.url.startswith(target.app_url + "/"):
            app_cookies.extend(set_cookies(response))

    page.on("response", keep)
    sign_in_to_app(page, target, user, artifacts_dir=artifacts_dir)
    page.goto(target.app("/profile"))
    assert app_cookies, "the app set no cookie during sign-in"
    https = target.app_url.startswith("https://")
    # Over https the app asks for form_post, whose callback is the IdP's cross-site POST: only
    # a SameSite=None cookie goes with it. Over http (development) it uses query and Lax.
    samesite = "none" if https else "lax"
    for header in app_cookies:
        for name, morsel in SimpleCookie(header).items():
            assert morsel["httponly"], f"{name} is not HttpOnly: {header}"
            assert morsel["samesite"].lower() == samesite, f"{name}: SameSite wrong: {header}"
            assert bool(morsel["secure"]) == https, f"{name} Secure flag wrong: {header}"


def test_login_next_parameter_never_leads_off_site(
    sso_page: Page, target: Target, user: User, artifacts_dir: Path
) -> None:
    page = sso_page
    off_site: list[str] = []

    def refuse(route: Route) -> None:
        off_site.append(route.request.url)
        route.abort()

    page.route("**/evil.example/**", refuse)
    app_host = urlsplit(target.app_url).netloc
    for next_path in OFF_SITE:
        sign_in_to_app(page, target, user, next_path=next_path, artifacts_dir=artifacts_dir)
        assert urlsplit(page.url).netloc == app_host, (next_path, page.url)
    assert off_site == []


def test_forged_callback_is_refused_with_4xx_and_signs_nobody_in(
    app_http: TrustingSession, target: Target
) -> None:
    forged = {"code": "x", "state": "forged"}
    cold = app_http.get(target.redirect_uri, params=forged, allow_redirects=False)
    assert 400 <= cold.status_code < 500, cold.status_code
    # With a real sign-in pending in this session, a state that is not its own still fails.
    started = app_http.get(target.app("/login"), allow_redirects=False)
    assert started.status_code in (302, 303), started.status_code
    forged["state"] = secrets.token_urlsafe(16)
    pending = app_http.get(target.redirect_uri, params=forged, allow_redirects=False)
    assert 400 <= pending.status_code < 500, pending.status_code
    home = app_http.get(target.app("/")).text
    assert 'id="sign-in"' in home and 'id="user-name"' not in home


def test_replayed_callback_is_refused_and_signs_nobody_in(
    sso_page: Page,
    new_context: Callable[..., BrowserContext],
    target: Target,
    user: User,
    artifacts_dir: Path,
) -> None:
    callbacks: list[Request] = []

    def keep(request: Request) -> None:
        url = request.url
        if url == target.redirect_uri or url.startswith(target.redirect_uri + "?"):
            callbacks.append(request)

    sso_page.on("request", keep)
    sign_in_to_app(sso_page, target, user, artifacts_dir=artifacts_dir)
    assert callbacks, "no callback reached the app"
    callback = callbacks[-1]
    # An attacker who got hold of the authorization response (history, logs) replays it.
    attacker = new_context().new_page()
    if callback.method == "POST":  # form_post (the app's default over https)
        fields = dict(parse_qsl(callback.post_data or ""))
        assert "code" in fields, fields
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in fields.items()
        )
        visit_attacker_page(
            attacker,
            f'<form method="post" action="{target.redirect_uri}">{inputs}'
            '<button id="go">go</button></form>',
        )
        with attacker.expect_navigation() as navigation:
            attacker.click("#go")
        replay = navigation.value
    else:
        assert "code=" in callback.url, callback.url
        replay = attacker.goto(callback.url)
    assert replay is not None and 400 <= replay.status < 500, replay and replay.status
    AppErrorPage(attacker).expect_error()
    HomePage(attacker, target).open().expect_signed_out()


def visit_attacker_page(page: Page, body: str) -> None:
    """Open a page of another site (`ATTACKER`) showing `body`."""
    page.route(
        ATTACKER + "**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=f"<!doctype html><title>x</title>{body}"
        ),
    )
    page.goto(ATTACKER)


def test_cross_site_link_to_logout_leaves_the_user_signed_in(
    signed_in_page: Page, target: Target, user: User
) -> None:
    page = signed_in_page
    visit_attacker_page(page, f'<a id="go" href="{target.app("/logout")}">a prize</a>')
    with page.expect_navigation() as navigation:
        page.click("#go")  # a top-level GET: SameSite=Lax cookies go along
    response = navigation.value
    assert response is not None and response.status == 200, response and response.status
    assert page.locator("#confirm-sign-out").is_visible()  # asks; does not sign out
    HomePage(page, target).open().expect_signed_in(user.username)


def test_cross_site_post_to_logout_without_the_token_leaves_the_user_signed_in(
    signed_in_page: Page, target: Target, user: User
) -> None:
    page = signed_in_page
    visit_attacker_page(
        page,
        f'<form method="post" action="{target.app("/logout")}">'
        '<input type="hidden" name="csrf_token" value="guessed">'
        '<button id="go">a prize</button></form>',
    )
    with page.expect_navigation() as navigation:
        page.click("#go")
    response = navigation.value
    assert response is not None and response.status in (400, 403), response and response.status
    AppErrorPage(page).expect_error()
    HomePage(page, target).open().expect_signed_in(user.username)


def test_forged_callback_leaves_the_user_signed_in(
    signed_in_page: Page, target: Target, user: User
) -> None:
    page = signed_in_page
    response = page.goto(f"{target.redirect_uri}?code=x&state=y")
    assert response is not None and 400 <= response.status < 500, response and response.status
    AppErrorPage(page).expect_error()
    HomePage(page, target).open().expect_signed_in(user.username)


def test_tokens_never_appear_in_the_apps_pages_or_cookies(
    signed_in_page: Page, target: Target
) -> None:
    pages = {}
    for path in ("/", "/profile"):
        signed_in_page.goto(target.app(path))
        pages[path] = signed_in_page.content()
    assert 'id="profile-id"' in pages["/profile"], "the profile page did not render"
    cookies = " ".join(c["value"] for c in signed_in_page.context.cookies(target.app_url))
    for where, text in {**pages, "cookies": cookies}.items():
        assert not JWT.search(text), f"a JWT appears in {where}"
        assert not OPAQUE_GRANT.search(text), f"a code or refresh token appears in {where}"


def test_healthz_answers_200_anonymously_without_setting_cookies(
    app_http: TrustingSession, target: Target
) -> None:
    response = app_http.get(target.app("/healthz"), allow_redirects=False)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


@pytest.mark.mock_only
def test_redirect_uri_behind_a_proxy_is_the_configured_https_uri_whatever_the_headers(
    target: Target, tmp_path: Path
) -> None:
    from client_app import Settings, create_app

    public = "https://app.contoso.example"
    settings = Settings.from_env(
        {
            "TENANT_ID": target.tenant_id,
            "CLIENT_ID": target.client_id,
            "CLIENT_SECRET": target.client_secret,
            "AUTHORITY": target.authority,
            "REDIRECT_URI": f"{public}/getAToken",
            "GRAPH_ENDPOINT": target.graph_endpoint,
            "CA_BUNDLE": target.ca_bundle or "",
            "SECRET_KEY": uuid.uuid4().hex,
            "SESSION_DIR": str(tmp_path),
            "TRUST_PROXY": "true",
        }
    )
    app = create_app(settings)
    client = app.test_client()
    # App Service's front end: TLS ends there, the app sees http plus forwarded headers.
    for forwarded_host in ("app.contoso.example", "evil.example"):
        response = client.get(
            "/login",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": forwarded_host},
        )
        assert response.status_code == 302
        authorize = urlsplit(response.headers["Location"])
        assert f"{authorize.scheme}://{authorize.netloc}" == target.authority_host
        assert parse_qs(authorize.query)["redirect_uri"] == [f"{public}/getAToken"]
        for header in response.headers.getlist("Set-Cookie"):
            assert "secure" in header.lower(), header  # https app: Secure cookies
    # An idle keep-alive connection to the mock would hold up its shutdown.
    app.extensions["client_app"].http.close()
