"""Smart lockout (Learn, "Protect user accounts from attacks with Microsoft Entra smart
lockout"): after `lockout_threshold` wrong passwords (10) the account is locked for
`lockout_duration` (60 s), the right password included: AADSTS50053 at the token endpoint,
Entra's locked message on the sign-in page (test_smart_lockout_page.py). A wrong password
repeated counts once; each failure after a lockout locks again, for longer; the mock's clock
ends a lockout (no sleeps).
ROPC from a browser (an `Origin`) is refused before any password is checked, and its answers
carry no CORS headers: no web page can use its visitors' browsers to guess passwords.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import msal
import pytest

from mock_entra.core.config import DEFAULT_CONFIG, DEFAULT_TENANT_ID, ConfigError, load_config
from mock_entra.intercept import LOGIN_HOST, MockEntraInterceptor

from .client_kinds import PUBLIC_ID, client_kinds_config, client_kinds_fixtures
from .conftest import ADELE, MEGAN, assert_entra_error

AUTHORITY = f"https://{LOGIN_HOST}/{DEFAULT_TENANT_ID}"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:msal.application")


mock, _fresh = client_kinds_fixtures("lockout")


def ropc(user: str, password: str) -> dict:
    """MSAL's password grant, from a new app each time: an app answers a request it sent
    before, and that got a 400, from its own cache for 60 s (MSAL Python's throttling)."""
    app = msal.PublicClientApplication(PUBLIC_ID, authority=AUTHORITY)
    return app.acquire_token_by_username_password(user, password, scopes=["User.Read"])


def codes(result: dict) -> list[int]:
    return result.get("error_codes", [])


def fail(times: int, user: str = ADELE[0], tag: str = "") -> None:
    """`times` different wrong passwords, each refused as wrong (AADSTS50126)."""
    for n in range(times):
        assert codes(ropc(user, f"guess-{tag}{n}")) == [50126]


def _ropc_post(mock: MockEntraInterceptor, password: str, **headers: str):
    form = {"grant_type": "password", "client_id": PUBLIC_ID, "scope": "User.Read"}
    form |= {"username": ADELE[0], "password": password}
    return mock.app.test_client().post(
        f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data=form,
        headers=headers,
        base_url=f"https://{LOGIN_HOST}",
    )


def test_msal_ropc_is_locked_out_after_ten_wrong_passwords(mock):
    fail(10)
    locked = ropc(*ADELE)  # the right password, while locked
    assert locked["error"] == "invalid_grant" and codes(locked) == [50053], locked
    assert locked["error_description"].startswith(
        "AADSTS50053: The account is locked, you've tried to sign in too many times with an "
        "incorrect user ID or password."
    )
    assert codes(ropc(ADELE[0], "guess-0")) == [50053]  # nothing is checked
    assert "access_token" in ropc(*MEGAN)  # another user is not locked
    mock.clock.advance(59)
    assert codes(ropc(*ADELE)) == [50053]
    mock.clock.advance(2)  # the lockout's 60 s are over
    assert "access_token" in ropc(*ADELE)
    fail(9, tag="again-")  # the sign-in cleared the count
    assert "access_token" in ropc(*ADELE)


def test_a_wrong_password_repeated_counts_once(mock):
    for _ in range(30):
        assert codes(ropc(ADELE[0], "Passw0rd!0")) == [50126]
    fail(8)  # nine different wrong passwords in all: under the threshold
    assert "access_token" in ropc(*ADELE)


def test_each_failure_after_a_lockout_locks_again_for_longer(mock):
    fail(10)
    mock.clock.advance(61)
    fail(1, tag="after-")  # wrong, and locked again: 120 s this time
    assert codes(ropc(*ADELE)) == [50053]
    mock.clock.advance(61)
    assert codes(ropc(*ADELE)) == [50053]
    mock.clock.advance(60)
    assert "access_token" in ropc(*ADELE)


def test_threshold_and_duration_come_from_the_config(state_dir, clock):
    config = dataclasses.replace(client_kinds_config(), lockout_threshold=3, lockout_duration=5)
    other = MockEntraInterceptor(config, state_dir=state_dir, clock=clock)  # not started
    for n in range(3):
        assert _ropc_post(other, f"guess-{n}").get_json()["error_codes"] == [50126]
    assert _ropc_post(other, ADELE[1]).get_json()["error_codes"] == [50053]
    clock.advance(6)
    assert _ropc_post(other, ADELE[1]).status_code == 200


def test_the_config_file_sets_them_and_refuses_nonsense(tmp_path):
    path = tmp_path / "mock.toml"
    path.write_text('extends = "defaults"\nlockout_threshold = 3\nlockout_duration = 5\n')
    config = load_config(path)
    assert (config.lockout_threshold, config.lockout_duration) == (3, 5)
    assert (DEFAULT_CONFIG.lockout_threshold, DEFAULT_CONFIG.lockout_duration) == (10, 60)
    path.write_text('extends = "defaults"\nlockout_threshold = 0\nlockout_duration = "1m"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).splitlines() == [
        f"{path}: lockout_threshold: expected a whole number of failed sign-ins from 1 to "
        "1000000, got 0",
        f"{path}: lockout_duration: expected a whole number of seconds from 1 to 315360000, "
        'got the string "1m"',
    ]


def test_parallel_guesses_are_counted_exactly(mock):
    """A burst of guesses from parallel threads, as the probe sent them (33,676 in 10 s):
    only the threshold's worth is ever checked; the right password is refused after them."""
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: _ropc_post(mock, f"guess-{n}"), range(300)))
    found = [a.get_json()["error_codes"] for a in answers]
    assert found.count([50126]) == 10 and found.count([50053]) == 290
    assert _ropc_post(mock, ADELE[1]).get_json()["error_codes"] == [50053]


# -- no password oracle for web pages -----------------------------------------------------------


def test_ropc_from_a_browser_is_refused_unread_and_unreadable(mock):
    """Entra refuses a password grant that carries an `Origin` with AADSTS9002326 and no
    `Access-Control-Allow-Origin` (MicrosoftDocs/azure-docs#75699): the page that sent it
    cannot read the answer, and the password is not checked (right or wrong: the same)."""
    for password in (ADELE[1], "wrong"):
        answer = _ropc_post(mock, password, Origin="https://evil.example")
        body = assert_entra_error(answer, 400, "invalid_request", 9002326)
        assert "https://evil.example" in body["error_description"]
        assert "Access-Control-Allow-Origin" not in answer.headers
    # Guesses from web pages lock nobody out: they were never checked.
    for n in range(20):
        _ropc_post(mock, f"guess-{n}", Origin="https://evil.example")
    assert _ropc_post(mock, ADELE[1]).status_code == 200


def test_no_cors_headers_on_any_password_grant_answer(mock):
    for answer in (_ropc_post(mock, ADELE[1]), _ropc_post(mock, "wrong")):
        assert "Access-Control-Allow-Origin" not in answer.headers
    # Other grants keep Entra's CORS for a browser: a SPA reads its errors (and its tokens).
    other = mock.app.test_client().post(
        f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data={"grant_type": "refresh_token", "client_id": PUBLIC_ID, "refresh_token": "x"},
        base_url=f"https://{LOGIN_HOST}",
        headers={"Origin": "https://spa.example"},
    )
    assert other.headers["Access-Control-Allow-Origin"] == "*"
