"""The README and docs/ stay true: the two commands first, every setting and config field
documented (in the README or a page of docs/), links that resolve inside the repository, and
no words about how the project was made."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from client_app.settings import Settings
from mock_entra.core.config import AppRegistration, MockConfig, Tenant, TestUser

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
PAGES = {"README.md": README} | {
    f"docs/{page.name}": page.read_text() for page in sorted((ROOT / "docs").glob("*.md"))
}
DOCUMENTED = "\n".join(PAGES.values())
# Linked by the Graph work before its page landed: remove once docs/graph.md exists.
PENDING = {"docs/graph.md"} - {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_first_screen_says_what_it_is_what_it_needs_the_two_commands_and_what_to_open():
    first_screen = "\n".join(README.splitlines()[:40])
    # What it is, then the requirements, before any command.
    assert (
        first_screen.index("An offline Microsoft Entra ID")
        < first_screen.index("**Requirements**")
        < first_screen.index("```bash")
    )
    # The two commands, a block each: the demo holds its terminal, the tests run in another.
    blocks = re.findall(r"([^\n]*\n)(?:<!--[^\n]*-->\n)?```bash\n(.*?)```", first_screen, re.S)
    assert [b.strip() for _, b in blocks] == ["uv run entra-lab demo", "uv run pytest"]
    before_demo = first_screen[: first_screen.index("uv run entra-lab demo")]
    before_tests = first_screen[: first_screen.index("uv run pytest")]
    assert "In one terminal" in before_demo and "In another terminal" not in before_demo
    assert "In another terminal" in before_tests
    assert "open **http://localhost:5000**" in first_screen  # and what to do there
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "entra-lab" in scripts


def test_long_benchmark_and_hardening_tables_live_in_docs():
    for heading, page in (("## Performance", "docs/performance.md"),
                          ("## Limits and hardening", "docs/hardening.md")):  # fmt: skip
        section = README[README.index(heading) :].split("\n## ", 1)[0]
        assert "|---" not in section, f"{heading}: a table in the README"
        assert f"]({page})" in section


def test_every_mock_config_field_is_documented():
    for cls in (MockConfig, Tenant, TestUser, AppRegistration):
        for field in dataclasses.fields(cls):
            documented = re.search(rf"`[^`\n]*\b{field.name}\b[^`\n]*`", DOCUMENTED)
            assert documented, f"{cls.__name__}.{field.name} is not in README or docs/"


def test_every_app_setting_read_from_the_environment_is_documented():
    source = (ROOT / "client_app" / "settings.py").read_text()
    variables = set(re.findall(r'(?:get|required)\("([A-Z_]+)"\)', source))
    assert variables >= {"TENANT_ID", "CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI"}
    for name in variables:
        assert f"`{name}`" in DOCUMENTED, f"{name} is not in README or docs/"
    assert len(dataclasses.fields(Settings)) >= len(variables)


def test_launcher_clears_exactly_the_apps_variables():
    # entra_lab may not import client_app, so it keeps its own copy of the list.
    from client_app.settings import ENV_VARIABLES
    from entra_lab.wiring import APP_VARIABLES

    assert set(APP_VARIABLES) == set(ENV_VARIABLES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_links_resolve_inside_the_repository(name):
    page = ROOT / name
    for target in LINK.findall(PAGES[name]):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address, or an anchor on the same page
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{name}: {target} points outside the repository"
        if path.relative_to(ROOT).as_posix() in PENDING:
            continue
        assert path.exists(), f"{name}: {target} does not exist"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_words_about_how_the_project_was_made(name):
    said = re.findall(r"\bissue's\b|\bthe issues?\b|\.\./shared|/work/", PAGES[name])
    assert not said, f"{name} says {said}"


def test_run_against_your_tenant_names_the_application_permission_the_live_suite_needs():
    from mock_entra.core.config import DEFAULT_CONFIG, GRAPH_RESOURCE

    section = README[README.index("## Run against your tenant") :].split("\n## ", 1)[0]
    suite = (ROOT / "conformance" / "suites" / "test_idp_protocol.py").read_text()
    assert "no roles: grant the app an application permission" in suite  # what a live run says
    # The one the README names is one the mock's sample app holds, as the tenant's app must.
    granted = DEFAULT_CONFIG.default_tenant.apps[0].application_permissions[GRAPH_RESOURCE]
    assert "**application** permission `User.Read.All`" in section and "User.Read.All" in granted
    assert "Grant admin consent" in section and '"no roles"' in section
    assert "User.Read.All" in (ROOT / ".env.example").read_text()
    # Where the post-logout URI goes: a Web redirect URI, not the front-channel logout URL.
    assert "two **Redirect URIs**" in section and "https://<your-app>/`" in section
    assert "ENTRA_APP_URL=http://localhost:5000" in section  # the live suites, a local app
