"""Finding and launching Chromium for the suites.

Order: `CONFORMANCE_BROWSER` (an explicit choice always wins), then the Chromium that
`playwright install` manages, then a system Chromium (`chromium`, `chromium-browser`,
`/usr/bin/chromium`); a headless run first tries the system's `chromium-headless-shell`, the
build Playwright itself runs headless (it needs about a third of full Chromium's CPU). When
none exists, `ensure_browser` runs `python -m playwright install chromium` once, and only if
that fails too stops with one message saying what to do.
`--browser-channel NAME` (pytest-playwright's option) skips the search and launches that
Playwright channel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

ENV_BROWSER = "CONFORMANCE_BROWSER"
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "/usr/bin/chromium")
HEADLESS_SHELLS = ("chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell")
# Chromium's own background traffic (updates, sync, safe browsing) fails slowly on a closed
# network; the sandbox needs user namespaces that containers often lack.
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
)


class BrowserNotFound(RuntimeError):
    """No usable Chromium, and installing Playwright's did not help."""


@dataclass(frozen=True)
class BrowserChoice:
    """Which Chromium to launch: `executable` None means Playwright's managed one, or the
    Playwright `channel` (e.g. `chrome`) when one is named."""

    executable: str | None
    source: str  # "CONFORMANCE_BROWSER", "playwright", "system" or "channel"
    channel: str | None = None


def find_browser(
    managed_path: str | None,
    *,
    headless: bool = True,
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    exists: Callable[[str], bool] = os.path.exists,
) -> BrowserChoice | None:
    """The first usable Chromium in the documented order, or None.

    A `CONFORMANCE_BROWSER` that points nowhere is an error, not a reason to silently use
    another browser.
    """
    explicit = environ.get(ENV_BROWSER, "").strip()
    if explicit:
        path = explicit if exists(explicit) else which(explicit)
        if not path:
            raise BrowserNotFound(f"{ENV_BROWSER}={explicit!r} is not an executable file")
        return BrowserChoice(path, ENV_BROWSER)
    if managed_path and exists(managed_path):
        return BrowserChoice(None, "playwright")
    for name in (HEADLESS_SHELLS if headless else ()) + SYSTEM_BROWSERS:
        path = which(name)
        if path:
            return BrowserChoice(path, "system")
    return None


def _install_chromium() -> bool:
    print("conformance: no Chromium found; running `python -m playwright install chromium`")
    done = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=False)
    return done.returncode == 0


def ensure_browser(
    managed_path: str | None,
    *,
    install: Callable[[], bool] = _install_chromium,
    **find_kwargs: object,
) -> BrowserChoice:
    """`find_browser`, installing Playwright's Chromium first when there is none."""
    choice = find_browser(managed_path, **find_kwargs)  # type: ignore[arg-type]
    if choice is None and install():
        choice = find_browser(managed_path, **find_kwargs)  # type: ignore[arg-type]
    if choice is None:
        raise BrowserNotFound(
            "no Chromium to run the conformance suites: `python -m playwright install chromium` "
            f"failed and none of {', '.join(SYSTEM_BROWSERS)} is on PATH. Install Chromium "
            f"(e.g. `apt-get install chromium`) or set {ENV_BROWSER} to its executable."
        )
    return choice


def launch_browser(
    playwright: Playwright,
    choice: BrowserChoice,
    *,
    headed: bool = False,
    slowmo: float = 0,
    spki_pins: Sequence[str] = (),
) -> Browser:
    """Launch Chromium; `spki_pins` are the only certificate keys trusted beyond the system's."""
    args = list(LAUNCH_ARGS)
    if spki_pins:
        args.append("--ignore-certificate-errors-spki-list=" + ",".join(spki_pins))
    return playwright.chromium.launch(
        executable_path=choice.executable,
        channel=choice.channel,
        headless=not headed,
        slow_mo=slowmo,
        args=args,
    )
