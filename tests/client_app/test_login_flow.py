"""The auth-code flow end to end against the fake IdP: redirect, callback, failures, logout."""

from __future__ import annotations

import base64
import hashlib
import re
import warnings
from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

import msal
import pytest
import requests
import responses
from client_app_fakes import (
    AUTHORITY,
    CLIENT_ID,
    REDIRECT_URI,
    TENANT_ID,
    FakeIdP,
    SigningKey,
    csrf_token_of,
    sign_in,
    sign_out,
    start_login,
)
from flask import Flask
from flask.testing import FlaskClient

from client_app import Settings, create_app
from client_app.identity import quiet_query_mode_advice


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def signed_in(client: FlaskClient) -> bool:
    return 'id="user-name"' in client.get("/").text


# -- /login ------------------------------------------------------------------------------


def test_login_redirects_to_authorize_with_pkce_s256_state_and_nonce(
    client: FlaskClient, idp: FakeIdP
) -> None:
    location = start_login(client)
    assert location.startswith(f"{AUTHORITY}/oauth2/v2.0/authorize?")
    query = query_of(location)
    assert query["client_id"] == CLIENT_ID
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["response_mode"] == "query"
    assert set(query["scope"].split()) == {"User.Read", "openid", "profile", "offline_access"}
    assert query["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"])
    assert len(query["state"]) >= 16
    assert re.fullmatch(r"[0-9a-f]{64}", query["nonce"])
    assert "prompt" not in query


def test_each_login_gets_a_fresh_state_nonce_and_challenge(
    client: FlaskClient, idp: FakeIdP
) -> None:
    first, second = query_of(start_login(client)), query_of(start_login(client))
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name]


@pytest.mark.parametrize("prompt", ["login", "select_account", "consent", "none"])
def test_login_passes_an_allowed_prompt(client: FlaskClient, idp: FakeIdP, prompt: str) -> None:
    assert query_of(start_login(client, f"/login?prompt={prompt}"))["prompt"] == prompt


def test_login_ignores_an_unknown_prompt(client: FlaskClient, idp: FakeIdP) -> None:
    assert "prompt" not in query_of(start_login(client, "/login?prompt=create%20evil"))


def test_login_with_form_post_asks_for_form_post(settings: Settings, idp: FakeIdP) -> None:
    form_client = create_app(replace(settings, response_mode="form_post")).test_client()
    assert query_of(start_login(form_client))["response_mode"] == "form_post"


