"""The app registration model: platforms' redirect URIs, public client flows, sign-in
audience, certificate credentials and the access token version are config fields, checked
when a config is loaded (file or Python), and today's files keep loading."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes

from mock_entra.core.config import (
    DEFAULT_CONFIG,
    SIGN_IN_AUDIENCES,
    AppRegistration,
    ConfigError,
    config_to_dict,
)
from mock_entra.core.config.load import config_from_dict
from mock_entra.core.config.write import config_to_toml
from mock_entra.core.pki import certificates

CLIENT = "0b7e4e3c-1d8b-4a8e-9d4c-1f2e3d4c5b6a"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_app(**fields) -> dict:
    raw = config_to_dict(DEFAULT_CONFIG)
    raw["tenants"][0]["apps"].append({"client_id": CLIENT, "display_name": "x", **fields})
    return raw


def _problem(**fields) -> str:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(_with_app(**fields), source="mock.toml")
    return str(caught.value)


def test_defaults_are_entras_defaults():
    app = DEFAULT_CONFIG.default_tenant.apps[0]
    assert app.sign_in_audience == "AzureADMyOrg"
    assert app.spa_redirect_uris == app.public_client_redirect_uris == ()
    assert app.is_fallback_public_client is False
    assert app.key_credentials == () and app.certificates == ()
    assert app.access_token_accepted_version is None and app.token_version == 1


def test_all_fields_load_from_a_file_and_round_trip_through_toml():
    pair = certificates.make_signing_key()
    raw = _with_app(
        spa_redirect_uris=["http://localhost:3000/"],
        public_client_redirect_uris=["http://localhost"],
        is_fallback_public_client=True,
        sign_in_audience="AzureADMultipleOrgs",
        key_credentials=[pair.cert_pem.decode()],
        access_token_accepted_version=2,
    )
    config = config_from_dict(raw)
    app = config.default_tenant.app(CLIENT)
    assert app.spa_redirect_uris == ("http://localhost:3000/",)
    assert app.is_confidential and app.token_version == 2
    import tomllib

    again = config_from_dict(tomllib.loads(config_to_toml(config)))
    assert again.default_tenant.app(CLIENT) == app


def test_a_certificate_is_parsed_with_both_thumbprints():
    pair = certificates.make_signing_key()
    app = AppRegistration(
        client_id=CLIENT, display_name="x", key_credentials=(pair.cert_pem.decode(),)
    )
    (cred,) = app.certificates
    sha1 = pair.cert.fingerprint(hashes.SHA1())
    der = cred.certificate.public_bytes(_der())
    assert cred.thumbprint == hashlib.sha1(der).hexdigest().upper()  # the portal's hex form
    assert cred.x5t == _b64url(sha1)
    assert cred.x5t_s256 == _b64url(pair.cert.fingerprint(hashes.SHA256()))
    assert app.certificate(x5t=cred.x5t) is cred
    assert app.certificate(x5t_s256=cred.x5t_s256) is cred
    assert app.certificate(x5t="nope") is None


def _der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not pem", "expected a PEM certificate"),
        ("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", "that is a private key"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "not a readable PEM"),
    ],
)
def test_a_bad_certificate_names_the_field(value: str, expected: str):
    message = _problem(key_credentials=[value])
    assert "tenants[0].apps[2]" in message and "key_credentials[0]" in message
    assert expected in message and "Traceback" not in message


def test_an_unknown_audience_lists_the_four():
    message = _problem(sign_in_audience="AzureADMultipleOrg")
    assert "tenants[0].apps[2].sign_in_audience" in message
    assert all(audience in message for audience in SIGN_IN_AUDIENCES)
    with pytest.raises(ConfigError, match="sign_in_audience: expected one of"):
        AppRegistration(client_id=CLIENT, display_name="x", sign_in_audience="everyone")


@pytest.mark.parametrize("value", [3, 0, "2", True])
def test_the_token_version_is_1_or_2(value):
    assert "access_token_accepted_version" in _problem(access_token_accepted_version=value)


def test_a_file_without_the_new_fields_loads_as_before():
    raw = config_to_dict(DEFAULT_CONFIG)
    for app in raw["tenants"][0]["apps"]:
        for name in (
            "spa_redirect_uris",
            "public_client_redirect_uris",
            "is_fallback_public_client",
            "sign_in_audience",
            "key_credentials",
            "assigned_groups",
            "required_resource_access",
            "admin_consent_granted",
            "optional_claims",
        ):
            del app[name]
    assert config_from_dict(raw) == DEFAULT_CONFIG
