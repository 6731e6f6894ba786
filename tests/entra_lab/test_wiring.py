"""`plan_demo`: the app's environment comes from the mock's `info`, the default app port needs
no config file, any other port gets one registering its redirect URIs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from entra_lab.wiring import plan_demo
from mock_entra.core.config import (
    DEFAULT_CONFIG,
    DEFAULT_MANAGED_IDENTITY_CLIENT_ID,
    ConfigError,
    load_config,
)
from mock_entra.info import read_identity_header


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One state dir for the module: key generation is the slow part."""
    return tmp_path_factory.mktemp("wiring") / "state"


def test_default_ports_use_the_embedded_registration(state_dir: Path) -> None:
    plan = plan_demo(8443, 5000, state_dir, environ={"PATH": "/bin"}, python="py")

    assert plan.config_file is None
    assert "--config" not in plan.mock_argv
    serve = ["py", "-m", "mock_entra", "serve", "--host", "127.0.0.1", "--port", "8443"]
    state = ["--state-dir", str(state_dir.resolve()), "--access-log"]
    assert plan.mock_argv == [*serve, *state, "--managed-identity-port", "8444"]
    assert plan.app_argv == ["py", "-m", "client_app.cli", "--host", "127.0.0.1", "--port", "5000"]
    tenant = DEFAULT_CONFIG.default_tenant
    settings = plan.app_settings
    assert settings["TENANT_ID"] == tenant.tenant_id
    assert settings["CLIENT_ID"] == tenant.apps[0].client_id
    assert settings["CLIENT_SECRET"] == tenant.apps[0].client_secrets[0]
    assert settings["AUTHORITY"] == f"https://localhost:8443/{tenant.tenant_id}"
    assert settings["GRAPH_ENDPOINT"] == "https://localhost:8443/v1.0"
    assert settings["REDIRECT_URI"] == "http://localhost:5000/getAToken"
    assert settings["REDIRECT_URI"] in tenant.apps[0].redirect_uris
    assert settings["APP_ENV"] == "development"
    assert len(settings["SECRET_KEY"]) >= 32
    assert Path(settings["CA_BUNDLE"]).is_file()
    assert Path(plan.info["ca_file"]).read_text() in Path(settings["CA_BUNDLE"]).read_text()
    assert plan.discovery_url == (
        f"https://localhost:8443/{tenant.tenant_id}/v2.0/.well-known/openid-configuration"
    )


def test_another_app_port_registers_its_redirect_uris(state_dir: Path) -> None:
    plan = plan_demo(9443, 5077, state_dir, environ={})

    assert plan.config_file is not None
    assert plan.mock_argv[-2:] == ["--config", str(plan.config_file)]
    assert plan.mock_argv[plan.mock_argv.index("--managed-identity-port") + 1] == "8444"
    app = load_config(plan.config_file).default_tenant.apps[0]
    assert "http://localhost:5077/getAToken" in app.redirect_uris
    assert "http://localhost:5077/" in app.post_logout_redirect_uris
    assert plan.app_settings["REDIRECT_URI"] == "http://localhost:5077/getAToken"
    assert plan.info["redirect_uris"] == list(app.redirect_uris)
    assert plan.app_argv[0] == sys.executable


def test_inherited_app_and_mock_variables_do_not_leak_into_the_services(state_dir: Path) -> None:
    environ = {"PATH": "/bin", "TRUST_PROXY": "true", "SCOPE": "Mail.Read",
               "MOCK_ENTRA_ADMIN_KEY": "k", "MOCK_ENTRA_CONFIG": "x.toml"}  # fmt: skip
    plan = plan_demo(8443, 5000, state_dir, environ=environ)

    for env in (plan.mock_env, plan.app_env):
        assert env["PATH"] == "/bin"
        assert env["PYTHONUNBUFFERED"] == "1"
        assert not {"TRUST_PROXY", "SCOPE", "MOCK_ENTRA_ADMIN_KEY", "MOCK_ENTRA_CONFIG"} & set(env)
    assert plan.app_env.items() >= plan.app_settings.items()


EXTEND_EXAMPLE = Path(__file__).parents[2] / "examples" / "extend-defaults.toml"


def test_a_config_file_is_merged_with_the_ports_redirect_uris(state_dir: Path) -> None:
    plan = plan_demo(9443, 5077, state_dir, environ={}, config_file=EXTEND_EXAMPLE)

    assert plan.config_file is not None and plan.config_file != EXTEND_EXAMPLE
    assert plan.mock_argv[-2:] == ["--config", str(plan.config_file)]
    served = load_config(plan.config_file)
    tenant = served.default_tenant
    assert "bob@contoso.onmicrosoft.com" in [u["username"] for u in plan.info["users"]]
    assert [u.username for u in tenant.users] == [u["username"] for u in plan.info["users"]]
    app = tenant.apps[0]
    assert app.redirect_uris == (
        "http://localhost:5000/getAToken",
        "http://localhost:3000/auth/callback",
        "http://localhost:5077/getAToken",
    )
    assert "http://localhost:5077/" in app.post_logout_redirect_uris
    assert plan.app_settings["CLIENT_SECRET"] == app.client_secrets[0]


