"""/profile: silent token from the session cache (refreshed when expired), Graph /me, errors."""

from __future__ import annotations

from client_app_fakes import ME, FakeIdP, sign_in
from flask.testing import FlaskClient


def test_profile_shows_the_graph_me_fields(client: FlaskClient, idp: FakeIdP) -> None:
    sign_in(client, idp)
    response = client.get("/profile")
    assert response.status_code == 200
    page = response.text
    for name in ("displayName", "userPrincipalName", "id", "mail", "jobTitle"):
        assert f'id="profile-{name}">{ME[name]}<' in page
    assert 'id="sign-out"' in page
    assert response.headers["Cache-Control"] == "no-store"
    # The access token from the auth-code redemption was used, from the session cache.
    assert idp.graph_tokens == [f"Bearer {idp.issued[0]['access_token']}"]
    assert [r["grant_type"] for r in idp.token_requests] == ["authorization_code"]


def test_profile_shows_unset_graph_properties_as_empty(client: FlaskClient, idp: FakeIdP) -> None:
    idp.graph_body = {**ME, "mail": None, "jobTitle": None}
    sign_in(client, idp)
    page = client.get("/profile").text
    assert 'id="profile-mail"></td>' in page
    assert 'id="profile-jobTitle"></td>' in page


def test_profile_refreshes_an_expired_access_token_with_the_refresh_token(
    client: FlaskClient, idp: FakeIdP
) -> None:
    # MSAL treats an access token with under 5 minutes left as expired.
    idp.expires_in = 60
    sign_in(client, idp)
    first_rt = idp.issued[0]["refresh_token"]
    assert client.get("/profile").status_code == 200
    refresh = idp.token_requests[-1]
    assert refresh["grant_type"] == "refresh_token"
    assert refresh["refresh_token"] == first_rt
    assert idp.graph_tokens == [f"Bearer {idp.issued[1]['access_token']}"]
    # The rotated refresh token was saved back into the session's cache.
    assert client.get("/profile").status_code == 200
    assert idp.token_requests[-1]["refresh_token"] == idp.issued[1]["refresh_token"]


def test_profile_when_signed_out_redirects_to_login(client: FlaskClient, idp: FakeIdP) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/profile"


def test_profile_when_refresh_fails_redirects_to_login(client: FlaskClient, idp: FakeIdP) -> None:
    idp.expires_in = 60
    sign_in(client, idp)
    idp.token_status = 400
    idp.token_body = {
        "error": "invalid_grant",
        "error_description": "AADSTS700082: The refresh token has expired due to inactivity.",
    }
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/profile"


def test_graph_401_is_a_502_page_with_the_graph_code(client: FlaskClient, idp: FakeIdP) -> None:
    sign_in(client, idp)
    idp.graph_status = 401
    idp.graph_body = {
        "error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}
    }
    response = client.get("/profile")
    assert response.status_code == 502
    assert 'id="error-code">InvalidAuthenticationToken<' in response.text
    assert "Access token is empty." in response.text


def test_graph_403_is_a_502_page_with_the_graph_code(client: FlaskClient, idp: FakeIdP) -> None:
    sign_in(client, idp)
    idp.graph_status = 403
    idp.graph_body = {
        "error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
        }
    }
    response = client.get("/profile")
    assert response.status_code == 502
    assert 'id="error-code">Authorization_RequestDenied<' in response.text


def test_graph_non_json_error_is_a_502(client: FlaskClient, idp: FakeIdP) -> None:
    from client_app_fakes import GRAPH

    sign_in(client, idp)
    idp.mock.replace("GET", f"{GRAPH}/me", status=502, body="Bad Gateway")
    response = client.get("/profile")
    assert response.status_code == 502
    assert 'id="error-title">Microsoft Graph refused the request<' in response.text


def test_graph_throttling_is_a_503_passing_on_retry_after(
    client: FlaskClient, idp: FakeIdP
) -> None:
    from client_app_fakes import GRAPH

    sign_in(client, idp)
    body = {"error": {"code": "TooManyRequests", "message": "Too many requests."}}
    idp.mock.replace("GET", f"{GRAPH}/me", status=429, json=body, headers={"Retry-After": "7"})
    response = client.get("/profile")
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert 'id="error-retry-after">7<' in response.text
