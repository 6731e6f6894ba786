"""The device authorization grant: `/devicecode`, the verification page (Entra's `#otc` and
`#idSIButton9`) leading into the ordinary sign-in pages, and the token endpoint's answers
while polling (authorization_pending 70016, authorization_declined,
bad_verification_code 70018, expired_token 70020), each with its HTTP status."""

from __future__ import annotations

import dataclasses
import re

from mock_entra.core.config import DEFAULT_CONFIG, AppRegistration, MockConfig
from mock_entra.core.signin.device_code import GRANT_TYPE
from mock_entra.intercept import MockEntraInterceptor

from .client_kinds import contoso_cli, in_process_fixtures, with_apps
from .conftest import ADELE, BASE, CLIENT_ID, SECRET, TENANT, assert_entra_error, claims_of
from .token_form import token_request

CLI = "6d1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
_CTX = re.compile(r'name="ctx" value="([^"]+)"')


def device_config() -> MockConfig:
    return with_apps(contoso_cli(CLI), device_code_interval=1)


mock, client = in_process_fixtures(device_config)


def start(
    client,
    client_id: str = CLI,
    segment: str = TENANT,
    scope: str = "User.Read",
    headers: dict[str, str] | None = None,
):
    return client.post(
        f"/{segment}/oauth2/v2.0/devicecode",
        base_url=BASE,
        data={"client_id": client_id, "scope": f"{scope} openid profile offline_access"},
        headers=headers or {},
    )


def poll(client, device_code: str, client_id: str = CLI, **extra: str):
    return token_request(
        client, client_id=client_id, grant_type=GRANT_TYPE, device_code=device_code, **extra
    )


def ctx_of(response) -> str:
    return _CTX.search(response.get_data(as_text=True)).group(1)


