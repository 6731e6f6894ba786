"""The store stays bounded and private: expired items purged while the mock runs, unfinished
sign-ins, codes and each sign-in's refresh tokens capped (oldest dropped), the request log
capped, keys stored hashed, and the files 0600."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.core.grants import dispatch
from mock_entra.core.runtime import open_runtime
from mock_entra.core.signin import authorize
from mock_entra.core.store.backend import Limits
from mock_entra.core.store.kinds import CODE, CONTEXT, REFRESH, SESSION, STORE_LIMITS
from mock_entra.core.store.sqlite import SqliteStore
from mock_entra.core.tokens.claims import SignIn
from mock_entra.core.tokens.scopes import parse_scopes

from .conftest import (
    ADELE,
    BASE,
    CLIENT_ID,
    SECRET,
    TENANT,
    assert_entra_error,
    get_code,
    new_flow,
    redeem,
)
from .token_form import post_token

MAX_STORE_BYTES = 5 * 1024 * 1024
SCOPE = "User.Read offline_access openid profile"


@pytest.fixture
def interceptor(fresh_interceptor):
    """A mock of its own: these tests look at the store's files and sizes."""
    return fresh_interceptor


def store_files(rt) -> list[Path]:
    base = Path(rt.store.path)
    return [p for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()]


def store_bytes(rt) -> int:
    return sum(p.stat().st_size for p in store_files(rt) if not p.name.endswith("-shm"))


def refresh(client, token: str):
    return post_token(client, grant_type="refresh_token", refresh_token=token, scope=SCOPE)


def anonymous_authorize(client):
    flow = new_flow(scope=SCOPE)
    return client.get(flow.auth_uri(), base_url=BASE)


