"""The admin API: off by default, key-protected, and what it controls."""

from __future__ import annotations

import pytest

from mock_entra.intercept import MockEntraInterceptor
from mock_entra.web import create_app

from .conftest import BASE, SECRET, TENANT
from .token_form import app_only_token


@pytest.fixture
def admin_client(state_dir):
    return create_app(state_dir=state_dir, admin_key="k3y").test_client()


def test_admin_api_is_absent_without_a_key(state_dir):
    client = create_app(state_dir=state_dir).test_client()
    assert (
        client.get("/_admin/requests", base_url=BASE, headers={"X-Admin-Key": ""}).status_code
        == 404
    )


def test_admin_api_needs_the_right_key(admin_client):
    assert admin_client.get("/_admin/requests", base_url=BASE).status_code == 404
    assert (
        admin_client.get(
            "/_admin/requests", base_url=BASE, headers={"X-Admin-Key": "wrong"}
        ).status_code
        == 404
    )
    assert (
        admin_client.get(
            "/_admin/requests", base_url=BASE, headers={"X-Admin-Key": "k3y"}
        ).status_code
        == 200
    )


def test_request_log_redacts_secrets_and_reset_clears_it(admin_client):
    app_only_token(admin_client)
    log = admin_client.get(
        "/_admin/requests", base_url=BASE, headers={"X-Admin-Key": "k3y"}
    ).get_json()
    (entry,) = log
    assert entry["form"]["grant_type"] == ["client_credentials"] and entry["status"] == 200
    assert SECRET not in str(log)
    admin_client.post("/_admin/reset", base_url=BASE, headers={"X-Admin-Key": "k3y"})
    assert (
        admin_client.get(
            "/_admin/requests", base_url=BASE, headers={"X-Admin-Key": "k3y"}
        ).get_json()
        == []
    )


def test_clock_and_token_lifetime_controls(admin_client):
    key = {"X-Admin-Key": "k3y"}
    moved = admin_client.post("/_admin/clock", base_url=BASE, headers=key, json={"advance": 600})
    assert moved.get_json()["offset"] == 600
    admin_client.post("/_admin/token-lifetime", base_url=BASE, headers=key, json={"seconds": 90})
    body = app_only_token(admin_client).get_json()
    assert body["expires_in"] == 90


def test_two_mocks_in_one_process_share_nothing(state_dir, tmp_path):
    import shutil

    other_dir = tmp_path / "other"
    shutil.copytree(state_dir, other_dir)
    one = MockEntraInterceptor(state_dir=state_dir)
    two = MockEntraInterceptor(state_dir=other_dir)
    one.app.test_client().get(f"/{TENANT}/v2.0/.well-known/openid-configuration", base_url=BASE)
    assert len(one.requests()) == 1 and two.requests() == []


@pytest.mark.parametrize(
    "body",
    [
        '{"offset": NaN}',
        '{"offset": Infinity}',
        '{"offset": -Infinity}',
        '{"offset": 1e300}',
        '{"advance": 1e300}',
        '{"offset": "60"}',
        '{"offset": true}',
        "[1]",
        "not json",
    ],
)
def test_clock_values_must_be_finite_and_bounded(admin_client, body):
    key = {"X-Admin-Key": "k3y"}
    refused = admin_client.post(
        "/_admin/clock", base_url=BASE, headers=key, data=body, content_type="application/json"
    )
    assert refused.status_code == 400
    assert admin_client.get("/_admin/clock", base_url=BASE, headers=key).get_json()["offset"] == 0
    token = app_only_token(admin_client)
    assert token.status_code == 200  # never a 500 later


def test_advancing_the_clock_stays_within_bounds(admin_client):
    key = {"X-Admin-Key": "k3y"}
    step = {"advance": 6 * 366 * 24 * 3600}  # six years: once fine, twice too far
    assert (
        admin_client.post("/_admin/clock", base_url=BASE, headers=key, json=step).status_code == 200
    )
    assert (
        admin_client.post("/_admin/clock", base_url=BASE, headers=key, json=step).status_code == 400
    )


@pytest.mark.parametrize(
    "body",
    [
        {"offset": -99 * 366 * 24 * 3600},  # 1927: tokens with a negative `iat`, allowed before
        {"offset": 12 * 366 * 24 * 3600},
        {"advance": -12 * 366 * 24 * 3600},
        {"offset": 10**400},  # float() overflows: a 500 before
    ],
    ids=["-99-years", "+12-years", "back-12-years", "10**400"],
)
def test_the_clock_stays_within_eleven_years(admin_client, body):
    key = {"X-Admin-Key": "k3y"}
    refused = admin_client.post("/_admin/clock", base_url=BASE, headers=key, json=body)
    assert refused.status_code == 400
    assert admin_client.get("/_admin/clock", base_url=BASE, headers=key).get_json()["offset"] == 0


DEEP_JSON = "[" * 1500 + "]" * 1500  # past the JSON decoder's recursion limit: 500s before


@pytest.mark.parametrize(
    "path",
    ["/_admin/clock", "/_admin/keys/active", "/_admin/token-lifetime", "/_admin/scenarios"],
)
def test_deeply_nested_admin_bodies_are_400s(admin_client, path):
    nested = "[" * 40 + "]" * 40  # 40 levels: refused by the bounded parser too
    within = f'{{"offset": {nested}, "kid": {nested}, "seconds": {nested}}}'
    for body in (DEEP_JSON, within, "x" * (65 * 1024)):
        response = admin_client.post(
            path,
            base_url=BASE,
            headers={"X-Admin-Key": "k3y"},
            data=body,
            content_type="application/json",
        )
        assert response.status_code == 400, (path, body[:20])


@pytest.mark.parametrize("seconds", [0, -5, 10**30, 1.5, True, "90"])
def test_token_lifetime_must_be_a_sane_whole_number(admin_client, seconds):
    response = admin_client.post(
        "/_admin/token-lifetime",
        base_url=BASE,
        headers={"X-Admin-Key": "k3y"},
        json={"seconds": seconds},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("seconds", [0, -5, 10**30, 1.5])
def test_the_python_control_refuses_the_lifetimes_the_admin_api_refuses(interceptor, seconds):
    interceptor.set_access_token_lifetime(120)
    with pytest.raises(ValueError, match="access-token lifetime"):
        interceptor.set_access_token_lifetime(seconds)
    assert interceptor.runtime.token_lifetime() == 120  # unchanged


def test_the_python_control_fixes_the_lifetime_and_none_restores_it(interceptor):
    interceptor.set_access_token_lifetime(120)
    assert interceptor.runtime.token_lifetime() == 120
    interceptor.set_access_token_lifetime(None)
    assert interceptor.runtime.token_lifetime() >= 3600  # Entra's 60-90 minutes again


def test_a_request_log_entry_is_bounded(admin_client):
    """The log keeps 2,000 entries: with whole 1 MiB bodies that was up to 2 GB of store."""
    import json

    key = {"X-Admin-Key": "k3y"}
    admin_client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        base_url=BASE,
        data={"grant_type": "client_credentials", "scope": "s" * 500_000}
        | {f"p{n}": "v" * 100 for n in range(150)},
    )
    (entry,) = admin_client.get("/_admin/requests", base_url=BASE, headers=key).get_json()
    assert len(json.dumps(entry)) < 16 * 1024
    assert entry["form"]["grant_type"] == ["client_credentials"]
    assert entry["form"]["scope"][0].endswith("...<500000 chars>")
    assert "<left out>" in entry["form"]
