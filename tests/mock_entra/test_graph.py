"""The fake Microsoft Graph: /me, /users/{id}, $select, and Graph's token checks."""

from __future__ import annotations

from .conftest import BASE, get_code, new_flow, redeem
from .token_form import app_only_token

ADELE_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
# A user's properties without $select, in the order Graph serves them (Learn "Get user",
# https://learn.microsoft.com/en-us/graph/api/user-get).
USER_DEFAULT_PROPERTIES = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
]


def user_token(interceptor, client, scope: str = "User.Read offline_access openid profile"):
    flow = new_flow(scope=scope)
    return redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()


def graph_error(response, status: int, code: str) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"]["code"] == code
    inner = body["error"]["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"} and "Z" not in inner["date"]
    return body


def test_me_returns_graphs_user_shape(interceptor, client):
    token = user_token(interceptor, client)["access_token"]
    response = client.get("/v1.0/me", base_url=BASE, headers={"Authorization": f"Bearer {token}"})
    body = response.get_json()
    assert response.status_code == 200
    assert list(body) == ["@odata.context", *USER_DEFAULT_PROPERTIES]
    assert body["id"] == ADELE_ID and body["displayName"] == "Adele Vance"
    assert body["@odata.context"].endswith("/v1.0/$metadata#users/$entity")
    assert response.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")


def test_me_with_select_returns_only_those_properties(interceptor, client):
    token = user_token(interceptor, client)["access_token"]
    body = client.get(
        "/v1.0/me?$select=displayName,jobTitle",
        base_url=BASE,
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()
    assert list(body) == ["@odata.context", "displayName", "jobTitle"]
    assert "users(displayName,jobTitle)" in body["@odata.context"]


def test_unknown_select_property_is_a_bad_request(interceptor, client):
    token = user_token(interceptor, client)["access_token"]
    graph_error(
        client.get(
            "/v1.0/me?$select=nope", base_url=BASE, headers={"Authorization": f"Bearer {token}"}
        ),
        400,
        "Request_BadRequest",
    )


def test_missing_token_is_invalid_authentication_token(client):
    body = graph_error(client.get("/v1.0/me", base_url=BASE), 401, "InvalidAuthenticationToken")
    assert body["error"]["message"] == "Access token is empty."


def test_401_carries_graphs_www_authenticate(client):
    response = client.get("/v1.0/me", base_url=BASE, headers={"Authorization": "Bearer x.y.z"})
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm=""')


def test_expired_token_is_refused(interceptor, client, clock):
    token = user_token(interceptor, client)["access_token"]
    clock.advance(2 * 3600)
    body = graph_error(
        client.get("/v1.0/me", base_url=BASE, headers={"Authorization": f"Bearer {token}"}),
        401,
        "InvalidAuthenticationToken",
    )
    assert "expired" in body["error"]["message"]


def test_id_token_is_not_accepted_by_graph(interceptor, client):
    id_token = user_token(interceptor, client)["id_token"]
    graph_error(
        client.get("/v1.0/me", base_url=BASE, headers={"Authorization": f"Bearer {id_token}"}),
        401,
        "InvalidAuthenticationToken",
    )


def test_token_without_a_user_read_scope_is_denied(interceptor, client):
    token = user_token(interceptor, client, "Mail.Read openid profile")["access_token"]
    graph_error(
        client.get("/v1.0/me", base_url=BASE, headers={"Authorization": f"Bearer {token}"}),
        403,
        "Authorization_RequestDenied",
    )


def test_app_token_on_me_is_a_bad_request_and_reads_users(client):
    token = app_only_token(client).get_json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    graph_error(client.get("/v1.0/me", base_url=BASE, headers=auth), 400, "BadRequest")
    user = client.get("/v1.0/users/megan@contoso.onmicrosoft.com", base_url=BASE, headers=auth)
    assert user.status_code == 200 and user.get_json()["displayName"] == "Megan Bowen"
    graph_error(
        client.get("/v1.0/users/nobody", base_url=BASE, headers=auth),
        404,
        "Request_ResourceNotFound",
    )


def test_user_read_reads_self_but_not_others(interceptor, client):
    token = user_token(interceptor, client)["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/v1.0/users/{ADELE_ID}", base_url=BASE, headers=auth).status_code == 200
    graph_error(
        client.get("/v1.0/users/megan@contoso.onmicrosoft.com", base_url=BASE, headers=auth),
        403,
        "Authorization_RequestDenied",
    )


def test_userinfo_returns_the_id_tokens_subject(interceptor, client):
    tokens = user_token(interceptor, client, "User.Read openid profile email")
    body = client.get(
        "/oidc/userinfo",
        base_url=BASE,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).get_json()
    from .conftest import claims_of

    assert body["sub"] == claims_of(tokens["id_token"])["sub"]
    assert body["name"] == "Adele Vance" and body["email"] == "adele@contoso.onmicrosoft.com"
