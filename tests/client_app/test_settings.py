"""Settings.from_env: defaults, derived values, and one error listing every problem."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from client_app_fakes import BASE_ENV, TENANT_ID

from client_app import Settings, SettingsError
from client_app.settings import DEFAULT_SESSION_DIR


def errors_of(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ)
    return caught.value.problems


def test_minimal_environment_gets_the_documented_defaults() -> None:
    settings = Settings.from_env(
        {
            "TENANT_ID": TENANT_ID,
            "CLIENT_ID": "cid",
            "CLIENT_SECRET": "secret",
            "REDIRECT_URI": "https://app.example/getAToken",
            "SECRET_KEY": "k" * 32,
        }
    )
    assert settings.authority == f"https://login.microsoftonline.com/{TENANT_ID}"
    assert settings.graph_endpoint == "https://graph.microsoft.com/v1.0"
    assert settings.scopes == ("User.Read",)
    assert settings.post_logout_redirect_uri == "https://app.example/"
    assert settings.redirect_path == "/getAToken"
    assert settings.response_mode == "form_post"  # https: what MSAL and RFC 9700 recommend
    assert settings.app_env == "production"
    assert settings.trust_proxy is False
    assert settings.ca_bundle is None
    assert settings.session_dir == DEFAULT_SESSION_DIR
    assert settings.log_level == "INFO"
    assert settings.secure_cookies is True
    assert settings.tenant_is_guid is True


def test_empty_environment_lists_every_missing_variable_at_once() -> None:
    problems = errors_of({})
    for name in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI", "SECRET_KEY"):
        assert any(p.startswith(name) for p in problems), (name, problems)


def test_every_malformed_variable_is_reported_in_one_error(tmp_path: Path) -> None:
    problems = errors_of(
        {
            **BASE_ENV,
            "AUTHORITY": "http://login.example/tenant",
            "REDIRECT_URI": "http://app.example/getAToken",
            "GRAPH_ENDPOINT": "graph.example",
            "CA_BUNDLE": str(tmp_path / "missing.pem"),
            "TRUST_PROXY": "maybe",
            "APP_ENV": "staging",
            "RESPONSE_MODE": "fragment",
            "LOG_LEVEL": "LOUD",
            "SCOPE": "User.Read openid",
            "POST_LOGOUT_REDIRECT_URI": "/relative",
        }
    )
    prefixes = [
        "AUTHORITY",
        "REDIRECT_URI must use https",
        "GRAPH_ENDPOINT",
        "CA_BUNDLE",
        "TRUST_PROXY",
        "APP_ENV",
        "RESPONSE_MODE",
        "LOG_LEVEL",
        "SCOPE",
        "POST_LOGOUT_REDIRECT_URI",
    ]
    for prefix in prefixes:
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    assert len(problems) == len(prefixes)
    assert "SCOPE" in str(SettingsError(problems))


@pytest.mark.parametrize(
    "redirect_uri",
    ["/getAToken", "getAToken", "ftp://app.example/cb", "http://app.example/cb", "https://x/#f"],
)
def test_redirect_uri_must_be_absolute_and_https_unless_localhost(redirect_uri: str) -> None:
    problems = errors_of({**BASE_ENV, "REDIRECT_URI": redirect_uri})
    assert [p for p in problems if p.startswith("REDIRECT_URI")]


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://localhost:5000/getAToken", "http://127.0.0.1:8000/cb", "https://app.example/cb"],
)
def test_http_redirect_uri_is_allowed_only_for_localhost(redirect_uri: str) -> None:
    assert (
        Settings.from_env({**BASE_ENV, "REDIRECT_URI": redirect_uri}).redirect_uri == redirect_uri
    )


def test_redirect_uri_without_a_path_gets_the_tutorial_callback_path() -> None:
    settings = Settings.from_env({**BASE_ENV, "REDIRECT_URI": "https://app.example"})
    assert settings.redirect_uri == "https://app.example/getAToken"
    assert settings.post_logout_redirect_uri == "https://app.example/"


@pytest.mark.parametrize("path", ["/", "/login", "/logout", "/profile", "/healthz"])
def test_redirect_uri_must_not_shadow_an_app_page(path: str) -> None:
    assert errors_of({**BASE_ENV, "REDIRECT_URI": f"http://localhost:5000{path}"})


@pytest.mark.parametrize(
    "authority",
    ["https://login.example", "https://login.example/", "login.example/t", "https://x/t?q=1"],
)
def test_authority_must_be_https_with_a_tenant_segment(authority: str) -> None:
    problems = errors_of({**BASE_ENV, "AUTHORITY": authority})
    assert [p for p in problems if p.startswith("AUTHORITY")]


@pytest.mark.parametrize(
    ("authority", "expected"),
    [
        (f"https://login.microsoftonline.com/{TENANT_ID}", True),
        ("https://login.microsoftonline.us/contoso.onmicrosoft.com", True),
        (f"https://localhost:8443/{TENANT_ID}", False),
        (f"https://login.entra-lab.test/{TENANT_ID}", False),
        (f"https://login.microsoftonline.com.evil.example/{TENANT_ID}", False),
    ],
)
def test_instance_discovery_is_off_for_non_microsoft_hosts(authority: str, expected: bool) -> None:
    settings = Settings.from_env({**BASE_ENV, "AUTHORITY": authority})
    assert settings.instance_discovery is expected


def test_authority_trailing_slash_is_removed() -> None:
    settings = Settings.from_env({**BASE_ENV, "AUTHORITY": "https://localhost:8443/t/"})
    assert settings.authority == "https://localhost:8443/t"


def test_scope_is_space_separated() -> None:
    settings = Settings.from_env({**BASE_ENV, "SCOPE": "User.Read  Mail.Read"})
    assert settings.scopes == ("User.Read", "Mail.Read")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("off", False)])
def test_trust_proxy_parses_booleans(raw: str, expected: bool) -> None:
    assert Settings.from_env({**BASE_ENV, "TRUST_PROXY": raw}).trust_proxy is expected


def test_development_generates_a_secret_key_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = {k: v for k, v in BASE_ENV.items() if k != "SECRET_KEY"}
    with caplog.at_level(logging.WARNING, logger="client_app.settings"):
        first = Settings.from_env({**environ, "APP_ENV": "development"})
    second = Settings.from_env({**environ, "APP_ENV": "development"})
    assert len(first.secret_key) >= 32 and first.secret_key != second.secret_key
    assert "SECRET_KEY is not set" in caplog.text


def test_development_defaults_the_redirect_uri_to_the_local_tutorial_one() -> None:
    environ = {k: v for k, v in BASE_ENV.items() if k != "REDIRECT_URI"}
    settings = Settings.from_env({**environ, "APP_ENV": "development"})
    assert settings.redirect_uri == "http://localhost:5000/getAToken"
    assert settings.post_logout_redirect_uri == "http://localhost:5000/"


def test_ca_bundle_must_exist_and_is_kept(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert Settings.from_env({**BASE_ENV, "CA_BUNDLE": str(bundle)}).ca_bundle == str(bundle)


def test_secrets_are_not_in_the_repr() -> None:
    text = repr(Settings.from_env(BASE_ENV))
    assert BASE_ENV["CLIENT_SECRET"] not in text
    assert BASE_ENV["SECRET_KEY"] not in text


def test_tenant_id_that_is_not_a_guid_does_not_pin_the_tid() -> None:
    settings = Settings.from_env({**BASE_ENV, "TENANT_ID": "organizations"})
    assert settings.tenant_is_guid is False


@pytest.mark.parametrize(
    ("redirect_uri", "explicit", "expected"),
    [
        ("https://app.example/getAToken", "", "form_post"),
        ("http://localhost:5000/getAToken", "", "query"),  # a Lax cookie would not come back
        ("https://app.example/getAToken", "query", "query"),
        ("http://localhost:5000/getAToken", "FORM_POST", "form_post"),
    ],
)
def test_response_mode_defaults_to_form_post_over_https(
    redirect_uri: str, explicit: str, expected: str
) -> None:
    env = {**BASE_ENV, "REDIRECT_URI": redirect_uri, "RESPONSE_MODE": explicit}
    assert Settings.from_env(env).response_mode == expected


# --- secretless (issue 20) ----------------------------------------------------------------------

MI_CLIENT_ID = "3d1f5c2b-7a4e-4b8f-9c61-2e0d8a7b5f43"


def test_a_managed_identity_replaces_the_client_secret() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "CLIENT_SECRET"}
    settings = Settings.from_env({**env, "MANAGED_IDENTITY_CLIENT_ID": MI_CLIENT_ID})
    assert settings.secretless and settings.client_secret == ""
    assert settings.managed_identity_client_id == MI_CLIENT_ID
    assert MI_CLIENT_ID not in repr(settings) or "client_secret" not in repr(settings)


def test_a_client_secret_wins_over_a_managed_identity() -> None:
    settings = Settings.from_env({**BASE_ENV, "MANAGED_IDENTITY_CLIENT_ID": MI_CLIENT_ID})
    assert not settings.secretless


def test_neither_secret_nor_managed_identity_is_refused() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "CLIENT_SECRET"}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert "CLIENT_SECRET is required" in caught.value.problems


def test_a_managed_identity_client_id_must_be_a_guid() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "CLIENT_SECRET"}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**env, "MANAGED_IDENTITY_CLIENT_ID": "my-identity"})
    assert any(
        p.startswith("MANAGED_IDENTITY_CLIENT_ID must be a GUID") for p in caught.value.problems
    )
