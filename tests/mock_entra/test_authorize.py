"""The authorize endpoint: Entra's page errors, redirected errors, prompt, response modes."""

from __future__ import annotations

from urllib.parse import urlencode

from .conftest import ADELE, BASE, CLIENT_ID, MEGAN, REDIRECT, TENANT, new_flow, query_of


def authorize(client, **params):
    base = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile User.Read",
        "state": "st",
    }
    base.update(params)
    base = {k: v for k, v in base.items() if v is not None}
    return client.get(f"/{TENANT}/oauth2/v2.0/authorize?{urlencode(base)}", base_url=BASE)


def page_error(response) -> str:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Sorry, but we're having trouble signing you in." in html
    assert 'id="service_exception_message"' in html
    return html


def test_unregistered_redirect_uri_is_shown_on_the_page_with_aadsts50011(client):
    html = page_error(authorize(client, redirect_uri="https://evil.example/cb"))
    assert "AADSTS50011" in html and "https://evil.example/cb" in html


def test_redirect_uri_match_is_exact(client):
    for variant in (REDIRECT + "/", REDIRECT.upper().replace("HTTP:", "http:"), REDIRECT + "?x=1"):
        assert "AADSTS50011" in page_error(authorize(client, redirect_uri=variant))


def test_unknown_client_is_shown_on_the_page_with_aadsts700016(client):
    html = page_error(authorize(client, client_id="00000000-0000-0000-0000-00000000dead"))
    assert "AADSTS700016" in html and "Contoso" in html


def test_unknown_tenant_is_shown_on_the_page_with_aadsts90002(client):
    response = client.get(
        f"/no-such-tenant/oauth2/v2.0/authorize?client_id={CLIENT_ID}", base_url=BASE
    )
    assert "AADSTS90002" in page_error(response)


def test_missing_redirect_uri_is_shown_on_the_page_with_aadsts900971(client):
    assert "AADSTS900971" in page_error(authorize(client, redirect_uri=None))


def test_error_page_escapes_what_the_request_sent(client):
    html = page_error(authorize(client, redirect_uri="https://x/</script><script>alert(1)"))
    assert "<script>alert(1)" not in html


def test_missing_response_type_is_redirected_with_aadsts900144(client):
    response = authorize(client, response_type=None)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?error=invalid_request")
    q = query_of(response.headers["Location"])
    assert list(q) == ["error", "error_description", "error_uri", "state"]
    assert q["error_description"].startswith("AADSTS900144:")
    assert "%3a" in response.headers["Location"]  # .NET-style lower-case escapes
    assert q["state"] == "st"


def test_token_response_type_is_redirected_as_unsupported(client):
    q = query_of(authorize(client, response_type="id_token").headers["Location"])
    assert q["error"] == "unsupported_response_type"
    assert q["error_description"].startswith("AADSTS700054:")


def test_an_access_token_from_authorize_is_aadsts700051(client):
    # The implicit grant's access token, not enabled for the app: AADSTS700051 (observed in
    # AzureAD/microsoft-authentication-library-for-js#766), not id_token's AADSTS700054.
    for response_type in ("token", "id_token token"):
        q = query_of(authorize(client, response_type=response_type).headers["Location"])
        assert q["error"] == "unsupported_response_type"
        assert q["error_description"].startswith(
            "AADSTS700051: response_type 'token' is not enabled for the application."
        )


def test_invalid_scope_is_redirected_with_aadsts70011(client):
    q = query_of(authorize(client, scope="openid Not.AScope").headers["Location"])
    assert q["error"] == "invalid_scope" and q["error_description"].startswith("AADSTS70011:")


def test_two_resources_in_one_request_are_refused_with_aadsts28000(client):
    q = query_of(
        authorize(client, scope="User.Read api://entra-lab-api/Forecast.Read").headers["Location"]
    )
    assert q["error"] == "invalid_scope" and q["error_description"].startswith("AADSTS28000:")


def test_unknown_resource_is_redirected_with_aadsts500011(client):
    q = query_of(authorize(client, scope="api://unknown/x").headers["Location"])
    assert q["error"] == "invalid_resource"
    assert q["error_description"].startswith("AADSTS500011:")


def test_bad_code_challenge_is_redirected_with_aadsts501491(client):
    q = query_of(
        authorize(client, code_challenge="short", code_challenge_method="S256").headers["Location"]
    )
    assert q["error_description"].startswith("AADSTS501491:")


def test_sign_in_page_copies_entras_element_ids(client):
    html = authorize(client).get_data(as_text=True)
    assert 'id="i0116"' in html and 'name="loginfmt"' in html and 'id="idSIButton9"' in html


def test_prompt_none_without_a_session_is_login_required(client):
    q = query_of(authorize(client, prompt="none").headers["Location"])
    assert q["error"] == "login_required" and q["error_description"].startswith("AADSTS50058:")


def test_prompt_none_with_a_session_signs_in_silently(interceptor):
    client = interceptor.app.test_client()
    flow = new_flow()
    _walk(client, flow.auth_uri(), ADELE)
    silent = client.get(flow.auth_uri(prompt="none").removeprefix(BASE), base_url=BASE)
    assert silent.status_code == 302 and "code=" in silent.headers["Location"]


def test_prompt_none_without_consent_is_consent_required(interceptor):
    client = interceptor.app.test_client()
    flow = new_flow()
    _walk(client, flow.auth_uri(), ADELE)
    other = new_flow(scope="Mail.Read openid")
    q = query_of(
        client.get(other.auth_uri(prompt="none").removeprefix(BASE), base_url=BASE).headers[
            "Location"
        ]
    )
    assert q["error"] == "consent_required"


