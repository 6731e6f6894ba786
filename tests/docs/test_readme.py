"""The README stays true: its two commands, every setting and config field documented."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from client_app.settings import Settings
from mock_entra.core.config import AppRegistration, MockConfig, Tenant, TestUser

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["uv run entra-lab demo", "uv run pytest"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "entra-lab" in scripts


def test_every_mock_config_field_is_documented():
    for cls in (MockConfig, Tenant, TestUser, AppRegistration):
        for field in dataclasses.fields(cls):
            documented = re.search(rf"`[^`\n]*\b{field.name}\b[^`\n]*`", README)
            assert documented, f"{cls.__name__}.{field.name} is not in README"


def test_every_app_setting_read_from_the_environment_is_documented():
    source = (ROOT / "client_app" / "settings.py").read_text()
    variables = set(re.findall(r'(?:get|required)\("([A-Z_]+)"\)', source))
    assert variables >= {"TENANT_ID", "CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI"}
    for name in variables:
        assert f"`{name}`" in README, f"{name} is not in README"
    assert len(dataclasses.fields(Settings)) >= len(variables)


def test_launcher_clears_exactly_the_apps_variables():
    # entra_lab may not import client_app, so it keeps its own copy of the list.
    from client_app.settings import ENV_VARIABLES
    from entra_lab.wiring import APP_VARIABLES

    assert set(APP_VARIABLES) == set(ENV_VARIABLES)
