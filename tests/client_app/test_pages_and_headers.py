"""Pages, /healthz, session cookie flags, security headers, proxy handling, error pages."""

from __future__ import annotations

from dataclasses import replace

import pytest
from client_app_fakes import FakeIdP, csrf_token_of, sign_in, sign_out, start_login
from flask import Flask
from flask.testing import FlaskClient

from client_app import Settings, create_app


def set_cookie_header(response: object) -> str:
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie"]  # type: ignore[attr-defined]
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_home_when_signed_out_offers_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'id="sign-in" href="/login"' in response.text
    assert 'id="user-name"' not in response.text
    assert 'id="sign-out"' not in response.text


def header_of(page: str) -> str:
    return page[page.index("<header>") : page.index("</header>")]


def test_home_when_signed_in_shows_name_profile_and_sign_out_in_the_header(
    client: FlaskClient, idp: FakeIdP
) -> None:
    sign_in(client, idp)
    page = client.get("/").text
    assert 'id="user-name">Adele Vance<' in page
    assert 'id="profile-link" href="/profile"' in page
    header = header_of(page)  # where the profile page has it too
    assert '<form class="inline" id="sign-out-form" method="post" action="/logout">' in header
    assert '<button type="submit" class="link-button" id="sign-out">Sign out</button>' in header
    assert page.count('id="sign-out"') == 1
    assert csrf_token_of(page)
    assert 'id="sign-in"' not in page


def test_after_sign_out_the_home_page_says_so_once(client: FlaskClient, idp: FakeIdP) -> None:
    assert 'id="signed-out"' not in client.get("/").text  # a visitor who never signed in
    sign_in(client, idp)
    sign_out(client)
    page = client.get("/").text  # where Entra's logout returns
    assert '<p class="notice" id="signed-out" role="status">You are signed out.</p>' in page
    assert 'id="sign-in" href="/login"' in page
    assert client.get_cookie("entra_lab_session") is None  # the session is gone all the same
    assert 'id="signed-out"' not in client.get("/").text  # once


def test_healthz_is_ok_and_sets_no_cookie(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("entra_lab_session") is None


def test_home_page_of_an_anonymous_visitor_sets_no_cookie(client: FlaskClient) -> None:
    assert "Set-Cookie" not in client.get("/").headers


def test_session_cookie_is_httponly_and_samesite_lax_over_http(
    client: FlaskClient, idp: FakeIdP
) -> None:
    cookie = set_cookie_header(client.get("/login"))
    assert cookie.startswith("entra_lab_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_the_redirect_uri_is_https(
    settings: Settings, idp: FakeIdP
) -> None:
    https = replace(settings, redirect_uri="https://app.example/getAToken")
    client = create_app(https).test_client()
    cookie = set_cookie_header(client.get("/login", base_url="https://app.example"))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_form_post_over_https_uses_samesite_none_so_the_cross_site_post_carries_it(
    settings: Settings, idp: FakeIdP
) -> None:
    https = replace(
        settings, redirect_uri="https://app.example/getAToken", response_mode="form_post"
    )
    client = create_app(https).test_client()
    cookie = set_cookie_header(client.get("/login", base_url="https://app.example"))
    assert "SameSite=None" in cookie
    assert "Secure" in cookie


@pytest.mark.parametrize("path", ["/", "/healthz", "/login", "/does-not-exist"])
def test_security_headers_on_every_response(client: FlaskClient, idp: FakeIdP, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp  # no script at all
    # Forms post only to the app, whose Sign out redirects to the IdP's logout.
    assert "form-action 'self' https://login.entra-lab.test;" in csp


def test_callback_response_has_no_referrer(client: FlaskClient, idp: FakeIdP) -> None:
    assert sign_in(client, idp).headers["Referrer-Policy"] == "no-referrer"


def test_unknown_page_is_a_404_error_page_that_offers_home_not_a_sign_in(
    client: FlaskClient,
) -> None:
    response = client.get("/does-not-exist")
    assert response.status_code == 404
    assert 'id="error-status">404<' in response.text
    assert 'id="error-home" href="/"' in response.text
    assert "Sign in again" not in response.text and 'id="try-again"' not in response.text


def test_a_failed_sign_in_offers_to_sign_in_again(client: FlaskClient, idp: FakeIdP) -> None:
    start_login(client)
    response = client.get("/getAToken", query_string={"error": "access_denied", "state": "x"})
    assert response.status_code >= 400
    assert 'id="try-again" href="/login">Sign in again</a>' in response.text


def test_unexpected_exception_is_a_500_page_without_traceback(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise KeyError("internal-detail-must-not-show")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert 'id="error-status">500<' in response.text
    assert "internal-detail-must-not-show" not in response.text
    assert "Traceback" not in response.text


def test_redirect_uri_path_decides_the_callback_route(settings: Settings, idp: FakeIdP) -> None:
    custom = replace(settings, redirect_uri="http://localhost:5000/auth/callback")
    client = create_app(custom).test_client()
    params = idp.authorize(start_login(client))
    assert client.get("/auth/callback", query_string=params).status_code == 302
    assert client.get("/getAToken").status_code == 404


# -- reverse proxy (App Service) -----------------------------------------------------------


def _url_probe(app: Flask) -> None:
    from flask import request, url_for

    @app.get("/_probe")
    def probe() -> str:
        return f"{request.scheme} {url_for('views.home', _external=True)}"


PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.azurewebsites.net"}


def test_trust_proxy_makes_external_urls_https(settings: Settings) -> None:
    app = create_app(replace(settings, trust_proxy=True))
    _url_probe(app)
    text = app.test_client().get("/_probe", headers=PROXY_HEADERS).text
    assert text == "https https://app.azurewebsites.net/"


def test_without_trust_proxy_forwarded_headers_are_ignored(settings: Settings) -> None:
    app = create_app(settings)
    _url_probe(app)
    text = app.test_client().get("/_probe", headers=PROXY_HEADERS).text
    assert text == "http http://localhost/"


def test_wrong_method_is_a_405_page_that_keeps_the_allow_header(client: FlaskClient) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert 'id="error-status">405<' in response.text
