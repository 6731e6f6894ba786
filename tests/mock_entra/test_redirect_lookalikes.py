"""Redirect URIs that look like a registered one but are not (issue 18, finding 5), sent to the
live mock's authorize endpoint over HTTPS: each gets Entra's AADSTS50011 page, never a
redirect. Entra compares the string the app registered (case and all), with two documented
exceptions only: the port of a `localhost`/`127.0.0.1` URI, and the trailing "/" of a URI
without a path (`mock_entra.core.config.redirects`)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import AppRegistration, redirects

from .conftest import ADELE, CLIENT_ID, REDIRECT, SECRET
from .signin_http import http_sign_in

assert REDIRECT == "http://localhost:5000/getAToken"  # the look-alikes below imitate it

LOOKALIKES = [
    # A browser goes to the host after the "@" (user info before it): evil.example here ...
    "http://localhost:5000@evil.example/getAToken",
    # ... and here urlsplit reads localhost, while a browser reads "\" as "/": evil.example.
    "http://evil.example\\@localhost:5000/getAToken",
    "http://evil.example@localhost:5000/getAToken",
    "http:\\\\localhost:5000\\getAToken",
    "http://localhost:5000\\getAToken",
    # Whitespace and control characters that URL parsers strip or drop.
    " http://localhost:5000/getAToken",
    "\thttp://localhost:5000/getAToken",
    "\nhttp://localhost:5000/getAToken",
    "http://localhost:5000/getAToken\n",
    "http://localhost:5000/get\tAToken",
    "http://local\nhost:5000/getAToken",
    "http://localhost:5000/getAToken ",
    # Case: Entra compares the registered string ("did not match because of case sensitivity").
    "HTTP://localhost:5000/getAToken",
    "http://LOCALHOST:5000/getAToken",
    "http://localhost:5000/getatoken",
    # An empty query or fragment, an empty port, a trailing slash or dot.
    "http://localhost:5000/getAToken?",
    "http://localhost:5000/getAToken#",
    "http://localhost:/getAToken",
    "http://localhost:5000/getAToken/",
    "http://localhost.:5000/getAToken",
    # Another loopback name than the registered one (the port rule keeps the host).
    "http://127.0.0.1:5000/getAToken",
    "http://[::1]:5000/getAToken",
    "https://localhost:5000/getAToken",
]

LEGITIMATE = [
    REDIRECT,
    "http://localhost:53117/getAToken",  # Learn: the port of a localhost URI is ignored
    "http://localhost/getAToken",
]


@pytest.fixture(scope="module")
def http(mock_entra_server: MockEntra) -> TrustingSession:
    return TrustingSession(mock_entra_server.ca_bundle)


def authorize_url(mock: MockEntra, redirect_uri: str) -> str:
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "openid profile User.Read",
            "state": "st",
        }
    )
    return f"{mock.authority}/oauth2/v2.0/authorize?{query}"


@pytest.mark.parametrize("asked", LOOKALIKES)
def test_a_lookalike_gets_the_aadsts50011_page_not_a_redirect(
    mock_entra: MockEntra, http: TrustingSession, asked: str
):
    response = http.get(authorize_url(mock_entra, asked), allow_redirects=False)
    assert response.status_code == 200, response.text[:300]
    assert "Location" not in response.headers
    assert "AADSTS50011" in response.text
    assert 'name="loginfmt"' not in response.text  # no sign-in form: nothing can follow


@pytest.mark.parametrize("asked", LEGITIMATE)
def test_the_registered_uri_and_its_localhost_ports_still_sign_in(
    mock_entra: MockEntra, http: TrustingSession, asked: str
):
    page = http.get(authorize_url(mock_entra, asked), allow_redirects=False)
    assert page.status_code == 200 and 'name="loginfmt"' in page.text, page.text[:300]


def test_a_code_sent_to_another_localhost_port_is_redeemed_there(
    mock_entra: MockEntra, http: TrustingSession
):
    asked = "http://localhost:53117/getAToken"
    params = http_sign_in(http, mock_entra.base_url, authorize_url(mock_entra, asked), ADELE)
    token = http.post(
        f"{mock_entra.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": asked,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        },
    )
    assert token.status_code == 200, token.text[:300]
    assert params["state"] == "st"


# -- the matcher, for any look-alike -----------------------------------------------------------

APP = AppRegistration(
    client_id="4c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    display_name="Look-alikes",
    redirect_uris=("https://app.example/cb", "http://localhost:5000/getAToken"),
    spa_redirect_uris=("https://spa.example",),
    public_client_redirect_uris=("http://127.0.0.1/native", "msal4c1d://auth"),
)
REGISTERED = [r.uri for r in redirects.registered(APP)]
# Characters whose insertion anywhere changes where a browser goes, or the string Entra
# compares; none of them can turn a registered URI into another registered form (digits can:
# a port; "/" can: the trailing slash of a URI without a path).
INSERTED = " \t\n\r\x00\x0b\x7f\\@?#%:;.!$&'()*+,=[]{}|^`\"<>~-_aZ\u00a0\u2028\ufeff"


@given(
    uri=st.sampled_from(REGISTERED),
    at=st.integers(min_value=0, max_value=64),
    char=st.sampled_from(INSERTED),
)
def test_no_registered_uri_with_a_character_inserted_matches(uri: str, at: int, char: str):
    at = min(at, len(uri))
    asked = uri[:at] + char + uri[at:]
    assert redirects.match(APP, asked) is None, repr(asked)


@given(uri=st.sampled_from(REGISTERED), at=st.integers(min_value=0, max_value=64))
def test_no_registered_uri_with_a_letter_of_another_case_matches(uri: str, at: int):
    letters = [i for i, c in enumerate(uri) if c.isalpha()]
    i = letters[at % len(letters)]
    asked = uri[:i] + uri[i].swapcase() + uri[i + 1 :]
    assert redirects.match(APP, asked) is None, repr(asked)


@given(port=st.integers(min_value=1, max_value=65535))
def test_any_port_of_a_registered_loopback_uri_matches(port: int):
    for registered, asked in (
        ("http://localhost:5000/getAToken", f"http://localhost:{port}/getAToken"),
        ("http://127.0.0.1/native", f"http://127.0.0.1:{port}/native"),
    ):
        found = redirects.match(APP, asked)
        assert found is not None and found.uri == registered


@given(port=st.integers(min_value=1, max_value=65535))
@example(port=443)  # the default port written out is another string too
def test_no_other_port_of_a_https_uri_matches(port: int):
    assert redirects.match(APP, f"https://app.example:{port}/cb") is None