def enter_code(browser, user_code: str, *, confirm: str = "continue"):
    """The verification page in a (cookie-keeping) client, up to the username page."""
    page = browser.get("/devicelogin", base_url=BASE, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert 'name="otc" id="otc"' in html and 'id="idSIButton9"' in html
    confirm_page = browser.post(
        "/common/oauth2/deviceauth", base_url=BASE, data={"otc": user_code.lower()}
    )
    assert "Are you trying to sign in to" in confirm_page.get_data(as_text=True)
    return browser.post(
        "/common/login",
        base_url=BASE,
        data={"ctx": ctx_of(confirm_page), "step": "device_confirm", "choice": confirm},
    )


def sign_in(browser, user_code: str) -> str:
    page = enter_code(browser, user_code)
    for step, fields in (
        ("username", {"loginfmt": ADELE[0]}),
        ("password", {"passwd": ADELE[1]}),
        ("kmsi", {"choice": "no"}),
    ):
        page = browser.post(
            "/common/login", base_url=BASE, data={"ctx": ctx_of(page), "step": step, **fields}
        )
    return page.get_data(as_text=True)


def test_the_device_authorization_response_has_entras_fields(client):
    answer = start(client)
    body = answer.get_json()
    assert answer.status_code == 200
    assert set(body) == {
        "user_code",
        "device_code",
        "verification_uri",
        "expires_in",
        "interval",
        "message",
    }
    assert body["verification_uri"] == f"{BASE}/devicelogin"
    assert body["expires_in"] == 900 and body["interval"] == 1
    assert re.fullmatch(r"[A-Z0-9]{9}", body["user_code"])
    assert body["user_code"] in body["message"] and body["verification_uri"] in body["message"]


def test_device_code_answers_carry_cors_headers_only_for_a_browser(client):
    """Recorded device code and token answers to a server-side client (no `Origin`) carry no
    `Access-Control-*` header (Azure/azure-sdk-for-js@07ea93a:sdk/identity/identity/recordings/
    node/devicecodecredential/recording_authenticates_with_provided_values.json); a browser's
    request (with an `Origin`) gets Entra's CORS headers."""
    plain = start(client)
    assert plain.status_code == 200
    assert not [k for k, _ in plain.headers if k.lower().startswith("access-control-")]
    pending = poll(client, plain.get_json()["device_code"])
    assert pending.status_code == 400
    assert not [k for k, _ in pending.headers if k.lower().startswith("access-control-")]
    browser = start(client, headers={"Origin": "https://spa.example"})
    assert browser.status_code == 200
    assert browser.headers["Access-Control-Allow-Origin"] == "*"


def test_pending_however_fast_the_polls_then_tokens_once(mock, client, clock):
    flow = start(client).get_json()
    assert_entra_error(poll(client, flow["device_code"]), 400, "authorization_pending", 70016)
    # At once, faster than the interval: still pending (Entra documents no `slow_down`).
    again = poll(client, flow["device_code"])
    assert_entra_error(again, 400, "authorization_pending", 70016)
    done = sign_in(mock.app.test_client(), flow["user_code"])
    assert "You have signed in to the Contoso CLI application on your device" in done
    clock.advance(1)
    tokens = poll(client, flow["device_code"], client_info="1")
    assert tokens.status_code == 200, tokens.get_json()
    body = tokens.get_json()
    assert {"access_token", "id_token", "refresh_token", "client_info"} <= set(body)
    assert claims_of(body["id_token"])["aud"] == CLI
    assert "User.Read" in claims_of(body["access_token"])["scp"].split()
    again = poll(client, flow["device_code"])  # single use
    assert_entra_error(again, 400, "bad_verification_code", 70018)
    # A public client's refresh token: redeemed with no secret.
    refreshed = token_request(
        client, client_id=CLI, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert refreshed.status_code == 200


def test_a_wrong_user_code_is_said_on_the_page(client):
    start(client)
    page = client.post("/common/oauth2/deviceauth", base_url=BASE, data={"otc": "NOTACODE1"})
    html = page.get_data(as_text=True)
    assert 'id="otcError"' in html and "Check the code and try again" in html


def test_cancel_is_authorization_declined(mock, client):
    flow = start(client).get_json()
    page = enter_code(mock.app.test_client(), flow["user_code"], confirm="cancel")
    assert "declined" in page.get_data(as_text=True)
    answer = poll(client, flow["device_code"])
    assert_entra_error(answer, 400, "authorization_declined", 65004)


def test_an_expired_device_code_is_expired_token(client, clock):
    flow = start(client).get_json()
    clock.advance(901)
    assert_entra_error(poll(client, flow["device_code"]), 400, "expired_token", 70020)


def test_an_unknown_device_code_is_bad_verification_code(client):
    assert_entra_error(poll(client, "DAQABAAEAAADnope"), 400, "bad_verification_code", 70018)


def test_without_public_client_flows_polling_needs_the_secret(client):
    flow = start(client, client_id=CLIENT_ID).get_json()
    answer = poll(client, flow["device_code"], client_id=CLIENT_ID)
    assert_entra_error(answer, 401, "invalid_client", 7000218)
    pending = poll(client, flow["device_code"], client_id=CLIENT_ID, client_secret=SECRET)
    assert pending.get_json()["error"] == "authorization_pending"


def test_a_single_tenant_app_through_common_is_aadsts50194(client):
    assert_entra_error(start(client, segment="common"), 400, "invalid_request", 50194)


def test_an_unknown_scope_is_refused_at_devicecode(client):
    assert_entra_error(start(client, scope="Nope.Nope"), 400, "invalid_scope", 70011)


def test_public_client_flows_of_a_confidential_app_refresh_without_the_secret(state_dir, clock):
    """An app with a secret and "Allow public client flows": what it got through a public
    flow (device code, username/password) it refreshes as a public client."""
    tenant = DEFAULT_CONFIG.default_tenant
    web = dataclasses.replace(tenant.apps[0], is_fallback_public_client=True)
    config = dataclasses.replace(
        DEFAULT_CONFIG, tenants=(dataclasses.replace(tenant, apps=(web, *tenant.apps[1:])),)
    )
    with MockEntraInterceptor(config, state_dir=state_dir, clock=clock) as mock:
        client = mock.app.test_client()
        password = token_request(
            client,
            client_id=CLIENT_ID,
            grant_type="password",
            username=ADELE[0],
            password=ADELE[1],
            scope="openid profile offline_access",
        )
        assert password.status_code == 200, password.get_json()
        refreshed = token_request(
            client,
            client_id=CLIENT_ID,
            grant_type="refresh_token",
            refresh_token=password.get_json()["refresh_token"],
        )
        assert refreshed.status_code == 200, refreshed.get_json()


def test_a_device_code_from_consumers_refuses_work_accounts(state_dir, clock):
    tenant = DEFAULT_CONFIG.default_tenant
    both = AppRegistration(
        client_id=CLI,
        display_name="Both",
        is_fallback_public_client=True,
        sign_in_audience="AzureADandPersonalMicrosoftAccount",
        require_consent=False,
    )
    config = dataclasses.replace(
        DEFAULT_CONFIG, tenants=(dataclasses.replace(tenant, apps=(*tenant.apps, both)),)
    )
    with MockEntraInterceptor(config, state_dir=state_dir, clock=clock) as mock:
        client = mock.app.test_client()
        flow = start(client, segment="consumers").get_json()
        browser = mock.app.test_client()
        page = enter_code(browser, flow["user_code"])
        page = browser.post(
            "/common/login",
            base_url=BASE,
            data={"ctx": ctx_of(page), "step": "username", "loginfmt": ADELE[0]},
        )
        html = page.get_data(as_text=True)
        assert 'id="usernameError"' in html and "work or school account" in html


def test_the_v1_endpoint_answers_in_the_v1_shape(client):
    """`/oauth2/devicecode` (v1, a `resource`): `verification_url`, and `expires_in` and
    `interval` as strings, as ADAL reads them; v2 keeps `verification_uri` and integers."""
    v1 = client.post(
        f"/{TENANT}/oauth2/devicecode",
        base_url=BASE,
        data={"client_id": CLI, "resource": "https://graph.microsoft.com"},
    ).get_json()
    assert v1["verification_url"] == f"{BASE}/devicelogin" and "verification_uri" not in v1
    assert v1["expires_in"] == "900" and isinstance(v1["interval"], str)
    v2 = start(client).get_json()
    assert v2["verification_uri"] == f"{BASE}/devicelogin" and "verification_url" not in v2
    assert v2["expires_in"] == 900 and isinstance(v2["interval"], int)