def test_sso_session_skips_the_password_and_prompt_login_forces_it(interceptor):
    client = interceptor.app.test_client()
    _walk(client, new_flow().auth_uri(), ADELE)
    again = client.get(new_flow().auth_uri().removeprefix(BASE), base_url=BASE)
    assert again.status_code == 302
    forced = client.get(new_flow().auth_uri(prompt="login").removeprefix(BASE), base_url=BASE)
    assert forced.status_code == 200 and 'id="i0116"' in forced.get_data(as_text=True)


def test_account_picker_lists_signed_in_accounts(interceptor):
    client = interceptor.app.test_client()
    _walk(client, new_flow().auth_uri(), ADELE)
    _walk(client, new_flow().auth_uri(prompt="login"), MEGAN)
    picker = client.get(new_flow().auth_uri().removeprefix(BASE), base_url=BASE)
    html = picker.get_data(as_text=True)
    assert "Pick an account" in html
    assert f'data-test-id="{ADELE[0]}"' in html and f'data-test-id="{MEGAN[0]}"' in html
    assert 'id="otherTile"' in html


def test_wrong_password_and_unknown_user_are_shown_on_the_page(client):
    html = authorize(client).get_data(as_text=True)
    ctx = html.split('name="ctx" value="')[1].split('"')[0]
    unknown = client.post(
        f"/{TENANT}/login",
        base_url=BASE,
        data={"ctx": ctx, "step": "username", "loginfmt": "nobody@x.com"},
    )
    assert 'id="usernameError"' in unknown.get_data(as_text=True)
    client.post(
        f"/{TENANT}/login",
        base_url=BASE,
        data={"ctx": ctx, "step": "username", "loginfmt": ADELE[0]},
    )
    wrong = client.post(
        f"/{TENANT}/login", base_url=BASE, data={"ctx": ctx, "step": "password", "passwd": "nope"}
    )
    text = wrong.get_data(as_text=True)
    assert 'id="passwordError"' in text and "incorrect" in text


def test_declined_consent_is_access_denied_with_aadsts65004(interceptor):
    flow = new_flow()
    q = interceptor.sign_in(flow.auth_uri(), *ADELE, consent=False)
    assert q["error"] == "access_denied" and q["error_subcode"] == "cancel"
    assert q["error_description"].startswith("AADSTS65004:") and q["state"] == flow.state


def test_form_post_response_mode_posts_the_code(interceptor):
    client = interceptor.app.test_client()
    flow = new_flow()
    html = _walk(client, flow.auth_uri(response_mode="form_post"), ADELE, final_status=200)
    assert f'action="{REDIRECT}"' in html and 'name="code"' in html
    assert f'name="state" value="{flow.state}"' in html and 'name="client_info"' in html


def test_unknown_parameters_are_ignored(interceptor):
    flow = new_flow()
    q = interceptor.sign_in(flow.auth_uri(**{"X-AnchorMailbox": "UPN:a@b", "foo": "bar"}), *ADELE)
    assert "code" in q


def test_logout_redirects_only_to_registered_uris(client):
    ok = client.get(
        f"/{TENANT}/oauth2/v2.0/logout?post_logout_redirect_uri=http://localhost:5000/",
        base_url=BASE,
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "http://localhost:5000/"
    bad = client.get(
        f"/{TENANT}/oauth2/v2.0/logout?post_logout_redirect_uri=https://evil.example/",
        base_url=BASE,
    )
    assert bad.status_code == 200 and "You signed out" in bad.get_data(as_text=True)


def test_logout_by_a_plain_get_ends_the_sso_session_as_entras_does(interceptor):
    """Decided (docs/hardening.md, finding 13): Entra's end-session endpoint signs out on a
    GET with no token or client named (Learn's sign-out request), so a cross-site link does
    too; what such a link can do is sign the user out, nothing more."""
    client = interceptor.app.test_client()
    _walk(client, new_flow().auth_uri(), ADELE)
    out = client.get(
        f"/{TENANT}/oauth2/v2.0/logout", base_url=BASE, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert out.status_code == 200 and "You signed out" in out.get_data(as_text=True)
    again = client.get(new_flow().auth_uri().removeprefix(BASE), base_url=BASE)
    assert 'id="i0116"' in again.get_data(as_text=True)


def test_logout_ends_the_sso_session(interceptor):
    client = interceptor.app.test_client()
    _walk(client, new_flow().auth_uri(), ADELE)
    client.get(f"/{TENANT}/oauth2/v2.0/logout", base_url=BASE)
    again = client.get(new_flow().auth_uri().removeprefix(BASE), base_url=BASE)
    assert again.status_code == 200 and 'id="i0116"' in again.get_data(as_text=True)


def _walk(client, auth_uri: str, user: tuple[str, str], final_status: int = 302) -> str:
    """Sign in through the pages with this client (keeping its SSO cookie)."""
    page = client.get(auth_uri.removeprefix(BASE), base_url=BASE)
    for step, fields in (
        ("username", {"loginfmt": user[0]}),
        ("password", {"passwd": user[1]}),
        ("kmsi", {"choice": "yes"}),
        ("consent", {"choice": "accept"}),
    ):
        html = page.get_data(as_text=True)
        if page.status_code != 200 or f'value="{step}"' not in html:
            continue
        ctx = html.split('name="ctx" value="')[1].split('"')[0]
        page = client.post(
            f"/{TENANT}/login", base_url=BASE, data={"ctx": ctx, "step": step, **fields}
        )
    assert page.status_code == final_status, page.get_data(as_text=True)[:300]
    return page.get_data(as_text=True)
