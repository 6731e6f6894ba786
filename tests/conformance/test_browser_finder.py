"""Which Chromium the suites launch, in the documented order, and what happens with none."""

from __future__ import annotations

import pytest

from conformance import browser
from conformance.browser import BrowserChoice, BrowserNotFound, ensure_browser, find_browser

MANAGED = "/root/.cache/ms-playwright/chromium-1/chrome-linux64/chrome"


def fake_fs(*existing: str, on_path: dict[str, str] | None = None) -> dict[str, object]:
    """find_browser keyword arguments for a pretend file system and PATH."""
    paths = on_path or {}
    return {
        "exists": lambda p: p in existing,
        "which": lambda name: paths.get(name),
        "environ": {},
    }


def test_conformance_browser_wins_over_every_other_chromium() -> None:
    kwargs = fake_fs("/opt/chrome", MANAGED, on_path={"chromium": "/usr/bin/chromium"})
    kwargs["environ"] = {"CONFORMANCE_BROWSER": "/opt/chrome"}
    assert find_browser(MANAGED, **kwargs) == BrowserChoice("/opt/chrome", "CONFORMANCE_BROWSER")


def test_conformance_browser_pointing_nowhere_is_an_error_not_a_fallback() -> None:
    kwargs = fake_fs(MANAGED)
    kwargs["environ"] = {"CONFORMANCE_BROWSER": "/nope/chrome"}
    with pytest.raises(BrowserNotFound, match="CONFORMANCE_BROWSER"):
        find_browser(MANAGED, **kwargs)


def test_playwright_managed_chromium_comes_before_the_system_one() -> None:
    kwargs = fake_fs(MANAGED, on_path={"chromium": "/usr/bin/chromium"})
    assert find_browser(MANAGED, **kwargs) == BrowserChoice(None, "playwright")


def test_system_chromium_names_are_tried_in_order() -> None:
    kwargs = fake_fs(on_path={"chromium-browser": "/usr/bin/chromium-browser"})
    assert find_browser(MANAGED, **kwargs) == BrowserChoice("/usr/bin/chromium-browser", "system")
    kwargs = fake_fs(on_path={"chromium": "/a/chromium", "chromium-browser": "/b/cb"})
    assert find_browser(MANAGED, **kwargs) == BrowserChoice("/a/chromium", "system")


def test_a_headless_run_prefers_the_systems_headless_shell_and_a_headed_one_chromium() -> None:
    on_path = {"chromium": "/usr/bin/chromium", "chromium-headless-shell": "/usr/bin/shell"}
    kwargs = fake_fs(on_path=on_path)
    assert find_browser(MANAGED, **kwargs) == BrowserChoice("/usr/bin/shell", "system")
    assert find_browser(MANAGED, headless=False, **kwargs) == BrowserChoice(
        "/usr/bin/chromium", "system"
    )
    # Playwright picks its own headless build for its managed Chromium.
    kwargs = fake_fs(MANAGED, on_path=on_path)
    assert find_browser(MANAGED, **kwargs) == BrowserChoice(None, "playwright")


def test_no_chromium_runs_playwright_install_then_uses_what_it_installed() -> None:
    installed: list[str] = []

    def install() -> bool:
        installed.append(MANAGED)
        return True

    choice = ensure_browser(
        MANAGED, install=install, exists=lambda p: p in installed, which=lambda n: None, environ={}
    )
    assert choice == BrowserChoice(None, "playwright")
    assert installed == [MANAGED]


def test_no_chromium_and_a_failed_install_stops_with_what_to_do() -> None:
    with pytest.raises(BrowserNotFound, match="CONFORMANCE_BROWSER") as caught:
        ensure_browser(MANAGED, install=lambda: False, **fake_fs())
    assert "playwright install chromium" in str(caught.value)


def test_install_announces_itself_and_runs_playwrights_installer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    class Done:
        returncode = 1

    def run(command: list[str], check: bool) -> Done:
        calls.append(command)
        return Done()

    monkeypatch.setattr(browser.subprocess, "run", run)
    assert browser._install_chromium() is False
    assert calls and calls[0][1:] == ["-m", "playwright", "install", "chromium"]
    assert "python -m playwright install chromium" in capsys.readouterr().out
