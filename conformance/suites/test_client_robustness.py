"""Client robustness: `client_app` facing Entra and Graph misbehaving, one fault scenario at a
time (`mock_entra.core.faults`), asserted in the browser as a user meets it.

What a correct client does (OpenID Connect Core 3.1.3.7; Learn, "Validate tokens", "Handle
errors and exceptions in MSAL Python", "Microsoft Graph throttling guidance", "Claims
challenges"): refuse a bad ID token with an error page and keep no session; report a failing
or throttling identity provider or Graph with its `Retry-After`; refetch the JWKS once on an
unknown `kid` and accept a rotated key; sign in again on `invalid_grant`,
`interaction_required`, `consent_required` and a claims challenge.

Scenarios are grouped (one browser context each, a cheap SSO sign-in per scenario) so the
suite costs seconds; each scenario's outcome is recorded as the observation
`scenario:<name>` (see `conformance.scenario_table`, which turns them into the README table),
and the test fails if any scenario of its group did. `OIDF` names the OpenID Foundation
relying-party certification test a scenario mirrors, where there is one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from conformance.browser_fixtures import SignedInStates
from conformance.pages.app import AppErrorPage, HomePage, ProfilePage
from conformance.targets import Target, User

pytestmark = pytest.mark.mock_only

# Scenario -> the app's error code on its error page (HTTP 400, no session).
BAD_ID_TOKENS = {
    "id_token.wrong_iss": "invalid_id_token",  # OIDF oidcc-client-test-invalid-iss
    "id_token.wrong_aud": "invalid_id_token",  # OIDF oidcc-client-test-invalid-aud
    "id_token.missing_aud": "invalid_id_token",  # OIDF oidcc-client-test-missing-aud
    "id_token.missing_iat": "invalid_id_token",  # OIDF oidcc-client-test-missing-iat
    "id_token.expired": "invalid_id_token",
    "id_token.nbf_future": "invalid_id_token",
    "id_token.bad_signature": "invalid_id_token",  # OIDF oidcc-client-test-invalid-sig-rs256
    "id_token.alg_none": "invalid_id_token",
    "id_token.unknown_kid": "invalid_id_token",
    "id_token.no_kid": "invalid_id_token",  # OIDF oidcc-client-test-kid-absent-multiple-jwks
    "id_token.wrong_nonce": "invalid_nonce",  # OIDF oidcc-client-test-nonce-invalid
    "redirect.state_altered": "invalid_state",
}
# Scenario -> (HTTP status of the app's page, its error code, Retry-After passed on). MSAL
# raises for a 5xx (the app cannot read its body); a 429's body says temporarily_unavailable.
FAILING_TOKEN_ENDPOINT = {
    "token.timeout": (502, "idp_unavailable", None),
    "token.not_json": (502, "idp_unavailable", None),
    "token.server_error": (502, "idp_unavailable", None),
    "token.unavailable": (503, "idp_unavailable", 1),
    "token.throttled": (503, "temporarily_unavailable", 1),
}
TOKEN_TIMEOUT = 4  # the stack's app gives up after HTTP_TIMEOUT=3 seconds
# MSAL answers the token requests that follow a 5xx or 429 from its throttle cache, without
# calling the endpoint, for Retry-After seconds, else 5 (AzureAD/microsoft-authentication-
# library-for-python, msal/throttled_http_client.py, `RetryAfterParser`):
# the next scenario waits that out, so that its own faulty answer is the one the app sees.
MSAL_THROTTLE_DEFAULT = 5
# These wait out the app's whole HTTP timeout, or MSAL's 5-second window after a 5xx without
# Retry-After: a test of their own, marked `slow` (entra-lab's plain run skips it, CI runs it).
WAITING_TOKEN_FAILURES = ("token.timeout", "token.not_json", "token.server_error")
MOCK_STATUS = {  # what the mock's token endpoint answered the app (the stalled one: late)
    "token.timeout": 200,
    "token.not_json": 502,
    "token.server_error": 500,
    "token.unavailable": 503,
    "token.throttled": 429,
}
SIGN_IN_STILL_WORKS = ("token.no_expires_in", "redirect.missing_client_info")
SILENT_FAILURES = (
    "refresh.expired",
    "refresh.password_changed",
    "silent.mfa_required",
    "silent.consent_required",
)
# Scenario -> (HTTP status, Graph's code, Retry-After passed on). A throttled Graph call is
# retried once after its Retry-After (the app's HTTP client, as MSAL's and Graph's SDKs do):
# only a second refusal reaches the user.
GRAPH_FAILURES = {
    "graph.forbidden": (502, "Authorization_RequestDenied", None),
    "graph.throttled": (503, "TooManyRequests", 1),
    "graph.unavailable": (503, "serviceNotAvailable", 1),
}


class Outcomes:
    """Each scenario's outcome, recorded as an observation; failures collected, not raised,
    so one failing scenario does not hide the others of its group."""

    def __init__(self, observe: Callable[[str, Any], None]) -> None:
        self.observe = observe
        self.failures: list[str] = []

    @contextlib.contextmanager
    def check(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except Exception as error:  # AssertionError, or Playwright's timeout on an expect
            message = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
            self.failures.append(f"{name}: {message}")
            self.observe(f"scenario:{name}", f"failed: {message}")
        else:
            self.observe(f"scenario:{name}", "passed")
        finally:
            self.observe(f"seconds:{name}", round(time.monotonic() - started, 2))

    def assert_all_passed(self) -> None:
        assert not self.failures, "\n".join(self.failures)


@pytest.fixture
def outcomes(observe: Callable[[str, Any], None]) -> Iterator[Outcomes]:
    yield Outcomes(observe)


@pytest.fixture
def mock(target: Target) -> Any:
    if target.mock is None:
        pytest.fail("needs --target mock")
    return target.mock


@pytest.fixture
def fresh_page(
    new_context: Callable[..., BrowserContext], signed_in_states: SignedInStates, user: User
) -> Callable[[], Page]:
    """A new page holding only `user`'s Entra session: `/login` completes without a page."""

    def make() -> Page:
        page = new_context(storage_state=str(signed_in_states.sso_state(user))).new_page()
        page.set_default_timeout(15_000)
        return page

    return make


