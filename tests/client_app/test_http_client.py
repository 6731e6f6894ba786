"""The app's HTTP session: CA_BUNDLE really wins over REQUESTS_CA_BUNDLE; timeouts everywhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import responses
from client_app_fakes import FakeIdP, sign_in

from client_app import Settings, create_app
from client_app.http_client import build_http_session

URL = "https://idp.example/x"


@pytest.fixture
def bundle(tmp_path: Path) -> str:
    path = tmp_path / "mock-ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return str(path)


def test_plain_session_verify_attribute_is_overridden_by_the_env_var(
    monkeypatch: pytest.MonkeyPatch, bundle: str
) -> None:
    # The trap this module exists for: documents requests' behaviour.
    import requests

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/from-env.pem")
    session = requests.Session()
    session.verify = bundle
    merged = session.merge_environment_settings(URL, {}, None, None, None)
    assert merged["verify"] == "/etc/ssl/certs/from-env.pem"


@responses.activate
def test_ca_bundle_wins_over_requests_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, bundle: str
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/from-env.pem")
    responses.add(responses.GET, URL, json={})
    responses.add(responses.POST, URL, json={})
    session = build_http_session(bundle, timeout=7.0)
    session.get(URL)
    session.post(URL, data={"a": "b"})
    for call in responses.calls:
        assert call.request.req_kwargs["verify"] == bundle  # type: ignore[union-attr]
        assert call.request.req_kwargs["timeout"] == 7.0  # type: ignore[union-attr]


@responses.activate
def test_without_ca_bundle_requests_ca_bundle_is_honoured(
    monkeypatch: pytest.MonkeyPatch, bundle: str
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    responses.add(responses.GET, URL, json={})
    build_http_session(None, timeout=3.0).get(URL)
    assert responses.calls[0].request.req_kwargs["verify"] == bundle  # type: ignore[union-attr]


@responses.activate
def test_explicit_timeout_none_still_gets_the_default_timeout() -> None:
    responses.add(responses.GET, URL, json={})
    build_http_session(None, timeout=4.0).get(URL, timeout=None)
    assert responses.calls[0].request.req_kwargs["timeout"] == 4.0  # type: ignore[union-attr]


def test_every_call_of_a_sign_in_uses_the_ca_bundle_and_a_timeout(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, idp: FakeIdP, bundle: str
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/from-env.pem")
    client = create_app(replace(settings, ca_bundle=bundle)).test_client()
    sign_in(client, idp)
    assert client.get("/profile").status_code == 200
    urls = {call.request.url.split("?")[0] for call in idp.mock.calls}
    assert len(urls) == 4  # discovery, JWKS, token, Graph
    for call in idp.mock.calls:
        assert call.request.req_kwargs["verify"] == bundle  # type: ignore[union-attr]
        assert call.request.req_kwargs["timeout"] == settings.http_timeout  # type: ignore[union-attr]
