"""Login CSRF: a pending sign-in (`ctx`) belongs to the browser that started it (the flow
cookie), and the sign-in posts must come from the mock's own pages (`Origin`)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from flask.testing import FlaskClient

from mock_entra.web.signin import FLOW_COOKIE, SSO_COOKIE

from .conftest import ADELE, BASE, TENANT, new_flow, query_of

EVIL = "https://evil.example"


def ctx_of(response) -> str:
    return response.get_data(as_text=True).split('name="ctx" value="')[1].split('"')[0]


def post(client: FlaskClient, ctx: str, step: str, **fields: str):
    headers = {"Origin": fields.pop("origin")} if "origin" in fields else {}
    return client.post(
        f"/{TENANT}/login",
        base_url=BASE,
        data={"ctx": ctx, "step": step, **fields},
        headers=headers,
    )


def half_signed_in(client: FlaskClient) -> str:
    """Username and password done; the "Stay signed in?" step is next."""
    ctx = ctx_of(client.get(new_flow().auth_uri(), base_url=BASE))
    post(client, ctx, "username", loginfmt=ADELE[0])
    assert "kmsiTitle" in post(client, ctx, "password", passwd=ADELE[1]).get_data(as_text=True)
    return ctx


def refused(response) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="service_exception_message"' in html
    assert "AADSTS90100: flowToken parameter is empty or not valid." in html
    assert not any(SSO_COOKIE in c for c in response.headers.getlist("Set-Cookie"))


def test_authorize_sets_a_private_flow_cookie(client):
    response = client.get(new_flow().auth_uri(), base_url=BASE)
    (header,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(FLOW_COOKIE)]
    morsel = SimpleCookie(header)[FLOW_COOKIE]
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "Lax"
    assert morsel["path"] == "/" and len(morsel.value) >= 32
    again = client.get(new_flow().auth_uri(), base_url=BASE)  # a second tab reuses it
    assert not any(c.startswith(FLOW_COOKIE) for c in again.headers.getlist("Set-Cookie"))


def test_a_cross_site_post_of_another_browsers_ctx_is_refused(app):
    attacker, victim = app.test_client(), app.test_client()
    ctx = half_signed_in(attacker)
    victim.get(new_flow().auth_uri(), base_url=BASE)  # the victim has a flow of its own
    refused(post(victim, ctx, "kmsi", choice="Yes", origin=EVIL))
    refused(post(victim, ctx, "kmsi", choice="Yes"))  # without Origin: the cookie decides
    assert victim.get_cookie(SSO_COOKIE, domain="localhost") is None
    # The victim's next sign-in asks for a password: nothing was planted.
    page = victim.get(new_flow().auth_uri(), base_url=BASE).get_data(as_text=True)
    assert 'id="i0116"' in page


def test_a_browser_without_a_flow_cookie_cannot_post_a_ctx(app):
    ctx = half_signed_in(app.test_client())
    refused(post(app.test_client(), ctx, "kmsi", choice="Yes"))


def test_a_post_from_another_origin_is_refused_even_with_the_cookie(client):
    ctx = half_signed_in(client)
    refused(post(client, ctx, "kmsi", choice="Yes", origin=EVIL))
    refused(post(client, ctx, "kmsi", choice="Yes", origin="null"))
    done = post(client, ctx, "kmsi", choice="No", origin=BASE)  # the mock's own page
    if "Permissions requested" in done.get_data(as_text=True):
        done = post(client, ctx, "consent", choice="accept", origin=BASE)
    assert done.status_code == 302 and "code" in query_of(done.headers["Location"])


def test_an_unknown_ctx_is_refused_on_entras_error_page(client):
    client.get(new_flow().auth_uri(), base_url=BASE)
    refused(post(client, "no-such-ctx", "username", loginfmt=ADELE[0]))


def test_an_expired_ctx_says_the_flow_token_expired(interceptor, client, clock):
    ctx = ctx_of(client.get(new_flow().auth_uri(), base_url=BASE))
    clock.advance(interceptor.runtime.config.signin_page_lifetime + 1)
    html = post(client, ctx, "username", loginfmt=ADELE[0]).get_data(as_text=True)
    assert "AADSTS50089: Authentication failed due to flow token expired." in html