def test_a_config_file_at_the_default_port_is_passed_too(state_dir: Path) -> None:
    plan = plan_demo(8443, 5000, state_dir, environ={}, config_file=EXTEND_EXAMPLE)

    assert plan.config_file is not None
    assert load_config(plan.config_file) == load_config(EXTEND_EXAMPLE)


def test_a_broken_config_file_stops_the_plan_with_a_config_error(
    state_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "defaults"\ncode_lifetime = "ten"\n')
    with pytest.raises(ConfigError) as caught:
        plan_demo(8443, 5000, state_dir, environ={}, config_file=bad)
    assert str(caught.value).startswith(f"{bad}: code_lifetime: expected a whole number")


def test_the_demo_app_must_be_a_confidential_client(state_dir: Path, tmp_path: Path) -> None:
    public = tmp_path / "public.toml"
    public.write_text(
        '[[tenants]]\ntenant_id = "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"\ndisplay_name = "F"\n'
        '[[tenants.apps]]\nclient_id = "b5d2c1a0-3e4f-4a5b-9c6d-7e8f9a0b1c2d"\ndisplay_name = "A"\n'
    )
    with pytest.raises(ConfigError, match=r"tenants\[0\]\.apps\[0\]: .* needs client_secrets"):
        plan_demo(8443, 5000, state_dir, environ={}, config_file=public)


def test_demo_config_errors_exit_2_before_starting_anything(tmp_path: Path, capsys) -> None:
    from entra_lab.cli import main
    from mock_entra.ports import free_port

    bad = tmp_path / "bad.toml"
    bad.write_text("[[tenants]]\ntenant_id = 1\n")
    state = tmp_path / "state"
    argv = ["demo", "--config", str(bad), "--state-dir", str(state)]
    ports = ["--mock-port", str(free_port()), "--app-port", str(free_port())]
    code = main([*argv, *ports, "--managed-identity-port", str(free_port())])
    assert code == 2
    err = capsys.readouterr().err
    guid = "a GUID, e.g. 8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
    expected = f"{bad}: tenants[0].tenant_id: expected {guid}, got 1"
    assert err.startswith(f"entra-lab: config error: {expected}")
    assert not state.exists()


def test_the_mock_serves_managed_identity_and_the_app_keeps_its_secret(state_dir: Path) -> None:
    plan = plan_demo(8443, 5000, state_dir, environ={"IDENTITY_ENDPOINT": "http://elsewhere"})

    endpoints = plan.managed_identity
    assert endpoints["identity_endpoint"] == "http://localhost:8444/msi/token"
    assert endpoints["imds_host"] == "http://localhost:8444"
    # The header `serve` will want: the one kept in the state dir (never on a command line).
    assert endpoints["identity_header"] == read_identity_header(state_dir.resolve())
    assert endpoints["identity_header"] not in " ".join(plan.mock_argv)
    assert plan.secretless is False
    assert "MANAGED_IDENTITY_CLIENT_ID" not in plan.app_settings
    assert "IDENTITY_ENDPOINT" not in plan.app_env  # not the shell's either


def test_secretless_the_app_gets_its_managed_identity_and_no_secret(state_dir: Path) -> None:
    environ = {"PATH": "/bin", "CLIENT_SECRET": "from the shell", "MSI_ENDPOINT": "http://x"}
    plan = plan_demo(8443, 5000, state_dir, environ=environ, secretless=True,
                     managed_identity_port=9444)  # fmt: skip

    settings = plan.app_settings
    assert plan.secretless is True
    assert "CLIENT_SECRET" not in plan.app_env and "MSI_ENDPOINT" not in plan.app_env
    assert settings["MANAGED_IDENTITY_CLIENT_ID"] == DEFAULT_MANAGED_IDENTITY_CLIENT_ID
    assert settings["IDENTITY_ENDPOINT"] == "http://localhost:9444/msi/token"
    assert settings["IDENTITY_HEADER"] == read_identity_header(state_dir.resolve())
    assert plan.mock_argv[plan.mock_argv.index("--managed-identity-port") + 1] == "9444"
    # What the app reads accepts it: no secret, the identity instead.
    from client_app.settings import Settings

    app = Settings.from_env(plan.app_env)
    assert app.secretless and app.managed_identity_client_id == DEFAULT_MANAGED_IDENTITY_CLIENT_ID


def test_secretless_needs_a_federated_credential_trusting_a_managed_identity(
    state_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "secret-only.toml"
    config.write_text(
        '[[tenants]]\ntenant_id = "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"\ndisplay_name = "F"\n'
        '[[tenants.apps]]\nclient_id = "b5d2c1a0-3e4f-4a5b-9c6d-7e8f9a0b1c2d"\ndisplay_name = "A"\n'
        'client_secrets = ["s3cret-value-0123456789"]\n'
    )
    plan_demo(8443, 5000, state_dir, environ={}, config_file=config)  # with its secret: fine
    with pytest.raises(ConfigError, match=r"tenants\[0\]\.apps\[0\]: --secretless .* needs "
                       r"federated_credentials whose subject is the object_id"):  # fmt: skip
        plan_demo(8443, 5000, state_dir, environ={}, config_file=config, secretless=True)
