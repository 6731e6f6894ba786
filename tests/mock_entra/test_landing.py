"""The mock's own pages: a landing page at `/` and at the authority URLs (HTML, escaped, under a
strict CSP; JSON on `Accept: application/json`), `/healthz` and `/ca.pem`."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from markupsafe import escape
from werkzeug.test import Client

from mock_entra.core.config import DEFAULT_CLIENT_SECRET, DEFAULT_CONFIG, TestUser
from mock_entra.pytest_plugin import copy_keys
from mock_entra.web.wsgi import create_app

BASE = "https://localhost:8443"
TENANT = DEFAULT_CONFIG.default_tenant
HOSTILE = '<script>alert("x")</script>&'

CONFIG = dataclasses.replace(
    DEFAULT_CONFIG,
    tenants=(
        dataclasses.replace(
            TENANT,
            users=(
                *TENANT.users,
                TestUser(
                    username="eve@contoso.onmicrosoft.com",
                    password=HOSTILE,
                    display_name=HOSTILE,
                    object_id="0f6d1b3a-2c4e-4f5a-8b9c-1d2e3f4a5b6c",
                ),
            ),
        ),
    ),
)


@pytest.fixture(scope="module")
def client(key_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Client:
    """One in-process mock for the module (pages are read-only)."""
    state = copy_keys(key_template, tmp_path_factory.mktemp("landing") / "state")
    return create_app(CONFIG, state_dir=state).test_client()


def get(client: Client, path: str, accept: str | None = "text/html"):
    headers = {"Accept": accept} if accept else {}
    return client.get(path, base_url=BASE, headers=headers)


@pytest.mark.parametrize(
    "path",
    ["/", f"/{TENANT.tenant_id}", f"/{TENANT.tenant_id}/v2.0", "/contoso.onmicrosoft.com/"],
)
def test_the_landing_page_lists_tenants_apps_users_endpoints_and_ca(client: Client, path: str):
    response = get(client, path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True).replace("<wbr>", "")  # line-break hints in URLs
    authority = f"{BASE}/{TENANT.tenant_id}"
    for expected in (
        "Contoso",
        TENANT.tenant_id,
        authority,
        f"{authority}/v2.0/.well-known/openid-configuration",
        f"{authority}/oauth2/v2.0/token",
        f"{authority}/discovery/v2.0/keys",
        f"{BASE}/v1.0",
        *(app.client_id for app in TENANT.apps),
        "http://localhost:5000/getAToken",
        "adele@contoso.onmicrosoft.com",
        "Passw0rd!1",
        "ca.pem",
        "NODE_EXTRA_CA_CERTS=",
        "REQUESTS_CA_BUNDLE=",
    ):
        assert expected in page, expected
    assert DEFAULT_CLIENT_SECRET not in page  # never a client secret


def test_the_landing_page_escapes_config_values_and_has_a_strict_csp(client: Client):
    response = get(client, "/")
    page = response.get_data(as_text=True)
    assert HOSTILE not in page and "<script" not in page
    assert str(escape(HOSTILE)) in page
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert "frame-ancestors 'none'" in csp and "form-action 'none'" in csp
    assert "unsafe-inline" not in csp and "script-src" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_style_hash_in_the_csp_matches_the_inline_style(client: Client):
    import base64
    import hashlib
    import re

    response = get(client, "/")
    style = re.search(r"<style>(.*?)</style>", response.get_data(as_text=True), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]


def test_accept_json_gives_the_same_content_as_json(client: Client):
    response = get(client, f"/{TENANT.tenant_id}/v2.0", accept="application/json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    [tenant] = body["tenants"]
    assert tenant["tenant_id"] == TENANT.tenant_id
    assert tenant["endpoints"]["token_endpoint"] == f"{BASE}/{TENANT.tenant_id}/oauth2/v2.0/token"
    assert [a["client_id"] for a in tenant["apps"]] == [a.client_id for a in TENANT.apps]
    assert tenant["apps"][0]["redirect_uris"] == ["http://localhost:5000/getAToken"]
    assert tenant["users"][-1]["display_name"] == HOSTILE  # JSON carries it verbatim
    assert body["ca"]["ca_file"].endswith("ca.pem") and body["graph_endpoint"] == f"{BASE}/v1.0"
    assert DEFAULT_CLIENT_SECRET not in response.get_data(as_text=True)
    assert "Accept" in response.headers["Vary"]


def test_each_app_is_labelled_for_what_it_is(client: Client):
    page = get(client, "/").get_data(as_text=True)
    kinds = re.findall(r'<td class="app-kind">(.*?)</td>', page)
    assert kinds == [
        "confidential client (secret or certificate)",
        "web API exposing Forecast.Read",
    ]
    assert "public or API" not in page
    apps = get(client, "/", accept="application/json").get_json()["tenants"][0]["apps"]
    assert [a["kind"] for a in apps] == kinds


LONG_URI = "https://contoso-sales.azurewebsites.net/signin/oidc/callback/handler/getAToken"


def test_a_redirect_uri_wraps_only_between_words_in_a_narrow_window(
    key_template: Path, tmp_path: Path, lab_browser
):
    # A real Chromium lays the page out 360 px wide: the URI must wrap, and only after a
    # "/" (or a "-"), never inside a word (as `overflow-wrap: anywhere` did: "getATo|ken").
    from mock_entra.core.config import with_redirect_uris

    state = copy_keys(key_template, tmp_path / "state")
    html = get(
        create_app(with_redirect_uris(CONFIG, [LONG_URI]), state_dir=state).test_client(), "/"
    )
    context = lab_browser.new_context(viewport={"width": 360, "height": 800})
    try:
        page = context.new_page()
        page.set_content(html.get_data(as_text=True))
        cell = page.locator("td code", has_text="contoso-sales")
        assert cell.inner_text().replace("\n", "") == LONG_URI
        breaks = cell.evaluate(LINE_BREAKS)
    finally:
        context.close()
    assert breaks, "the URI did not wrap at all: the test proves nothing"
    inside_words = [pair for pair in breaks if pair[0].isalnum() and pair[1].isalnum()]
    assert not inside_words, breaks
    assert any(before == "/" for before, _ in breaks), breaks


# The (character before, character after) of each line break inside an element's text.
LINE_BREAKS = """(element) => {
  const chars = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      chars.push([node.data[i], range.getBoundingClientRect().top]);
    }
  }
  const breaks = [];
  for (let i = 1; i < chars.length; i++) {
    if (chars[i][1] > chars[i - 1][1] + 1) breaks.push([chars[i - 1][0], chars[i][0]]);
  }
  return breaks;
}"""


def test_a_browser_accept_header_gets_html(client: Client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert get(client, "/", accept=browser).mimetype == "text/html"
    assert get(client, "/", accept=None).mimetype == "text/html"  # curl's */*


def test_an_unknown_tenant_at_the_authority_url_is_aadsts90002(client: Client):
    response = get(client, "/not-a-tenant", accept="application/json")
    assert response.status_code == 400
    assert response.get_json()["error_codes"] == [90002]


def test_healthz_is_200_ok(client: Client):
    response = get(client, "/healthz", accept=None)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_the_ca_certificate_is_served(client: Client, key_template: Path):
    response = get(client, "/ca.pem", accept=None)
    assert response.status_code == 200
    assert response.data == (key_template / "ca.pem").read_bytes()
    assert b"PRIVATE" not in response.data


def test_favicon_is_not_a_tenant(client: Client):
    assert get(client, "/favicon.ico", accept=None).status_code == 204
