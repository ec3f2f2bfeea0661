"""Browser tests: Debian's Chromium driven by Playwright (never `playwright install`).

Run with `-p no:homeassistant` like the service tests (the HA plugin blocks sockets).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright, expect

from tests.helpers.paths import ROOT
from tests.service.conftest import camera  # noqa: F401 - the real lighttpd camera fixture

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    """Debian's Chromium; missing, the browser tests fail (they never skip)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing (apt-get install chromium)")
    return str(CHROMIUM)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    """Opens pages (desktop size unless told); fails the test on any uncaught JS error."""
    errors: list[str] = []
    contexts: list[BrowserContext] = []

    async def make(viewport: dict[str, int] = DESKTOP) -> Page:
        context = await browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[arg-type]
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        await context.close()
    assert not errors, f"JavaScript errors: {errors}"


async def image_loaded(image: Locator) -> None:
    """Wait until an <img> shows a picture (no wait_for_function: the pages' CSP forbids eval)."""
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("image => image.naturalWidth") > 0
