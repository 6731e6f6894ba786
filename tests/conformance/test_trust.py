"""TLS trust for the test process: the CA bundle must win over REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import base64
from typing import Any

import certifi
import pytest
import requests
from requests.adapters import HTTPAdapter

from conformance.targets import Target
from conformance.trust import TrustError, TrustingSession, spki_pin, spki_pins


def test_trusting_session_sends_its_ca_bundle_even_when_requests_ca_bundle_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def send(self: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise requests.ConnectionError("stop here")

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setattr(HTTPAdapter, "send", send)

    # The trap: a plain Session's `verify` attribute loses to REQUESTS_CA_BUNDLE.
    plain = requests.Session()
    plain.verify = "/tmp/mock-ca.pem"
    with pytest.raises(requests.ConnectionError):
        plain.get("https://localhost:1/")
    assert seen["verify"] == "/etc/ssl/certs/ca-certificates.crt"

    with TrustingSession("/tmp/mock-ca.pem") as session, pytest.raises(requests.ConnectionError):
        session.get("https://localhost:1/")
    assert seen["verify"] == "/tmp/mock-ca.pem"
    assert seen["timeout"] is not None


def test_no_ca_bundle_means_no_browser_pins() -> None:
    assert spki_pins(["https://login.microsoftonline.com/x"], None) == []


@pytest.mark.mock_only
def test_browser_pins_only_keys_that_the_ca_bundle_vouches_for(target: Target) -> None:
    assert target.ca_bundle is not None
    pin = spki_pin(target.authority, target.ca_bundle)
    assert len(base64.b64decode(pin)) == 32  # a SHA-256 of the server's public key
    assert spki_pins([target.authority, target.graph_endpoint], target.ca_bundle) == [pin]
    with pytest.raises(TrustError, match="cannot verify TLS"):
        spki_pin(target.authority, certifi.where())  # public CAs do not know the mock