def _expect_no_session(page: Page, target: Target) -> None:
    """The app's home page, fetched with the browser's cookies, names nobody."""
    home = page.context.request.get(target.app("/"))
    assert home.ok and 'id="sign-in"' in home.text() and 'id="user-name"' not in home.text()


def _requests_since(mock: Any, mark: int) -> list[dict[str, Any]]:
    return mock.requests()[mark:]


def _grants(entries: list[dict[str, Any]]) -> list[str]:
    return [
        (e.get("form") or {}).get("grant_type", [""])[0]
        for e in entries
        if e["path"].endswith("/oauth2/v2.0/token")
    ]


def test_a_bad_id_token_or_state_is_refused_with_an_error_page_and_no_session(
    fresh_page: Callable[[], Page], target: Target, mock: Any, outcomes: Outcomes
) -> None:
    page = fresh_page()
    for name, code in BAD_ID_TOKENS.items():
        with outcomes.check(name), mock.scenario(name, client_id=target.client_id, times=1):
            mark = len(mock.requests())
            response = page.goto(target.app("/login"))
            assert response is not None and response.status == 400, response and response.status
            AppErrorPage(page).expect_error(code=code)
            _expect_no_session(page, target)
            if name == "id_token.unknown_kid":
                # Refetched once for a key that might be new (rollover), never in a loop.
                keys = [e for e in _requests_since(mock, mark) if e["path"].endswith("/keys")]
                assert len(keys) <= 1, f"the app fetched the JWKS {len(keys)} times"
    outcomes.assert_all_passed()


