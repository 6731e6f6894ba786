"""SSO session fixation: a credential sign-in always starts a new SSO session id (OWASP,
"Session Management Cheat Sheet": renew the session id after authentication), so a session id
planted in the victim's browser never becomes the victim's session.

The attack, over HTTPS with requests on the live mock: cookies ignore ports, so a page on any
http://localhost port can set the mock's `ESTSAUTH` in a victim's browser. The attacker plants
the id of a session of their own; the victim signs in with a password; the attacker then asks
for the victim's code with `prompt=none&login_hint=victim` and that planted id.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from http.cookiejar import Cookie
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import DEFAULT_CLIENT_ID, DEFAULT_REDIRECT_URI, DEFAULT_TENANT_ID
from mock_entra.web.signin import SSO_COOKIE

from .conftest import ADELE, MEGAN, pkce_pair
from .signin_http import http_sign_in


def auth_uri(mock: MockEntra, **extra: str) -> str:
    params = {
        "client_id": DEFAULT_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "scope": "openid profile User.Read",
        "state": secrets.token_urlsafe(8),
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{mock.base_url}/{DEFAULT_TENANT_ID}/oauth2/v2.0/authorize?{urlencode(params)}"


def sso_cookie(http: TrustingSession) -> Cookie:
    (cookie,) = [c for c in http.cookies if c.name == SSO_COOKIE]
    return cookie


def silent(mock: MockEntra, http: TrustingSession, username: str) -> dict[str, str]:
    """`prompt=none&login_hint=username` with this browser's cookies: what comes back."""
    answer = http.get(auth_uri(mock, prompt="none", login_hint=username), allow_redirects=False)
    assert answer.status_code == 302, answer.text[:300]
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


@pytest.fixture
def browsers(mock_entra: MockEntra) -> Iterator[tuple[TrustingSession, TrustingSession]]:
    with (
        TrustingSession(mock_entra.ca_bundle) as attacker,
        TrustingSession(mock_entra.ca_bundle) as victim,
    ):
        yield attacker, victim


def test_a_planted_session_id_does_not_become_the_victims_session(mock_entra, browsers):
    attacker, victim = browsers
    # The attacker signs in as themself, and plants that session's id in the victim's browser.
    assert "code" in http_sign_in(attacker, mock_entra.base_url, auth_uri(mock_entra), MEGAN)
    planted = sso_cookie(attacker)
    victim.cookies.set_cookie(copy.copy(planted))
    # The victim signs in with their password (an app asking for it again: prompt=login).
    done = http_sign_in(victim, mock_entra.base_url, auth_uri(mock_entra, prompt="login"), ADELE)
    assert "code" in done
    # The victim's browser now holds a session id of its own, not the planted one.
    assert sso_cookie(victim).value != planted.value
    # The planted id gets nothing: no session (it was replaced at the sign-in), AADSTS50058.
    stolen = silent(mock_entra, attacker, ADELE[0])
    assert "code" not in stolen and stolen.get("error") == "login_required", stolen
    assert stolen["error_description"].startswith("AADSTS50058:")
    # The victim's own new session signs them in silently.
    assert "code" in silent(mock_entra, victim, ADELE[0])


def test_every_password_sign_in_starts_a_new_session_id_keeping_the_accounts(mock_entra, browsers):
    _, browser = browsers
    http_sign_in(browser, mock_entra.base_url, auth_uri(mock_entra), ADELE)
    first = sso_cookie(browser).value
    http_sign_in(browser, mock_entra.base_url, auth_uri(mock_entra, prompt="login"), MEGAN)
    second = sso_cookie(browser).value
    assert second != first
    # Both accounts are still signed in in this browser (the account picker's tiles) ...
    picker = browser.get(auth_uri(mock_entra), allow_redirects=False).text
    assert f'data-test-id="{ADELE[0]}"' in picker and f'data-test-id="{MEGAN[0]}"' in picker
    # ... and the old id never gained the new account: a copy of it kept elsewhere (or planted)
    # still has only what it had, as a copy of an earlier Entra session cookie does.
    with TrustingSession(mock_entra.ca_bundle) as other:
        old = copy.copy(sso_cookie(browser))
        old.value = first
        other.cookies.set_cookie(old)
        assert silent(mock_entra, other, MEGAN[0])["error"] == "login_required"
        assert "code" in silent(mock_entra, other, ADELE[0])


def test_a_login_hint_for_a_user_not_signed_in_here_is_not_answered_with_another(
    mock_entra, browsers
):
    """A hint names the session to use (Learn, "Silent login with ssoSilent()"): with only
    Adele signed in, a silent request for Megan is login_required (it used to return Adele's
    code), and an interactive one asks for Megan's password instead of continuing as Adele."""
    _, browser = browsers
    http_sign_in(browser, mock_entra.base_url, auth_uri(mock_entra), ADELE)
    answer = silent(mock_entra, browser, MEGAN[0])
    assert answer["error"] == "login_required" and "AADSTS50058" in answer["error_description"]
    page = browser.get(auth_uri(mock_entra, login_hint=MEGAN[0]), allow_redirects=False)
    assert page.status_code == 200 and MEGAN[0] in page.text
    assert "code" in silent(mock_entra, browser, ADELE[0])
