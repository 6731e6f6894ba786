"""Every HTML page of the mock carries a Content-Security-Policy (inline blocks allowed by
hash only, `form-action` limited, no framing) and `X-Frame-Options: DENY`."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from mock_entra.web.page import content_security_policy, origin_source

from .conftest import ADELE, BASE, REDIRECT, TENANT, get_code, new_flow

_INLINE = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1>", re.S)


def ctx_of(html: str) -> str:
    return html.split('name="ctx" value="')[1].split('"')[0]


def login(client, ctx: str, step: str, **fields: str):
    return client.post(f"/{TENANT}/login", base_url=BASE, data={"ctx": ctx, "step": step, **fields})


def collect_pages(interceptor, client) -> dict[str, object]:
    """One response of each kind of page the mock serves."""
    pages: dict[str, object] = {}
    username = client.get(new_flow().auth_uri(prompt="consent"), base_url=BASE)
    pages["username"] = username
    ctx = ctx_of(username.get_data(as_text=True))
    pages["password"] = login(client, ctx, "username", loginfmt=ADELE[0])
    pages["kmsi"] = login(client, ctx, "password", passwd=ADELE[1])
    pages["consent"] = login(client, ctx, "kmsi", choice="No")
    pages["picker"] = client.get(new_flow().auth_uri(prompt="select_account"), base_url=BASE)
    pages["error"] = client.get(
        new_flow().auth_uri(redirect_uri="https://evil.example/cb"), base_url=BASE
    )
    pages["flow error"] = login(client, "stale", "username")
    get_code(interceptor, new_flow())  # an SSO session for the silent form_post below
    pages["form_post"] = client.get(
        new_flow().auth_uri(response_mode="form_post", prompt="none"), base_url=BASE
    )
    pages["signed out"] = client.get(f"/{TENANT}/oauth2/v2.0/logout", base_url=BASE)
    markers = {
        "username": 'id="i0116"',
        "password": 'id="idA_PWD_ForgotPassword"',
        "kmsi": 'id="KmsiCheckboxField"',
        "consent": "Permissions requested",
        "picker": "Pick an account",
        "error": "AADSTS50011",
        "flow error": "AADSTS90100",
        "form_post": 'name="hiddenform"',
        "signed out": 'id="signedOutTitle"',
    }
    for name, marker in markers.items():
        assert marker in pages[name].get_data(as_text=True), name
    landing = client.get("/", base_url=BASE)
    if landing.mimetype == "text/html":
        pages["landing"] = landing
    return pages


def directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, "no Content-Security-Policy"
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_every_mock_page_carries_a_csp_and_refuses_framing(interceptor, client):
    pages = collect_pages(interceptor, client)
    expected = {"username", "password", "kmsi", "consent", "picker", "error", "flow error"}
    assert expected | {"form_post", "signed out"} <= set(pages)
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.mimetype == "text/html", name
        assert response.headers.get("X-Frame-Options") == "DENY", name
        csp = directives(response)
        assert csp["default-src"] == ["'none'"], name
        assert csp["frame-ancestors"] == ["'none'"], name
        assert csp["form-action"][0] in ("'self'", "'none'"), name
        for tag, body in _INLINE.findall(html):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp[f"{tag}-src"], (name, tag)
        assert "'unsafe-inline'" not in str(csp), name
        assert " style=" not in html, name  # inline style attributes would need unsafe-hashes


def test_form_post_may_post_only_to_the_clients_redirect_uri_origin(interceptor, client):
    response = collect_pages(interceptor, client)["form_post"]
    assert "<form" in response.get_data(as_text=True)
    assert directives(response)["form-action"] == ["'self'", "http://localhost:5000"]


def test_sign_in_pages_allow_the_redirect_that_ends_their_last_post(client):
    # Chromium applies form-action to the redirects after a form submission.
    page = client.get(new_flow().auth_uri(), base_url=BASE)
    assert origin_source(REDIRECT) in directives(page)["form-action"]


@pytest.mark.parametrize(
    ("uri", "source"),
    [
        ("https://app.example:8443/cb?x=1", "https://app.example:8443"),
        ("http://localhost/cb", "http://localhost"),
        ("https://user@app.example/cb", "https://app.example"),
        ("msal6731de76://auth", "msal6731de76://auth"),
        ("https://app.example; script-src *", None),
        ("urn:ietf:wg:oauth:2.0:oob", None),
    ],
)
def test_redirect_uri_origins_are_safe_csp_sources(uri, source):
    assert origin_source(uri) == source


def test_inline_blocks_are_hashed_and_nothing_else_is_allowed():
    policy = content_security_policy("<p>no inline code</p>")
    assert "script-src 'none'" in policy and "style-src 'none'" in policy
