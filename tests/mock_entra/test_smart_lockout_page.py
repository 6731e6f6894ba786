"""Smart lockout on the sign-in page, over HTTPS on the live mock (requests, as a browser
walks the pages): after ten wrong passwords the password page shows Entra's locked message in
`#passwordError`, the right password included, until the mock's clock has moved past the
lockout; the page and the password grant share one count per user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.trust import TrustingSession
from mock_entra import MockEntra
from mock_entra.core.config import DEFAULT_TENANT_ID

from .conftest import ADELE
from .test_sso_fixation import auth_uri

# Learn, "Protect user accounts from attacks with Microsoft Entra smart lockout".
LOCKED_TEXT = "Your account is temporarily locked to prevent unauthorized use."


@pytest.fixture
def live(mock_entra: MockEntra) -> Iterator[MockEntra]:
    start = mock_entra.clock.now()
    yield mock_entra
    mock_entra.clock.advance(start - mock_entra.clock.now())  # as it was, for the next test


def _password_page(http: TrustingSession, mock: MockEntra) -> tuple[str, str]:
    """A new sign-in up to its password page: (post URL, ctx)."""
    page = http.get(auth_uri(mock, prompt="login"), allow_redirects=False).text
    ctx = page.split('name="ctx" value="')[1].split('"')[0]
    url = f"{mock.base_url}/{DEFAULT_TENANT_ID}/login"
    answer = http.post(url, data={"ctx": ctx, "step": "username", "loginfmt": ADELE[0]})
    assert 'id="i0118"' in answer.text
    return url, ctx


def test_the_sign_in_page_locks_after_ten_wrong_passwords(live):
    with TrustingSession(live.ca_bundle) as http:
        url, ctx = _password_page(http, live)

        def password(value: str) -> str:
            return http.post(url, data={"ctx": ctx, "step": "password", "passwd": value}).text

        for n in range(10):
            assert "Your account or password is incorrect" in password(f"guess-{n}")
        locked = password(ADELE[1])
        assert 'id="passwordError"' in locked and LOCKED_TEXT in locked
        assert 'id="i0118"' in locked and 'id="kmsiTitle"' not in locked
        live.clock.advance(61)
        assert 'id="kmsiTitle"' in password(ADELE[1])  # signed in: "Stay signed in?"


def test_page_and_ropc_share_one_count(live):
    """Wrong passwords on the page lock the password grant too (one lockout per user)."""
    with TrustingSession(live.ca_bundle) as http:
        url, ctx = _password_page(http, live)
        for n in range(10):
            http.post(url, data={"ctx": ctx, "step": "password", "passwd": f"guess-{n}"})
        info = live.info()
        answer = http.post(
            f"{live.authority}/oauth2/v2.0/token",
            data={
                "grant_type": "password",
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "username": ADELE[0],
                "password": ADELE[1],
                "scope": "User.Read",
            },
        )
        assert answer.json()["error_codes"] == [50053], answer.text