def test_an_https_app_asks_for_form_post_and_msal_stays_silent(
    env: dict[str, str], idp: FakeIdP
) -> None:
    settings = Settings.from_env({**env, "REDIRECT_URI": "https://app.example/getAToken"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        location = start_login(create_app(settings).test_client())
    assert query_of(location)["response_mode"] == "form_post"
    assert [str(w.message) for w in caught] == []


def test_query_mode_quiets_only_msals_form_post_advice(
    settings: Settings, client: FlaskClient, idp: FakeIdP
) -> None:
    assert settings.response_mode == "query"  # an http redirect URI
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start_login(client)
        assert ["form_post' is recommended" in str(w.message) for w in caught] == [True]
        caught.clear()
        quiet_query_mode_advice(settings)
        start_login(client)
        warnings.warn("another warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["another warning"]


def test_pkce_verifier_sent_to_token_endpoint_matches_the_challenge(
    client: FlaskClient, idp: FakeIdP
) -> None:
    location = start_login(client)
    client.get("/getAToken", query_string=idp.authorize(location))
    verifier = idp.token_requests[0]["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert challenge == query_of(location)["code_challenge"]
    assert idp.token_requests[0]["redirect_uri"] == REDIRECT_URI


# -- callback: success -------------------------------------------------------------------


def test_callback_in_query_mode_signs_the_user_in(client: FlaskClient, idp: FakeIdP) -> None:
    response = sign_in(client, idp)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/").text
    assert 'id="user-name">Adele Vance<' in page
    assert 'id="sign-out"' in page
    assert idp.token_requests[0]["grant_type"] == "authorization_code"


def test_callback_in_form_post_mode_signs_the_user_in(client: FlaskClient, idp: FakeIdP) -> None:
    response = sign_in(client, idp, form_post=True)
    assert response.status_code == 302
    assert signed_in(client)


def test_successful_sign_in_replaces_the_session_id(client: FlaskClient, idp: FakeIdP) -> None:
    start_login(client)
    before = client.get_cookie("entra_lab_session")
    assert before is not None
    # Start a fresh login so the flow is the one in this session, then finish it.
    params = idp.authorize(start_login(client))
    client.get("/getAToken", query_string=params)
    after = client.get_cookie("entra_lab_session")
    assert after is not None and after.value != before.value


def test_after_sign_in_the_user_goes_to_the_stored_next_path(
    client: FlaskClient, idp: FakeIdP
) -> None:
    params = idp.authorize(start_login(client, "/login?next=/profile%3Ftab%3D1"))
    response = client.get("/getAToken", query_string=params)
    assert response.headers["Location"] == "/profile?tab=1"


@pytest.mark.parametrize(
    "next_value",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\r\nSet-Cookie:x=y",
    ],
)
def test_next_cannot_make_login_an_open_redirect(
    client: FlaskClient, idp: FakeIdP, next_value: str
) -> None:
    params = idp.authorize(start_login(client, "/login?" + urlencode({"next": next_value})))
    assert client.get("/getAToken", query_string=params).headers["Location"] == "/"


# -- callback: refused -------------------------------------------------------------------


def assert_refused_and_empty(client: FlaskClient, response: object, status: int) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert 'id="error-title"' in response.text  # type: ignore[attr-defined]
    with client.session_transaction() as session:
        assert "user" not in session
        assert "token_cache" not in session
        assert "auth_flow" not in session
    assert not signed_in(client)


def test_forged_state_is_refused_and_changes_nothing(client: FlaskClient, idp: FakeIdP) -> None:
    params = idp.authorize(start_login(client))
    forged = {**params, "state": "forged-state-from-an-attacker"}
    response = client.get("/getAToken", query_string=forged)
    assert response.status_code == 400
    assert "invalid or expired" in response.text
    assert idp.token_requests == []  # the attacker's code was never redeemed
    assert not signed_in(client)
    # The user's own sign-in, pending all along, still completes.
    assert client.get("/getAToken", query_string=params).status_code == 302
    assert signed_in(client)


def test_replayed_callback_is_refused_and_signs_nobody_in(
    app: Flask, client: FlaskClient, idp: FakeIdP
) -> None:
    params = idp.authorize(start_login(client))
    assert client.get("/getAToken", query_string=params).status_code == 302
    attacker = app.test_client()
    assert_refused_and_empty(attacker, attacker.get("/getAToken", query_string=params), 400)
    assert len(idp.token_requests) == 1


def test_callback_without_a_pending_flow_is_refused(
    app: Flask, client: FlaskClient, idp: FakeIdP
) -> None:
    # A callback in a browser that never started a login (e.g. login CSRF).
    other_browser = app.test_client()
    params = idp.authorize(start_login(other_browser))
    response = client.get("/getAToken", query_string=params)
    assert_refused_and_empty(client, response, 400)
    assert idp.token_requests == []


@pytest.mark.parametrize("pending", [False, True], ids=["no-pending-sign-in", "pending-sign-in"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_forged_callback_leaves_the_signed_in_user_signed_in(
    client: FlaskClient, idp: FakeIdP, pending: bool, method: str
) -> None:
    sign_in(client, idp)
    if pending:
        start_login(client)  # e.g. a sign-in started in another tab, not finished
    with client.session_transaction() as before:
        kept = {k: before[k] for k in ("user", "token_cache", "auth_flow") if k in before}
    forged = {"code": "x", "state": "y"}
    if method == "GET":
        response = client.get("/getAToken", query_string=forged)
    else:
        response = client.post("/getAToken", data=forged)
    assert response.status_code == 400
    assert 'id="error-code">invalid_state<' in response.text
    with client.session_transaction() as after:
        assert {k: after[k] for k in kept} == kept
    assert signed_in(client)
    assert client.get("/profile").status_code == 200
    assert len(idp.token_requests) == 1  # only the real sign-in's code was redeemed


def test_a_failed_new_sign_in_keeps_the_previous_user(client: FlaskClient, idp: FakeIdP) -> None:
    sign_in(client, idp)
    state = query_of(start_login(client, "/login?prompt=select_account"))["state"]
    response = client.get("/getAToken", query_string={"error": "access_denied", "state": state})
    assert response.status_code == 403
    assert signed_in(client)
    with client.session_transaction() as session:
        assert "auth_flow" not in session  # the flow was used up


def test_callback_with_neither_code_nor_error_is_refused(client: FlaskClient, idp: FakeIdP) -> None:
    state = query_of(start_login(client))["state"]
    response = client.get("/getAToken", query_string={"state": state})
    assert_refused_and_empty(client, response, 400)


def test_user_cancel_access_denied_shows_a_403_with_the_code(
    client: FlaskClient, idp: FakeIdP
) -> None:
    state = query_of(start_login(client))["state"]
    response = client.get(
        "/getAToken",
        query_string={"error": "access_denied", "error_subcode": "cancel", "state": state},
    )
    assert_refused_and_empty(client, response, 403)
    assert 'id="error-code">access_denied<' in response.text


def test_declined_consent_aadsts65004_shows_the_entra_code(
    client: FlaskClient, idp: FakeIdP
) -> None:
    state = query_of(start_login(client))["state"]
    description = (
        "AADSTS65004: User declined to consent to access the app.\r\n"
        "Trace ID: 9bee0922-7158-44b3-8b22-4addd9225901\r\n"
        "Correlation ID: 6abae31d-3a08-4b95-8299-7d7ace789a59\r\n"
        "Timestamp: 2021-07-19 23:21:09Z"
    )
    response = client.get(
        "/getAToken",
        query_string={"error": "access_denied", "error_description": description, "state": state},
    )
    assert_refused_and_empty(client, response, 403)
    assert 'id="error-aadsts">AADSTS65004<' in response.text
    assert "User declined to consent to access the app." in response.text
    assert "Trace ID" not in response.text


def test_idp_error_other_than_access_denied_is_a_400(client: FlaskClient, idp: FakeIdP) -> None:
    state = query_of(start_login(client))["state"]
    response = client.get(
        "/getAToken",
        query_string={
            "error": "invalid_request",
            "error_description": "AADSTS900144: The request body must contain 'scope'.",
            "state": state,
        },
    )
    assert_refused_and_empty(client, response, 400)
    assert 'id="error-aadsts">AADSTS900144<' in response.text


def test_nonce_mismatch_is_refused_and_no_token_is_kept(client: FlaskClient, idp: FakeIdP) -> None:
    idp.id_token_overrides = {"nonce": "0" * 64}
    response = sign_in(client, idp)
    assert_refused_and_empty(client, response, 400)
    assert 'id="error-code">invalid_nonce<' in response.text


def test_token_endpoint_error_json_is_a_502_with_the_aadsts_code(
    client: FlaskClient, idp: FakeIdP
) -> None:
    idp.token_status = 400
    idp.token_body = {
        "error": "invalid_grant",
        "error_description": "AADSTS54005: OAuth2 Authorization code was already redeemed.\r\n"
        "Trace ID: x\r\nCorrelation ID: y\r\nTimestamp: z",
        "error_codes": [54005],
    }
    response = sign_in(client, idp)
    assert_refused_and_empty(client, response, 502)
    assert 'id="error-code">invalid_grant<' in response.text
    assert 'id="error-aadsts">AADSTS54005<' in response.text


def test_token_endpoint_http_500_is_a_502(client: FlaskClient, idp: FakeIdP) -> None:
    idp.token_status = 500
    response = sign_in(client, idp)
    assert_refused_and_empty(client, response, 502)
    assert 'id="error-code">idp_unavailable<' in response.text


def test_token_endpoint_not_json_is_a_502(client: FlaskClient, idp: FakeIdP) -> None:
    idp.mock.replace("POST", f"{AUTHORITY}/oauth2/v2.0/token", body="<html>oops</html>")
    response = sign_in(client, idp)
    assert_refused_and_empty(client, response, 502)


def test_unreachable_token_endpoint_is_a_502(client: FlaskClient, idp: FakeIdP) -> None:
    idp.mock.replace(
        "POST", f"{AUTHORITY}/oauth2/v2.0/token", body=requests.ConnectionError("refused")
    )
    response = sign_in(client, idp)
    assert_refused_and_empty(client, response, 502)


def test_unreachable_discovery_at_login_is_a_502(client: FlaskClient, idp: FakeIdP) -> None:
    idp.mock.replace(
        "GET", f"{AUTHORITY}/v2.0/.well-known/openid-configuration", status=503, body="down"
    )
    response = client.get("/login")
    assert response.status_code == 502
    assert 'id="error-code">idp_unavailable<' in response.text


# -- logout ------------------------------------------------------------------------------

ENTRA_LOGOUT = (
    f"{AUTHORITY}/oauth2/v2.0/logout?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A5000%2F"
)


def test_sign_out_form_clears_the_session_and_redirects_to_entra_logout(
    client: FlaskClient, idp: FakeIdP
) -> None:
    sign_in(client, idp)
    response = sign_out(client)
    assert response.status_code == 302
    assert response.headers["Location"] == ENTRA_LOGOUT
    assert client.get_cookie("entra_lab_session") is None
    assert not signed_in(client)


def test_get_logout_only_asks_and_keeps_the_user_signed_in(
    client: FlaskClient, idp: FakeIdP
) -> None:
    # What a cross-site link or a top-level navigation to /logout does (Lax cookies go along).
    sign_in(client, idp)
    response = client.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
    assert 'id="confirm-sign-out"' in response.text
    assert csrf_token_of(response.text)  # the confirmation is the Sign-out form itself
    assert signed_in(client)


def test_get_logout_when_signed_out_goes_home(client: FlaskClient) -> None:
    response = client.get("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "form", [{}, {"csrf_token": ""}, {"csrf_token": "guessed"}], ids=["none", "empty", "wrong"]
)
def test_post_logout_without_the_token_is_refused_and_keeps_the_session(
    client: FlaskClient, idp: FakeIdP, form: dict[str, str]
) -> None:
    sign_in(client, idp)
    session_id = client.get_cookie("entra_lab_session").value
    response = client.post("/logout", data=form)
    assert response.status_code == 400
    assert 'id="error-code">invalid_csrf_token<' in response.text
    # The same session id (its cookie's expiry may be refreshed by the request).
    assert client.get_cookie("entra_lab_session").value == session_id
    assert signed_in(client)


def test_cross_site_post_is_refused_even_with_the_token(client: FlaskClient, idp: FakeIdP) -> None:
    sign_in(client, idp)
    token = csrf_token_of(client.get("/").text)
    response = client.post(
        "/logout", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert 'id="error-code">cross_site_request<' in response.text
    assert signed_in(client)


def test_another_sessions_token_does_not_sign_this_one_out(
    app: Flask, client: FlaskClient, idp: FakeIdP
) -> None:
    sign_in(client, idp)
    attacker = app.test_client()
    sign_in(attacker, idp)
    response = client.post("/logout", data={"csrf_token": csrf_token_of(attacker.get("/").text)})
    assert response.status_code == 400
    assert signed_in(client)


def test_sign_in_gives_a_new_csrf_token(client: FlaskClient, idp: FakeIdP) -> None:
    sign_in(client, idp)
    first = csrf_token_of(client.get("/").text)
    assert csrf_token_of(client.get("/profile").text) == first  # stable within the session
    sign_in(client, idp)
    assert csrf_token_of(client.get("/").text) != first


# -- instance discovery ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"), [("login.microsoftonline.com", True), ("login.entra-lab.test", False)]
)
def test_msal_gets_instance_discovery_from_the_authority_host(
    settings: Settings,
    signing_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    expected: bool,
) -> None:
    seen: list[object] = []
    real = msal.ConfidentialClientApplication

    def spy(*args: object, **kwargs: object) -> msal.ConfidentialClientApplication:
        seen.append(kwargs["instance_discovery"])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(msal, "ConfidentialClientApplication", spy)
    authority = f"https://{host}/{TENANT_ID}"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeIdP(mock=mock, key=signing_key, authority=authority)
        fake.install()
        # MSAL's alias lookup on a Microsoft host; must never be needed for the mock.
        mock.add(
            responses.GET,
            "https://login.microsoftonline.com/common/discovery/instance",
            json={"api-version": "1.1", "metadata": []},
        )
        client = create_app(replace(settings, authority=authority)).test_client()
        assert sign_in(client, fake).status_code == 302
        assert client.get("/profile").status_code == 200
    assert seen and set(seen) == {expected}
