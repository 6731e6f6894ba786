"""The record layer over the store: every record goes through one codec and comes back equal;
what earlier versions wrote for the long-lived records (refresh tokens, SSO sessions,
consents, lockout counts) still loads; a record that no longer fits (its app was removed from
the config, or another version wrote it) loads as None; and a redemption reads its code and
its `claims` parameter once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from mock_entra.core.clock import FixedClock
from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.core.config.defaults import DEFAULT_API_CLIENT_ID
from mock_entra.core.signin.lockout import Failures
from mock_entra.core.store import codec
from mock_entra.core.store.kinds import CODE, CONSENT, LOCKOUT, REFRESH, SESSION
from mock_entra.core.store.records import (
    Account,
    AuthorizeRequest,
    CodeRecord,
    Consent,
    DeviceCodeRecord,
    PendingSignIn,
    RefreshRecord,
    ReplyTo,
    SsoSession,
)
from mock_entra.core.store.repos import Records, Repo, Stored
from mock_entra.core.store.sqlite import SqliteStore
from mock_entra.core.tokens import claims
from mock_entra.core.tokens.scopes import parse_scopes

from .conftest import CLIENT_ID, MEGAN, TENANT, get_code, new_flow, redeem
from .token_form import post_token

ADELE_OID = DEFAULT_CONFIG.tenants[0].users[0].object_id
API_SCOPES = parse_scopes("api://entra-lab-api/Forecast.Read openid offline_access", DEFAULT_CONFIG)
GRAPH_SCOPES = parse_scopes("User.Read openid profile", DEFAULT_CONFIG)
ACCOUNT = Account(ADELE_OID, TENANT, 1_700_000_000, kmsi=True)
REQUEST = AuthorizeRequest(
    tenant_id=TENANT,
    client_id=CLIENT_ID,
    reply=ReplyTo("http://localhost:5000/getAToken", "query", "st"),
    scopes=API_SCOPES,
    nonce="n",
    max_age=0,
    platform="spa",
)
RECORDS = [
    CodeRecord(
        client_id=CLIENT_ID,
        redirect_uri="http://localhost:5000/getAToken",
        scopes=API_SCOPES,
        account=ACCOUNT,
        sid="s",
        code_challenge="c",
        method="S256",
        max_age_sent=True,
    ),
    RefreshRecord(client_id=CLIENT_ID, account=ACCOUNT, sid="s", issued_at=5, expires_at=9),
    PendingSignIn(request=REQUEST, browser="b", username="u", verified=ACCOUNT),
    SsoSession((ACCOUNT, replace(ACCOUNT, oid="other", kmsi=False))),
    Consent(frozenset({"Graph|User.Read", "api|Forecast.Read"})),
    DeviceCodeRecord(client_id=CLIENT_ID, tenant_id=TENANT, scopes=GRAPH_SCOPES, user_code="ABC"),
    Failures("00ff", count=2, recent=("a", "b"), lockouts=1, locked_until=12.5),
]
WITHOUT_THE_API = replace(
    DEFAULT_CONFIG,
    tenants=(
        replace(
            DEFAULT_CONFIG.tenants[0],
            apps=tuple(
                a for a in DEFAULT_CONFIG.tenants[0].apps if a.client_id != DEFAULT_API_CLIENT_ID
            ),
        ),
        *DEFAULT_CONFIG.tenants[1:],
    ),
)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "store.sqlite3", FixedClock(1000.0).now)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_comes_back_equal(record, store):
    repo = Repo(store, "kind", type(record), DEFAULT_CONFIG)
    repo.put("key", record, ttl=60)
    assert repo.get("key") == record
    assert repo.get_with_expiry("key") == Stored(record, 1060.0)
    assert repo.take("key") == Stored(record, 1060.0)
    assert repo.get("key") is None and repo.was_taken("key")


def test_an_app_is_stored_by_its_client_id_and_found_again():
    text = codec.encode(RECORDS[0])
    assert f'"app":"{DEFAULT_API_CLIENT_ID}"' in text and "Forecast.Read.All" not in text
    found = codec.decode(CodeRecord, text, DEFAULT_CONFIG)
    assert found.scopes.resource.app is DEFAULT_CONFIG.find_app(DEFAULT_API_CLIENT_ID)[1]


@pytest.mark.parametrize("record", [RECORDS[0], RECORDS[2]], ids=lambda r: type(r).__name__)
def test_a_record_whose_app_left_the_config_loads_as_none(record, store):
    Repo(store, "kind", type(record), DEFAULT_CONFIG).put("key", record, ttl=60)
    later = Repo(store, "kind", type(record), WITHOUT_THE_API)
    assert later.get("key") is None
    assert later.get_with_expiry("key") is None
    taken = later.take("key")  # taken all the same: the code is used up, and unknown
    assert taken is not None and taken.record is None and later.was_taken("key")


# What the hand-written serialisers of earlier versions stored for the records that live long
# (refresh tokens 90 days, SSO sessions and consents for years, lockout counts a day).
EARLIER = [
    (
        REFRESH,
        RefreshRecord,
        '{"client_id":"c","account":{"oid":"o","tenant_id":"t","auth_time":7,"kmsi":false},'
        '"sid":"s","issued_at":8,"platform":"spa","expires_at":99}',
        RefreshRecord(
            client_id="c",
            account=Account("o", "t", 7),
            sid="s",
            issued_at=8,
            platform="spa",
            expires_at=99,
        ),
    ),
    (  # before SPA refresh tokens: no platform, no expires_at
        REFRESH,
        RefreshRecord,
        '{"client_id":"c","account":{"oid":"o","tenant_id":"t","auth_time":7,"kmsi":true},'
        '"sid":"s","issued_at":8}',
        RefreshRecord(client_id="c", account=Account("o", "t", 7, True), sid="s", issued_at=8),
    ),
    (
        SESSION,
        SsoSession,
        '{"accounts":[{"oid":"o","tenant_id":"t","auth_time":7,"kmsi":true}]}',
        SsoSession((Account("o", "t", 7, True),)),
    ),
    (CONSENT, Consent, '{"scopes":["a","b"]}', Consent(frozenset({"a", "b"}))),
    (
        LOCKOUT,
        Failures,
        '{"key": "ab", "count": 3, "recent": ["x"], "lockouts": 0, "locked_until": 0.0}',
        Failures("ab", 3, ("x",), 0, 0.0),
    ),
]


@pytest.mark.parametrize(("kind", "cls", "text", "expected"), EARLIER, ids=lambda v: str(v)[:12])
def test_what_earlier_versions_stored_still_loads(kind, cls, text, expected, store):
    store.put(kind, "key", text, ttl=60)
    assert Repo(store, kind, cls, DEFAULT_CONFIG).get("key") == expected


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"accounts":[{"oid":"o","tenant_id":"t","auth_time":"7"}]}',  # a string for an int
        '{"accounts":[{"oid":"o","tenant_id":"t","auth_time":true}]}',  # a bool is no int
        '{"accounts":[{"oid":"o","auth_time":7}]}',  # a required field missing
        '{"accounts":{"oid":"o"}}',  # an object for a list
    ],
)
def test_what_does_not_fit_loads_as_none(text, store):
    store.put(SESSION, "key", text, ttl=60)
    assert Repo(store, SESSION, SsoSession, DEFAULT_CONFIG).get("key") is None


def test_a_record_the_codec_cannot_store_fails_when_its_repo_is_made(store):
    @dataclass(frozen=True)
    class Loose:
        anything: dict

    with pytest.raises(TypeError, match="cannot keep"):
        Repo(store, "kind", Loose, DEFAULT_CONFIG)


def test_the_mocks_records_use_the_kinds(store):
    records = Records.of(store, DEFAULT_CONFIG)
    records.codes.put("k", RECORDS[0], ttl=60)
    assert store.count(CODE) == 1 and records.codes.count() == 1


def _scenario_for_megan(interceptor):
    """A token fault in force for another user: each redemption reads its code's user first."""
    return interceptor.scenario("token.server_error", user=MEGAN[0])