def test_store_and_its_wal_are_created_0600(state_dir, interceptor, client):
    anonymous_authorize(client)  # a write: the WAL and shared-memory files exist now
    files = store_files(interceptor.runtime)
    assert {p.name for p in files} == {"store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_store_left_world_readable_by_an_older_version_is_made_private(state_dir):
    path = state_dir / "store.sqlite3"
    for name in ("store.sqlite3", "store.sqlite3-wal"):
        (state_dir / name).touch()
        os.chmod(state_dir / name, 0o644)
    SqliteStore(path, now=lambda: 0.0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((state_dir / "store.sqlite3-wal").stat().st_mode) == 0o600


def test_codes_tokens_and_ctx_are_stored_hashed(interceptor, client):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    body = redeem(client, flow, code).get_json()
    page = anonymous_authorize(client).get_data(as_text=True)
    ctx = page.split('name="ctx" value="')[1].split('"')[0]
    raw = b"".join(p.read_bytes() for p in store_files(interceptor.runtime))
    for secret in (code, body["refresh_token"], ctx):
        assert secret.encode() not in raw


def test_expired_items_are_purged_while_the_mock_runs(interceptor, client, clock):
    rt = interceptor.runtime
    get_code(interceptor, new_flow())  # an unredeemed code and an SSO session
    anonymous_authorize(client)  # an unfinished sign-in
    assert rt.store.count(CODE) == 1 and rt.store.count(CONTEXT) == 1
    assert rt.store.count(SESSION) == 1
    clock.advance(2 * 24 * 3600)  # past every lifetime above, and past the grace
    anonymous_authorize(client)  # the next write runs the periodic purge
    assert rt.store.count(CODE) == 0 and rt.store.count(SESSION) == 0
    assert rt.store.count(CONTEXT) == 1  # only the new one


def test_expired_items_are_purged_at_start(state_dir, clock):
    rt = open_runtime(DEFAULT_CONFIG, state_dir=state_dir, clock=clock)
    rt.store.put(CONTEXT, "old", "{}", ttl=60)
    assert rt.store.count(CONTEXT) == 1
    clock.advance(2 * 3600)
    again = open_runtime(DEFAULT_CONFIG, state_dir=state_dir, clock=clock)
    assert again.store.count(CONTEXT) == 0


def test_an_expired_refresh_token_is_kept_long_enough_to_say_so(interceptor, client, clock):
    flow = new_flow()
    token = redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()["refresh_token"]
    clock.advance(91 * 24 * 3600)
    anonymous_authorize(client)  # runs the purge
    assert_entra_error(refresh(client, token), 400, "invalid_grant", 700082)


def test_unfinished_sign_ins_are_capped_oldest_first(interceptor, client):
    rt = interceptor.runtime
    rt.store.limits = Limits(max_items={CONTEXT: 20}, every_writes=5)
    pages = [anonymous_authorize(client).get_data(as_text=True) for _ in range(40)]
    assert rt.store.count(CONTEXT) <= 20 + 5
    ctxs = [p.split('name="ctx" value="')[1].split('"')[0] for p in pages]
    oldest = client.post(
        f"/{TENANT}/login", base_url=BASE, data={"ctx": ctxs[0], "step": "username"}
    )
    assert "AADSTS90100" in oldest.get_data(as_text=True)
    newest = client.post(
        f"/{TENANT}/login",
        base_url=BASE,
        data={"ctx": ctxs[-1], "step": "username", "loginfmt": ADELE[0]},
    )
    assert 'id="i0118"' in newest.get_data(as_text=True)


def test_a_sign_in_keeps_only_its_newest_refresh_tokens(interceptor, client):
    keep = STORE_LIMITS.max_family[REFRESH]
    flow = new_flow(scope=SCOPE)
    tokens = [redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()["refresh_token"]]
    for _ in range(keep + 4):
        tokens.append(refresh(client, tokens[-1]).get_json()["refresh_token"])
    assert interceptor.runtime.store.count(REFRESH) == keep
    assert_entra_error(refresh(client, tokens[0]), 400, "invalid_grant", 9002313)
    assert refresh(client, tokens[-keep]).status_code == 200  # older than the newest: still good


def _signin(interceptor, client) -> SignIn:
    """A real sign-in's facts, as the refresh grant rebuilds them."""
    rt = interceptor.runtime
    tenant = rt.config.tenant(TENANT)
    user = tenant.user_by_username(ADELE[0])
    return SignIn(tenant, user, tenant.app(CLIENT_ID), "a-session", 0)


def test_store_stays_small_through_many_refresh_grants_and_an_authorize_burst(interceptor, client):
    """Refresh grants, an anonymous authorize burst and the request log, written through the
    same functions the endpoints use (signing, the slow part, is left out: see the `slow`
    test below for 20,000 whole grants under the real limits), many times over each cap.

    The caps are set low through the store's own knob (`Store.limits`), so a few hundred
    writes are many times each bound: what the store holds stays at the caps, and its file
    stops growing once they are reached (SQLite reuses the pages the caps free)."""
    rt = interceptor.runtime
    limits = replace(
        STORE_LIMITS,
        max_items={**STORE_LIMITS.max_items, CONTEXT: 40},
        max_family={REFRESH: 4},
        max_log=80,
        every_writes=20,
    )
    rt.store.limits = limits
    scopes = parse_scopes(SCOPE, rt.config)
    signin = _signin(interceptor, client)
    entry = {"method": "POST", "path": f"/{TENANT}/oauth2/v2.0/token", "form": {"x": ["y" * 300]}}
    areq, _, _ = authorize.validate(rt, None, TENANT, {k: [v] for k, v in _params().items()})
    sizes = []
    for burst in range(3):  # each burst alone is 50x the family cap, 5x the others
        for n in range(200):
            rt.new_refresh_token(signin, scopes)
            rt.store.log(entry)
            authorize.begin(rt, areq, flow_cookie=f"browser-{burst}-{n}", sso_sid=None)
        sizes.append(Path(rt.store.path).stat().st_size)  # the WAL is capped by its pragma
    slack = limits.every_writes
    assert rt.store.count(REFRESH) == limits.max_family[REFRESH]
    assert rt.store.count(CONTEXT) <= limits.max_items[CONTEXT] + slack
    assert len(rt.store.requests()) <= limits.max_log + slack
    assert sizes[-1] <= sizes[0] * 1.1, sizes  # bounded: the second and third add nothing
    assert store_bytes(rt) < MAX_STORE_BYTES
    # ...and the mock still signs in.
    flow = new_flow()
    assert redeem(client, flow, get_code(interceptor, flow)["code"]).status_code == 200


def _params() -> dict[str, str]:
    flow = new_flow(scope=SCOPE)
    return {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": flow.redirect_uri,
        "scope": SCOPE,
        "code_challenge": flow.challenge,
        "code_challenge_method": "S256",
    }


@pytest.mark.slow
def test_store_stays_small_through_20000_real_refresh_grants(interceptor, client):
    """The whole thing: 20,000 refresh grants as the token endpoint runs them (signed
    tokens), then 5,000 anonymous authorize requests through the Flask app."""
    rt = interceptor.runtime
    flow = new_flow(scope=SCOPE)
    token = redeem(client, flow, get_code(interceptor, flow)["code"]).get_json()["refresh_token"]
    form = {"client_id": [CLIENT_ID], "client_secret": [SECRET], "scope": [SCOPE]}
    for _ in range(20_000):
        body = dispatch.exchange(
            rt,
            TENANT,
            {**form, "grant_type": ["refresh_token"], "refresh_token": [token]},
            authorization=None,
            base_url=BASE,
        )
        token = body["refresh_token"]
    for _ in range(5_000):
        anonymous_authorize(client)
    assert store_bytes(rt) < MAX_STORE_BYTES
    assert refresh(client, token).status_code == 200


def _db_and_wal_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def test_the_file_shrinks_after_a_purge(tmp_path, clock):
    """A flood fills the file; once purged, the space goes back to the file system (it used to
    stay at the high-water mark for good). The WAL is capped at ~1 MiB after the next write."""
    path = tmp_path / "store.sqlite3"
    store = SqliteStore(path, clock.now)
    for n in range(3000):  # ~6 MB of unfinished sign-ins, as an authorize flood leaves
        store.put(CONTEXT, f"ctx{n}", "x" * 2000, ttl=60)
    flooded = path.stat().st_size
    assert flooded > 5_000_000
    clock.advance(2 * 3600)  # expired, and past the grace
    store.maintain()
    store.put(CONTEXT, "next", "{}", ttl=60)  # the next write also resets the WAL
    assert path.stat().st_size < flooded / 4
    assert _db_and_wal_bytes(path) < 3_000_000


def test_reset_gives_the_space_back(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    store = SqliteStore(path, clock.now)
    for n in range(3000):
        store.put(CODE, f"code{n}", "x" * 2000, ttl=600)
    flooded = path.stat().st_size
    store.reset()
    store.put(CODE, "next", "{}", ttl=60)
    assert path.stat().st_size < flooded / 4


def test_a_store_written_without_auto_vacuum_is_converted_once(tmp_path):
    import sqlite3

    path = tmp_path / "store.sqlite3"
    with sqlite3.connect(path) as old:  # as an older version left it
        old.execute("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    SqliteStore(path, now=lambda: 0.0)
    assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
