"""Config files are checked at load: each mistake is one short `ConfigError` naming the file,
the field path and the expected type; `extends = "defaults"` adds to the embedded config;
`config --defaults` writes a file that reads back to the same config."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_entra.cli import main
from mock_entra.core.config import (
    DEFAULT_CONFIG,
    DEFAULT_TENANT_ID,
    AppRegistration,
    ConfigError,
    MockConfig,
    Tenant,
    TestUser,
    config_text_format,
    config_to_dict,
    load_config,
    load_config_value,
)
from mock_entra.core.config.load import MAX_FILE_BYTES, config_from_dict
from mock_entra.core.config.write import _toml_string, config_to_toml

GUID = "a GUID, e.g. 8eaef023-2b34-4da1-9baa-8bc8c9d6a490"  # what a GUID field expects
ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "mock-entra.toml"
EXTEND_EXAMPLE = ROOT / "examples" / "extend-defaults.toml"

USER = """
  [[tenants.users]]
  username = "alex@fabrikam.onmicrosoft.com"
  password = "Alex-Pa55!"
  display_name = "Alex Wilber"
  object_id = "0f6d1b3a-2c4e-4f5a-8b9c-1d2e3f4a5b6c"
"""
TENANT = """
[[tenants]]
tenant_id = "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"
display_name = "Fabrikam"
"""


def write(tmp_path: Path, text: str, name: str = "mock.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert len(message.splitlines()) <= 21 and "Traceback" not in message
    return message


# --- each mistake, named by file and field path --------------------------------------------------


def test_a_word_for_a_lifetime_names_file_field_and_type(tmp_path: Path):
    path = write(tmp_path, 'code_lifetime = "ten"\n' + TENANT + USER)
    message = refused(path)
    assert message == (
        f"{path}: code_lifetime: expected a whole number of seconds from 1 to 315360000, "
        'got the string "ten"'
    )


def test_a_user_without_object_id_names_the_field_path(tmp_path: Path):
    user = USER.replace('  object_id = "0f6d1b3a-2c4e-4f5a-8b9c-1d2e3f4a5b6c"\n', "").replace(
        "alex@", "diego@"
    )
    path = write(tmp_path, TENANT + USER + user)
    message = refused(path)
    assert message == (
        f"{path}: tenants[0].users[1].object_id: required, but missing (expected a GUID, "
        "e.g. 8eaef023-2b34-4da1-9baa-8bc8c9d6a490)"
    )
    assert "__init__" not in message


def test_an_unknown_field_suggests_the_close_one(tmp_path: Path):
    path = write(tmp_path, TENANT + USER.replace("display_name", "dispaly_name"))
    message = refused(path)
    expected = "tenants[0].users[0].dispaly_name: unknown field; did you mean 'display_name'?"
    assert f"{path}: {expected}" in message


def test_an_unknown_field_with_nothing_close_lists_the_known_ones(tmp_path: Path):
    path = write(tmp_path, TENANT + "favourite_colour = 1\n")
    message = refused(path)
    assert "tenants[0].favourite_colour: unknown field; known fields: tenant_id, display_name" in (
        message
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("code_lifetime = 0", "got 0"),
        ("code_lifetime = -5", "got -5"),
        ("code_lifetime = 1.5", "got 1.5"),
        ("code_lifetime = true", "got true"),
        ("code_lifetime = 99999999999999999", "got 99999999999999999"),
        ("access_token_lifetime = inf", "got inf"),
        ("refresh_token_inactivity = nan", "got nan"),
    ],
)
def test_lifetimes_are_finite_positive_and_bounded(tmp_path: Path, line: str, expected: str):
    path = write(tmp_path, line + "\n" + TENANT)
    message = refused(path)
    name = line.split()[0]
    assert message.startswith(f"{path}: {name}: expected a whole number of seconds from 1 to ")
    assert message.endswith(expected)


def test_wrong_types_name_the_expected_type(tmp_path: Path):
    path = write(
        tmp_path,
        TENANT
        + 'domains = "fabrikam.example"\n'
        + '  [[tenants.apps]]\n  client_id = 7\n  display_name = "X"\n'
        + '  require_consent = "no"\n'
        + '  [tenants.apps.application_permissions]\n  "https://graph.microsoft.com" = "All"\n',
    )
    lines = refused(path).splitlines()
    assert lines == [
        f"{path}: tenants[0].domains: expected a list of strings, "
        'got the string "fabrikam.example"',
        f"{path}: tenants[0].apps[0].client_id: expected {GUID}, got 7",
        f"{path}: tenants[0].apps[0].application_permissions"
        '["https://graph.microsoft.com"]: expected a list of strings, got the string "All"',
        f'{path}: tenants[0].apps[0].require_consent: expected true or false, got the string "no"',
    ]


def test_json_is_checked_the_same_way(tmp_path: Path):
    raw = config_to_dict(DEFAULT_CONFIG)
    raw["tenants"][0]["users"][1]["object_id"] = None
    raw["signin_page_lifetime"] = "1h"
    path = write(tmp_path, json.dumps(raw), "mock.json")
    assert refused(path).splitlines() == [
        f"{path}: tenants[0].users[1].object_id: expected {GUID}, got null",
        f"{path}: signin_page_lifetime: expected a whole number of seconds from 1 to 315360000, "
        'got the string "1h"',
    ]


def test_json_duplicate_keys_are_refused(tmp_path: Path):
    path = write(tmp_path, '{"code_lifetime": 60, "code_lifetime": 70}', "mock.json")
    assert "duplicate key 'code_lifetime'" in refused(path)


def test_empty_required_values_and_duplicate_keys_in_lists(tmp_path: Path):
    path = write(tmp_path, TENANT + USER + USER.replace("Alex Wilber", "Alex Again") + USER.replace(
        '"alex@fabrikam.onmicrosoft.com"', '""'))  # fmt: skip
    assert refused(path).splitlines() == [
        f"{path}: tenants[0].users[1].username: 'alex@fabrikam.onmicrosoft.com' is already "
        "tenants[0].users[0]",
        f"{path}: tenants[0].users[2].username: required, but empty",
    ]


def test_rules_across_fields_are_reported_with_the_file(tmp_path: Path):
    assert refused(write(tmp_path, "tenants = []\n")) == (
        f"{tmp_path / 'mock.toml'}: tenants: at least one tenant is required"
    )


def test_a_syntax_error_names_the_file_and_the_line(tmp_path: Path):
    path = write(tmp_path, "code_lifetime = = 3\n")
    message = refused(path)
    assert message.startswith(f"{path}: not valid TOML: ") and "line 1" in message


def test_a_missing_file_is_one_line(tmp_path: Path):
    message = refused(tmp_path / "nope.toml")  # one line, no traceback
    missing = tmp_path / "nope.toml"
    assert message == f"{missing}: cannot read the config file: No such file or directory"


def test_ids_must_be_guids_and_every_problem_is_listed_in_one_path_style(tmp_path: Path):
    # A bad tenant id does not hide the problems below it; each line is `file: path: ...`,
    # the problems a dataclass finds itself (redirect URIs, certificates) included.
    path = write(
        tmp_path,
        """