def test_a_rotated_signing_key_is_fetched_once_and_accepted(
    fresh_page: Callable[[], Page], target: Target, user: User, mock: Any, outcomes: Outcomes
) -> None:
    """OIDF oidcc-client-test-signing-key-rotation; the JWKS being down meanwhile is an
    error page, not a 500 and not a session."""
    page = fresh_page()
    home = HomePage(page, target)
    with mock.scenario("keys.rotated"):
        with outcomes.check("jwks.unavailable"), mock.scenario("jwks.unavailable", seconds=1):
            response = page.goto(target.app("/login"))
            assert response is not None and response.status == 502, response and response.status
            AppErrorPage(page).expect_error(code="idp_unavailable")
            home.open().expect_signed_out()
        with outcomes.check("keys.rotated"):
            page.goto(target.app("/login"))
            home.open().expect_signed_in(user.username, user.display_name)
            ProfilePage(page, target).open().expect_user(user.username, user.display_name)
    outcomes.assert_all_passed()


@pytest.mark.waits
def test_a_failing_token_endpoint_is_reported_with_retry_after_and_no_session(
    fresh_page: Callable[[], Page], target: Target, mock: Any, outcomes: Outcomes
) -> None:
    names = [name for name in FAILING_TOKEN_ENDPOINT if name not in WAITING_TOKEN_FAILURES]
    _check_token_failures(fresh_page(), target, mock, outcomes, names)


@pytest.mark.slow
@pytest.mark.waits
def test_a_stalled_or_broken_token_endpoint_is_reported_with_no_session(
    fresh_page: Callable[[], Page], target: Target, mock: Any, outcomes: Outcomes
) -> None:
    _check_token_failures(fresh_page(), target, mock, outcomes, list(WAITING_TOKEN_FAILURES))


def _check_token_failures(
    page: Page, target: Target, mock: Any, outcomes: Outcomes, names: list[str]
) -> None:
    home = HomePage(page, target)
    for name in names:
        status, code, retry_after = FAILING_TOKEN_ENDPOINT[name]
        seconds = TOKEN_TIMEOUT if name == "token.timeout" else retry_after
        with outcomes.check(name):
            mark = len(mock.requests())
            with mock.scenario(name, client_id=target.client_id, times=1, seconds=seconds):
                response = page.goto(target.app("/login"))
                assert response is not None and response.status == status, response.status
            AppErrorPage(page).expect_error(code=code)
            assert response.headers.get("retry-after") == (
                str(retry_after) if retry_after else None
            ), response.headers
            if retry_after:
                expect(page.locator("#error-retry-after")).to_have_text(str(retry_after))
            home.open().expect_signed_out()
            # The stalled answer, or MSAL's wait, must be over before the next scenario.
            _wait_for_token_answer(mock, mark)
            answered = [
                e["status"]
                for e in _requests_since(mock, mark)
                if e["path"].endswith("/oauth2/v2.0/token")
            ]
            assert answered == [MOCK_STATUS[name]], f"the token endpoint answered {answered}"
            if name != "token.timeout":
                time.sleep(retry_after or MSAL_THROTTLE_DEFAULT)
    outcomes.assert_all_passed()


def _wait_for_token_answer(mock: Any, mark: int, timeout: float = TOKEN_TIMEOUT + 2) -> None:
    deadline = time.monotonic() + timeout
    while not _grants(_requests_since(mock, mark)) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_token_response_missing_optional_fields_still_signs_in(
    fresh_page: Callable[[], Page], target: Target, user: User, mock: Any, outcomes: Outcomes
) -> None:
    for name in SIGN_IN_STILL_WORKS:
        with outcomes.check(name), mock.scenario(name, client_id=target.client_id, times=2):
            page = fresh_page()
            page.goto(target.app("/login"))
            HomePage(page, target).open().expect_signed_in(user.username, user.display_name)
            ProfilePage(page, target).open().expect_user(user.username, user.display_name)
    with outcomes.check("token.narrow_scope"):
        page = fresh_page()
        with mock.scenario("token.narrow_scope", client_id=target.client_id, times=1):
            response = page.goto(target.app("/login"))
        assert response is not None and response.status == 403, response and response.status
        AppErrorPage(page).expect_error(code="invalid_scope")
        HomePage(page, target).open().expect_signed_out()
    outcomes.assert_all_passed()