def test_a_code_is_decoded_once_when_a_token_fault_reads_it_first(interceptor, client, monkeypatch):
    decoded: list[type] = []
    real = codec.decode

    def counting(cls, text, config):
        decoded.append(cls)
        return real(cls, text, config)

    monkeypatch.setattr(codec, "decode", counting)
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    with _scenario_for_megan(interceptor):
        decoded.clear()
        response = redeem(client, flow, code)
    assert response.status_code == 200, response.get_json()
    assert decoded.count(CodeRecord) == 1


def test_a_refresh_token_is_read_once_when_a_token_fault_reads_it_first(
    interceptor, client, monkeypatch
):
    flow = new_flow()
    token = redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()
    reads: list[str] = []
    store = interceptor.runtime.store
    real = store.get_with_expiry

    def counting(kind, key):
        reads.append(kind)
        return real(kind, key)

    monkeypatch.setattr(store, "get_with_expiry", counting)
    with _scenario_for_megan(interceptor):
        response = post_token(
            client, grant_type="refresh_token", refresh_token=token["refresh_token"]
        )
    assert response.status_code == 200, response.get_json()
    assert reads.count(REFRESH) == 1


def test_the_claims_parameter_is_parsed_once_per_redemption(interceptor, client, monkeypatch):
    parsed: list[str] = []
    real = claims.parse_json

    def counting(text, *args, **kwargs):
        parsed.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(claims, "parse_json", counting)
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    wanted = '{"access_token":{"xms_cc":{"values":["CP1"]}}}'
    response = redeem(client, flow, code, claims=wanted)
    assert response.status_code == 200, response.get_json()
    assert parsed == [wanted]