[[tenants]]
tenant_id = "fabrikam"
display_name = "Fabrikam"

  [[tenants.users]]
  username = "alex@fabrikam.onmicrosoft.com"
  password = "x"
  display_name = "Alex"
  object_id = "not-a-guid"
  groups = ["sales"]

  [[tenants.apps]]
  client_id = "my-app"
  display_name = "App"
  redirect_uris = ["http://example.com/cb", "https://ok.example.com/cb", "https://*.example.com/cb"]
  key_credentials = ["not a pem"]
""",
    )
    got = lambda s: f'got the string "{s}"'  # noqa: E731
    assert refused(path).splitlines() == [
        f"{path}: tenants[0].tenant_id: expected {GUID}, {got('fabrikam')}",
        f"{path}: tenants[0].users[0].object_id: expected {GUID}, {got('not-a-guid')}",
        f"{path}: tenants[0].users[0].groups[0]: expected {GUID}, {got('sales')}",
        f"{path}: tenants[0].apps[0].client_id: expected {GUID}, {got('my-app')}",
        f"{path}: tenants[0].apps[0].redirect_uris[0]: expected a web redirect URI, "
        f"{got('http://example.com/cb')}: must start with https:// (http:// only for localhost "
        "or 127.0.0.1)",
        f"{path}: tenants[0].apps[0].redirect_uris[2]: expected a web redirect URI, "
        f"{got('https://*.example.com/cb')}: wildcards are not supported (Learn: 'Redirect URI "
        "restrictions')",
        f"{path}: tenants[0].apps[0].key_credentials[0]: expected a PEM certificate, "
        f"{got('not a pem')}: no -----BEGIN CERTIFICATE----- in it",
    ]


def test_a_config_built_in_python_is_held_to_the_same_rules():
    with pytest.raises(ConfigError) as caught:
        AppRegistration(
            client_id="my-app",
            display_name="x",
            redirect_uris=("https://ok.example.com/cb", "http://example.com/cb"),
        )
    assert caught.value.problems == (
        ("client_id", f"expected {GUID}, got 'my-app'"),
        (
            "redirect_uris[1]",
            "expected a web redirect URI, got 'http://example.com/cb': must start with https:// "
            "(http:// only for localhost or 127.0.0.1)",
        ),
    )
    with pytest.raises(ConfigError, match=r"^tenant_id: expected a GUID"):
        Tenant(tenant_id="fabrikam", display_name="Fabrikam")
    # An empty service principal id means "derive one"; a made-up one is refused.
    assert AppRegistration(client_id=DEFAULT_CONFIG.default_tenant.apps[0].client_id,
                           display_name="x").sp_object_id  # fmt: skip
    with pytest.raises(ConfigError, match="service_principal_id"):
        AppRegistration(client_id=DEFAULT_TENANT_ID, display_name="x", service_principal_id="sp")


def test_many_problems_fit_on_one_screen(tmp_path: Path):
    users = "".join(USER.replace("display_name", f"x{i}") for i in range(100))
    message = refused(write(tmp_path, TENANT + users))
    assert message.splitlines()[-1].endswith("more problem(s)")


# --- deep and huge files -------------------------------------------------------------------------


def test_a_100000_deep_json_is_one_line_not_a_recursion_error(tmp_path: Path):
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000, "deep.json")
    assert refused(path) == f"{path}: nested more than 32 levels deep"


def test_a_deep_toml_is_one_line(tmp_path: Path):
    deep = write(tmp_path, "x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert refused(deep) == f"{deep}: nested more than 32 levels deep"
    dotted = write(tmp_path, "a" + ".a" * 40 + " = 1\n", "dotted.toml")
    assert refused(dotted) == f"{dotted}: nested more than 32 levels deep"


def test_a_json_nested_just_past_the_limit_is_refused_and_at_it_is_read(tmp_path: Path):
    # 33 levels of lists under the top-level table: refused before the schema is looked at.
    too_deep = write(tmp_path, '{"x": ' + "[" * 32 + "]" * 32 + "}", "deep.json")
    assert refused(too_deep) == f"{too_deep}: nested more than 32 levels deep"
    at_limit = write(tmp_path, '{"x": ' + "[" * 31 + "]" * 31 + "}", "ok.json")
    assert "x: unknown field" in refused(at_limit)  # parsed, then checked


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path):
    path = write(tmp_path, "# " + "x" * MAX_FILE_BYTES + "\n")
    assert refused(path) == f"{path}: larger than 1024 KiB; not a config file"


# --- configs built in Python are bounded too ------------------------------------------------------


def test_a_config_built_in_python_with_a_word_for_a_lifetime_is_refused():
    with pytest.raises(ConfigError, match="code_lifetime: expected a whole number of seconds"):
        dataclasses.replace(DEFAULT_CONFIG, code_lifetime="ten")
    with pytest.raises(ConfigError, match="access_token_lifetime"):
        dataclasses.replace(DEFAULT_CONFIG, access_token_lifetime=0)
    assert dataclasses.replace(DEFAULT_CONFIG, access_token_lifetime=None).code_lifetime == 600


# --- today's files, and adding to the defaults ---------------------------------------------------


def test_the_example_replaces_the_defaults_as_before():
    config = load_config(EXAMPLE)
    assert [t.display_name for t in config.tenants] == ["Fabrikam"]
    fabrikam = config.default_tenant
    assert [u.username for u in fabrikam.users] == [
        "alex@fabrikam.onmicrosoft.com",
        "diego@fabrikam.onmicrosoft.com",
    ]
    assert fabrikam.apps[0].application_permissions == {
        "https://graph.microsoft.com": ("User.Read.All",),
        "api://fabrikam-tasks": ("Tasks.Read.All",),
    }
    assert config.code_lifetime == 600 and config.access_token_lifetime is None


def test_extends_defaults_adds_users_and_apps_without_restating_them():
    config = load_config(EXTEND_EXAMPLE)
    contoso = config.default_tenant
    default = DEFAULT_CONFIG.default_tenant
    assert [u.username for u in contoso.users] == [
        *(u.username for u in default.users),
        "bob@contoso.onmicrosoft.com",
    ]
    assert contoso.users[:2] == default.users  # untouched
    sample = contoso.app(default.apps[0].client_id)
    assert sample.redirect_uris[-1] == "http://localhost:3000/auth/callback"
    assert sample.client_secrets == default.apps[0].client_secrets  # kept: not restated
    assert contoso.app("9d1c5e7a-2b4f-4c6d-8e0a-1b3c5d7e9f21").display_name == "Contoso SPA"
    assert len(contoso.apps) == 3 and config.tenants[1:] == DEFAULT_CONFIG.tenants[1:]


def test_extends_updates_a_matching_entry_field_by_field_and_adds_tenants():
    raw = {
        "extends": "defaults",
        "code_lifetime": 60,
        "tenants": [
            {
                "tenant_id": DEFAULT_TENANT_ID.upper(),  # keys compare case-insensitively
                "users": [{"username": "ADELE@contoso.onmicrosoft.com", "password": "new"}],
            },
            {"tenant_id": "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f", "display_name": "Fabrikam"},
        ],
    }
    config = config_from_dict(raw, source="inline")
    assert config.code_lifetime == 60
    assert [t.display_name for t in config.tenants] == ["Contoso", "Microsoft Accounts", "Fabrikam"]
    adele = config.default_tenant.users[0]
    assert adele.password == "new" and adele.display_name == "Adele Vance"
    assert config.default_tenant.apps == DEFAULT_CONFIG.default_tenant.apps


def test_extends_checks_new_entries_in_full_and_names_its_own_mistakes():
    raw = {
        "extends": "default",
        "tenants": [{"tenant_id": DEFAULT_TENANT_ID, "users": [{"username": "bob@x"}]}],
    }
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw, source="f.json")
    assert str(caught.value).splitlines()[0] == (
        'f.json: extends: expected "defaults", got the string "default"'
    )
    raw["extends"] = "defaults"
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw, source="f.json")
    assert str(caught.value).splitlines() == [
        f"f.json: tenants[0].users[0].{name}: required, but missing (expected {kind})"
        for name, kind in (
            ("password", "a string"),
            ("display_name", "a string"),
            ("object_id", GUID),
        )
    ]


def test_a_misspelt_extends_is_suggested():
    with pytest.raises(ConfigError, match="extend: unknown field; did you mean 'extends'"):
        config_from_dict({"extend": "defaults", "tenants": []}, source="f")


# --- writing the defaults ------------------------------------------------------------------------


def test_config_defaults_prints_toml_that_reads_back_to_the_defaults(tmp_path, capsys):
    assert main(["config", "--defaults"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# mock-entra config: the embedded defaults")
    path = write(tmp_path, text)
    assert load_config(path) == DEFAULT_CONFIG


def test_config_prints_the_effective_config_of_a_file(capsys):
    assert main(["config", "--config", str(EXTEND_EXAMPLE), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == config_to_dict(load_config(EXTEND_EXAMPLE))
    assert "extends" not in printed


def test_config_with_a_broken_file_is_exit_2_and_one_message(tmp_path, capsys):
    path = write(tmp_path, 'code_lifetime = "ten"\n' + TENANT)
    assert main(["config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mock-entra: config error: {path}: code_lifetime: ")


def test_serve_with_a_broken_file_starts_nothing(tmp_path, capsys):
    path = write(tmp_path, TENANT + USER.replace("object_id", "objectid"))
    state = tmp_path / "state"
    assert main(["serve", "--config", str(path), "--state-dir", str(state), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "tenants[0].users[0].objectid: unknown field; did you mean 'object_id'?" in err
    assert not state.exists()


def test_the_example_round_trips_through_toml():
    config = load_config(EXAMPLE)
    assert config_from_dict(tomllib.loads(config_to_toml(config))) == config


@given(st.text(max_size=40))
def test_any_string_is_written_as_toml_that_reads_back(text: str):
    assert tomllib.loads(f"k = {_toml_string(text)}")["k"] == text


# --- documentation ------------------------------------------------------------------------------


def _schema(cls: type) -> list[type]:
    """The config dataclasses reachable from `cls`, found the way the checker finds them."""
    import typing

    found = [cls]
    for hint in typing.get_type_hints(cls).values():
        for part in (hint, *typing.get_args(hint)):
            if dataclasses.is_dataclass(part) and part not in found:
                found += [c for c in _schema(part) if c not in found]
    return found


def test_every_field_is_documented_in_docs_configuration():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    classes = _schema(MockConfig)
    assert {Tenant, TestUser, AppRegistration} < set(classes)
    for cls in classes:
        for field in dataclasses.fields(cls):
            # A name two tables share (`client_id`: an app's, a scenario's) has a row in each.
            rows = re.findall(rf"^\| `{field.name}` \|.*$", doc, re.M)
            assert rows, f"{cls.__name__}.{field.name} is not in docs/configuration.md"
            required = field.default is dataclasses.MISSING and (
                field.default_factory is dataclasses.MISSING
            )
            assert any(("**required" in row) == required for row in rows), rows


def test_the_docs_extension_example_loads(tmp_path: Path):
    doc = (ROOT / "docs" / "configuration.md").read_text()
    block = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
    config = load_config(write(tmp_path, block))
    assert "bob@contoso.onmicrosoft.com" in [u.username for u in config.default_tenant.users]
    assert "configuration.md" in (ROOT / "README.md").read_text()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


DEFAULT_PATHS = [p for p in _paths(config_to_dict(DEFAULT_CONFIG)) if p]


@settings(deadline=None)  # a loaded machine: correctness, not speed
@given(st.sampled_from(DEFAULT_PATHS), JSON_VALUES, st.booleans())
def test_any_value_anywhere_is_accepted_or_a_config_error(path, value, extends):
    raw = config_to_dict(DEFAULT_CONFIG)
    parent = raw
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    if extends:
        raw["extends"] = "defaults"
    try:
        config = config_from_dict(raw, source="fuzz.json")
    except ConfigError as error:
        assert all(line.startswith("fuzz.json: ") for line in str(error).splitlines())
    else:
        assert isinstance(config, MockConfig)


# --- the config as text (MOCK_ENTRA_CONFIG in a container) --------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("mock.toml", None),
        ("/etc/mock-entra/mock.toml", None),
        ("dir with spaces/a=b.json", None),  # one line, no leading brace: a path
        ('extends = "defaults"\n', "toml"),
        ('\r\n[[tenants]]\r\ntenant_id = "x"', "toml"),
        ('  {"tenants": []}', "json"),
        ('{"tenants": []}', "json"),
    ],
)
def test_a_config_value_is_text_when_it_spans_lines_or_is_a_json_object(value, kind):
    assert config_text_format(value) == kind


def test_config_text_reads_as_the_same_file_would(tmp_path):
    text = EXAMPLE.read_text()
    assert load_config_value(text) == load_config(EXAMPLE)
    as_json = json.dumps(config_to_dict(load_config(EXAMPLE)))
    assert load_config_value(as_json) == load_config(EXAMPLE)
    assert load_config_value(str(EXAMPLE)) == load_config(EXAMPLE)  # a path stays a path
    assert load_config_value(EXTEND_EXAMPLE.read_text()) == load_config(EXTEND_EXAMPLE)


def test_broken_config_text_is_one_message_naming_the_field():
    with pytest.raises(ConfigError) as caught:
        load_config_value('code_lifetime = "ten"\n' + TENANT)
    assert str(caught.value).startswith("config text: code_lifetime: ")
    with pytest.raises(ConfigError, match=r"^config text: not valid TOML"):
        load_config_value("tenants = [\n")
    with pytest.raises(ConfigError, match=r"^config text: .*JSON"):
        load_config_value('{"tenants": ')
    with pytest.raises(ConfigError, match="larger than"):
        load_config_value("#" * MAX_FILE_BYTES + "\n")


def test_one_line_of_toml_taken_for_a_path_says_how_to_give_text():
    with pytest.raises(ConfigError, match="more than one line of TOML"):
        load_config_value('extends = "defaults"')


def test_config_command_prints_config_text_without_echoing_it(capsys):
    assert main(["config", "--config", EXAMPLE.read_text()]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# mock-entra config: the config text given,")
    assert load_config_value(out) == load_config(EXAMPLE)


def test_config_text_the_environment_could_not_decode_is_one_message():
    # os.environ gives undecodable bytes as surrogates: a UnicodeEncodeError, not a traceback.
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_config_value('{"a": "\udcff"}')