def test_a_refused_silent_refresh_sends_the_user_to_sign_in_again(
    fresh_page: Callable[[], Page], target: Target, user: User, mock: Any, outcomes: Outcomes
) -> None:
    page = fresh_page()
    page.goto(target.app("/login"))
    HomePage(page, target).open().expect_signed_in(user.username, user.display_name)
    for name in SILENT_FAILURES:
        with outcomes.check(name):
            mark = len(mock.requests())
            # Graph refuses the token once, so the app refreshes; the refresh is refused.
            with (
                mock.scenario("graph.invalid_token", client_id=target.client_id, times=1),
                mock.scenario(name, client_id=target.client_id, times=1),
            ):
                response = page.goto(target.app("/profile"))
            assert response is not None and response.status == 200, response.status
            ProfilePage(page, target).expect_user(user.username, user.display_name)
            grants = _grants(_requests_since(mock, mark))
            assert grants[:2] == ["refresh_token", "authorization_code"], grants
    outcomes.assert_all_passed()


@pytest.mark.waits
def test_graph_failures_are_shown_clearly_and_a_revoked_token_is_renewed(
    fresh_page: Callable[[], Page], target: Target, user: User, mock: Any, outcomes: Outcomes
) -> None:
    page = fresh_page()
    page.goto(target.app("/login"))
    profile = ProfilePage(page, target)
    for name, (status, code, retry_after) in GRAPH_FAILURES.items():
        refusals = 2 if retry_after else 1  # a throttled call is retried once
        with outcomes.check(name):
            with mock.scenario(
                name, client_id=target.client_id, times=refusals, seconds=retry_after
            ):
                response = page.goto(target.app("/profile"))
            assert response is not None and response.status == status, response.status
            AppErrorPage(page).expect_error(code=code)
            assert response.headers.get("retry-after") == (
                str(retry_after) if retry_after else None
            )
            profile.open().expect_user(user.username, user.display_name)  # over: it works
            if retry_after:  # refused once only: the retry after Retry-After succeeds
                mark = len(mock.requests())
                with mock.scenario(name, client_id=target.client_id, times=1, seconds=1):
                    profile.open().expect_user(user.username, user.display_name)
                me = [e for e in _requests_since(mock, mark) if e["path"] == "/v1.0/me"]
                assert [e["status"] for e in me] == [status_of(name), 200], me
    with outcomes.check("graph.invalid_token"):
        mark = len(mock.requests())
        with mock.scenario("graph.invalid_token", client_id=target.client_id, times=1):
            profile.open().expect_user(user.username, user.display_name)
        assert _grants(_requests_since(mock, mark)) == ["refresh_token"]
    with outcomes.check("graph.claims_challenge"):
        mark = len(mock.requests())
        with mock.scenario("graph.claims_challenge", client_id=target.client_id, times=1):
            response = page.goto(target.app("/profile"))
        assert response is not None and response.status == 200, response.status
        profile.expect_user(user.username, user.display_name)
        authorize = [
            e for e in _requests_since(mock, mark) if e["path"].endswith("/oauth2/v2.0/authorize")
        ]
        assert authorize and "claims" in authorize[0]["query"], authorize
    outcomes.assert_all_passed()


def status_of(name: str) -> int:
    return {"graph.throttled": 429, "graph.unavailable": 503}[name]


def test_every_scenario_of_the_catalogue_has_a_robustness_check() -> None:
    from mock_entra.core.faults import CATALOGUE

    covered = {
        *BAD_ID_TOKENS,
        "keys.rotated",
        "jwks.unavailable",
        *FAILING_TOKEN_ENDPOINT,
        *SIGN_IN_STILL_WORKS,
        "token.narrow_scope",
        *SILENT_FAILURES,
        *GRAPH_FAILURES,
        "graph.invalid_token",
        "graph.claims_challenge",
    }
    assert covered == {s.name for s in CATALOGUE}
