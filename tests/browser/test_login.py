"""Logging in and out in Chromium."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.helpers.service import base_url, running_service, service_config
from tests.helpers.web import PASSWORD, USERNAME, auth_section

from .conftest import NewPage, screenshot


async def test_log_in_and_out(tmp_path: Path, new_page: NewPage):
    config = service_config(tmp_path, [], web=auth_section())
    async with running_service(tmp_path, config) as service:
        base = base_url(service)
        page = await new_page()
        await page.goto(f"{base}/cameras")
        await expect(page).to_have_url(f"{base}/login?next=/cameras")

        await page.fill('input[name="username"]', USERNAME)
        await page.fill('input[name="password"]', "not the password")
        await page.click('button[type="submit"]')
        await expect(page.locator("#error")).to_have_text("invalid username or password")
        await screenshot(page, "login-refused")

        await page.fill('input[name="password"]', PASSWORD)
        await page.click('button[type="submit"]')
        await expect(page).to_have_url(f"{base}/cameras")
        await expect(page.locator("#no-cameras")).to_be_visible()
        cookies = {c["name"]: c for c in await page.context.cookies()}
        session = cookies["clevercam_session"]
        assert session["httpOnly"] is True and session["sameSite"] == "Strict"
        assert await page.evaluate("document.cookie") == ""  # out of reach of scripts
        await page.get_by_role("link", name="History").click()
        await expect(page.locator("#logout")).to_be_visible()
        await screenshot(page, "logged-in")

        await page.click("#logout")
        await expect(page).to_have_url(f"{base}/login")
        assert "clevercam_session" not in {c["name"] for c in await page.context.cookies()}
        await page.goto(f"{base}/system")
        await expect(page).to_have_url(f"{base}/login?next=/system")
        response = await page.request.get(f"{base}/api/system")
        assert response.status == 401
