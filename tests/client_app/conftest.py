"""Fixtures for client_app tests: settings, app, client, signing keys and the fake IdP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from client_app_fakes import BASE_ENV, FakeIdP, SigningKey
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from client_app import Settings, create_app


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """The fake IdP's published signing key."""
    return SigningKey("test-kid-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    """A key the IdP never published (an attacker's, or a rolled-over key)."""
    return SigningKey("test-kid-2", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def env(tmp_path: Any) -> dict[str, str]:
    """The environment of a correctly configured app (sessions under tmp_path)."""
    return {**BASE_ENV, "SESSION_DIR": str(tmp_path / "sessions")}


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    """Settings parsed from `env`; override with `dataclasses.replace`."""
    return Settings.from_env(env)


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The app under test."""
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser: a test client with a cookie jar."""
    return app.test_client()


@pytest.fixture
def idp(signing_key: SigningKey) -> Iterator[FakeIdP]:
    """The fake IdP + Graph; any other outgoing HTTP call fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeIdP(mock=mock, key=signing_key)
        fake.install()
        yield fake
