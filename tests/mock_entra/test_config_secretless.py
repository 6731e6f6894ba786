"""Config for secretless sign-in (issue 20): managed identities, federated credentials on
apps, external issuers and their keys, checked like the rest of a config file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_entra.core.config import (
    DEFAULT_CONFIG,
    DEFAULT_MANAGED_IDENTITY_OBJECT_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    config_to_toml,
    load_config,
)
from tests.mock_entra.external_issuer import ISSUER, issuer
from tests.mock_entra.test_config import refused, write

MI_CLIENT = "0b7c5a1e-2f3d-4e6a-9b8c-1d2e3f4a5b6c"
MI_OBJECT = "5f4e3d2c-1b0a-4987-8765-43210fedcba9"

BASE = """extends = "defaults"
[[tenants]]
tenant_id = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
"""


def test_the_defaults_trust_the_sample_apps_managed_identity():
    tenant = DEFAULT_CONFIG.default_tenant
    (identity,) = tenant.managed_identities
    assert identity.system_assigned and identity.object_id == DEFAULT_MANAGED_IDENTITY_OBJECT_ID
    (fic,) = tenant.apps[0].federated_credentials
    assert fic.issuer == f"https://login.microsoftonline.com/{tenant.tenant_id}/v2.0"
    assert fic.subject == identity.object_id and fic.audiences == (TOKEN_EXCHANGE_AUDIENCE,)


def test_a_full_secretless_config_loads_and_round_trips(tmp_path: Path):
    keys = issuer()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "jwks.json").write_text(json.dumps(keys.jwks))
    path = write(
        tmp_path,
        BASE
        + f"""
  [[tenants.managed_identities]]
  client_id = "{MI_CLIENT}"
  object_id = "{MI_OBJECT}"
  display_name = "worker"
  resource_id = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/u/w"
  application_permissions = {{"https://graph.microsoft.com" = ["User.Read.All"]}}

  [[tenants.apps]]
  client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"
  [[tenants.apps.federated_credentials]]
  name = "github-main"
  issuer = "{ISSUER}"
  subject = "repo:contoso/entra-lab:ref:refs/heads/main"

[[external_issuers]]
issuer = "{ISSUER}"
jwks_file = "keys/jwks.json"
""",
    )
    config = load_config(path)
    tenant = config.default_tenant
    assert [m.display_name for m in tenant.managed_identities] == [
        "entra-lab-app-identity",
        "worker",
    ]
    names = [f.name for f in tenant.apps[0].federated_credentials]
    assert names == ["app-managed-identity", "github-main"]  # keyed by name: merged
    assert tenant.apps[0].federated_credentials[0].audiences == (TOKEN_EXCHANGE_AUDIENCE,)
    assert list(config.external_issuer(ISSUER).keys) == ["key-1"]  # the file, found beside it
    # Written out and read back: the same config (the jwks_file path now absolute).
    again = write(tmp_path, config_to_toml(config), "again.toml")
    assert load_config(again) == config


def test_inline_jwks_is_a_table(tmp_path: Path):
    path = tmp_path / "mock.json"
    path.write_text(
        json.dumps(
            {"extends": "defaults", "external_issuers": [{"issuer": ISSUER, "jwks": issuer().jwks}]}
        )
    )
    assert list(load_config(path).external_issuers[0].keys) == ["key-1"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            f'client_id = "worker"\nobject_id = "{MI_OBJECT}"\ndisplay_name = "w"',
            "tenants[0].managed_identities[0].client_id: expected a GUID",
        ),
        (
            f'client_id = "{MI_CLIENT}"\ndisplay_name = "w"',
            "tenants[0].managed_identities[0].object_id: required, but missing",
        ),
        (
            f'client_id = "{MI_CLIENT}"\nobject_id = "{MI_OBJECT}"\ndisplay_name = "w"\n'
            'resource_id = "worker"',
            "tenants[0].managed_identities[0].resource_id: expected /subscriptions/",
        ),
    ],
)
def test_managed_identity_mistakes_name_the_field(tmp_path: Path, entry: str, expected: str):
    message = refused(write(tmp_path, BASE + "[[tenants.managed_identities]]\n" + entry))
    assert f"mock.toml: {expected}" in message


def test_only_one_identity_is_system_assigned(tmp_path: Path):
    text = BASE + (
        f'[[tenants.managed_identities]]\nclient_id = "{MI_CLIENT}"\nobject_id = "{MI_OBJECT}"\n'
        'display_name = "w"\nsystem_assigned = true\n'
    )
    assert "more than one managed identity is system_assigned" in refused(write(tmp_path, text))


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('name = "a b"\nissuer = "https://x"\nsubject = "s"', ".name: expected 3 to 120"),
        ('name = "ok-name"\nissuer = "http://x"\nsubject = "s"', ".issuer: expected an https://"),
        ('name = "ok-name"\nissuer = "https://x"\nsubject = ""', ".subject: required, but empty"),
        (
            'name = "ok-name"\nissuer = "https://x"\nsubject = "s"\naudiences = ["a", "b"]',
            ".audiences: expected exactly one audience",
        ),
        ('name = "ok-name"\nsubject = "s"', ".issuer: required, but missing"),
    ],
)
def test_federated_credential_mistakes_name_the_field(tmp_path: Path, lines: str, expected: str):
    text = BASE + (
        '[[tenants.apps]]\nclient_id = "6731de76-14a6-49ae-97bc-6eba6914391e"\n'
        "[[tenants.apps.federated_credentials]]\n" + lines
    )
    message = refused(write(tmp_path, text))
    assert f"mock.toml: tenants[0].apps[0].federated_credentials[0]{expected}" in message


def test_two_credentials_with_one_issuer_and_subject_are_refused(tmp_path: Path):
    fic = '[[tenants.apps.federated_credentials]]\nname = "{}"\nissuer = "https://x"\n'
    fic += 'subject = "s"\n'
    text = (
        '[[tenants]]\ntenant_id = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"\ndisplay_name = "C"\n'
        '[[tenants.apps]]\nclient_id = "6731de76-14a6-49ae-97bc-6eba6914391e"\n'
        'display_name = "app"\n' + fic.format("one") + fic.format("two")
    )
    message = refused(write(tmp_path, text))
    assert "tenants[0].apps[0].federated_credentials[1]: same issuer and subject" in message


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (f'issuer = "{ISSUER}"', "external_issuers[0].jwks: give the issuer's keys"),
        (
            f'issuer = "{ISSUER}"\njwks_file = "missing.json"',
            "external_issuers[0].jwks_file: cannot read",
        ),
        (
            f'issuer = "{ISSUER}"\njwks = {{keys = []}}',
            "external_issuers[0].jwks: expected a JWKS",
        ),
        (
            f'issuer = "{ISSUER}"\njwks = {{keys = [{{kid = "k", kty = "RSA", n = "AQAB"}}]}}',
            "external_issuers[0].jwks: keys[0]: not a usable key",
        ),
        ('issuer = "token.example"\njwks = {keys = []}', "external_issuers[0].issuer: expected"),
    ],
)
def test_external_issuer_mistakes_name_the_field(tmp_path: Path, lines: str, expected: str):
    message = refused(write(tmp_path, 'extends = "defaults"\n[[external_issuers]]\n' + lines))
    assert f"mock.toml: {expected}" in message
