"""Two `mock-entra serve` replicas on one Postgres store (issue 22's "done when"): each has a
copy of one state dir's keys and nothing else in common but the store URL. A sign-in at one
is an SSO session at the other (`prompt=none` answers with a code), and a code redeemed at
both at once has exactly one winner; the loser gets Entra's AADSTS54005.

Skipped where no test Postgres is given (`tests/mock_entra/postgres.py`); CI always has one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance.trust import TrustingSession
from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.core.store.backend import shown_url
from mock_entra.pytest_plugin import copy_keys
from mock_entra.server import MockEntra

from . import postgres
from .conftest import ADELE, CLIENT_ID, SECRET, Flow, new_flow, query_of
from .signin_http import http_sign_in
from .token_form import code_form

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # two servers: about 7 s
CODES = 20  # codes redeemed at both replicas at once


@pytest.fixture
def replicas(request, key_template: Path, tmp_path: Path) -> Iterator[tuple[MockEntra, ...]]:
    """Two replicas (copies of one key template, one Postgres schema), started together."""
    with postgres.fresh_schema(request.node.nodeid) as url:
        states = [copy_keys(key_template, tmp_path / name) for name in ("a", "b")]
        with ThreadPoolExecutor(2) as pool:
            started = list(
                pool.map(
                    lambda state: MockEntra.start(
                        DEFAULT_CONFIG, state_dir=state, store=url, admin=False
                    ),
                    states,
                )
            )
        try:
            yield tuple(started)
        finally:
            for mock in started:
                mock.stop()


def _authorize(mock: MockEntra, flow: Flow, **extra: str) -> str:
    return flow.auth_uri(**extra).replace("https://localhost:8443", mock.base_url)


def _redeem(http: TrustingSession, mock: MockEntra, flow: Flow, code: str) -> dict:
    response = http.post(
        f"{mock.authority}/oauth2/v2.0/token",
        data=code_form(code, verifier=flow.verifier, scope=flow.scope),
    )
    return {"status": response.status_code, **response.json()}


def test_replicas_share_sessions_and_codes_are_single_use_across_them(replicas):
    one, two = replicas
    url = postgres.postgres_url()
    assert one.info()["store"] == two.info()["store"] == shown_url(url)
    password = urlsplit(url).password
    assert not password or f":{password}@" not in one.info()["store"]  # never shown
    browser = TrustingSession(one.ca_bundle)  # the cookie jar of one browser, for both
    flow = new_flow()
    signed_in = http_sign_in(browser, one.base_url, _authorize(one, flow), ADELE)
    # Its code is redeemed at the other replica, and the refresh token goes back and forth.
    first = _redeem(TrustingSession(two.ca_bundle), two, flow, signed_in["code"])
    assert first["status"] == 200, first
    refresh = first["refresh_token"]
    for mock in (one, two):
        renewed = TrustingSession(mock.ca_bundle).post(
            f"{mock.authority}/oauth2/v2.0/token",
            data={
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "scope": flow.scope,
            },
        )
        assert renewed.status_code == 200, renewed.text
        refresh = renewed.json()["refresh_token"]

    # The other replica has never seen this browser: only the shared store knows the session.
    flows = [new_flow() for _ in range(CODES)]
    codes = []
    for n, each in enumerate(flows):
        at = (one, two)[n % 2]
        answer = browser.get(_authorize(at, each, prompt="none"), allow_redirects=False)
        assert answer.status_code == 302, answer.text[:300]
        got = query_of(answer.headers["Location"])
        assert "error" not in got, got
        codes.append(got["code"])

    def redeem_at(mock: MockEntra, flow: Flow, code: str, barrier: threading.Barrier) -> dict:
        http = TrustingSession(mock.ca_bundle)
        barrier.wait()
        return _redeem(http, mock, flow, code)

    with ThreadPoolExecutor(8) as pool:
        pairs = []
        for each, code in zip(flows, codes, strict=True):
            barrier = threading.Barrier(2)
            pairs.append([pool.submit(redeem_at, mock, each, code, barrier) for mock in (one, two)])
        answers = [[f.result() for f in pair] for pair in pairs]
    winners = [a for pair in answers for a in pair if a["status"] == 200]
    losers = [a for pair in answers for a in pair if a["status"] != 200]
    assert len(winners) == CODES, [a.get("error_codes") for pair in answers for a in pair]
    assert all(sorted(a["status"] for a in pair) == [200, 400] for pair in answers)
    assert {(a["error"], tuple(a["error_codes"])) for a in losers} == {("invalid_grant", (54005,))}
