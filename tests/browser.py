"""Driving Debian's Chromium with Playwright for the web application's end-to-end tests.

No browser is downloaded: Playwright launches the system's /usr/bin/chromium (installed by
scripts/install-system-packages.sh).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, expect

from skymesh.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking switches Chromium keeps dialling Google's hosts, which
# this closed network refuses (and it slows every start).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO_ROOT / "web" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        raise AssertionError(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextmanager
def logged_in(
    browser: Browser, base_url: str, username: str, password: str, viewport: dict | None = None
) -> Iterator[Page]:
    """A fresh browser session (its own storage) logged in through the login page."""
    context = browser.new_context(base_url=base_url, viewport=viewport or DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        yield page
        assert not errors, f"uncaught errors in the page: {errors}"
    except BaseException:
        # What the page looked like when a step failed, next to the tests' screenshots.
        screenshot(page, f"failed-{username}-{int(time.time())}")
        raise
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Saves a screenshot into web/screenshots (ignored; README shows committed copies)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def plotted_points(page: Page, scope: str = "") -> int:
    """How many points the plotly.js plot under ``scope`` draws (every trace's x values)."""
    selector = f"{scope} .js-plotly-plot".strip()
    plot = page.locator(selector).first
    expect(plot).to_be_attached()
    return int(plot.evaluate("el => el.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0)"))
