"""System page in Chromium: the mail status and the "Send test mail" button."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.helpers.camera import LocalCamera
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.smtp import MailServer
from tests.helpers.waiting import wait_for

from .conftest import NewPage, screenshot


async def test_send_test_mail_from_the_system_page(
    tmp_path: Path, camera: LocalCamera, new_page: NewPage
) -> None:
    mail = MailServer(tmp_path)
    mail.start()
    running = True
    try:
        config = service_config(tmp_path, [camera_config(camera.url("open"))])
        config["notify"] = {"email": mail.config()}
        async with running_service(tmp_path, config) as service:
            await wait_for(lambda: service.states["driveway"].frames_checked >= 1, 20, "a frame")
            page = await new_page()
            await page.goto(f"{base_url(service)}/system")
            await expect(page.locator("#notify")).to_be_visible()
            await expect(page.locator("#notify-status")).to_contain_text("no mail sent yet")
            await page.get_by_role("button", name="Send test mail").click()
            await expect(page.locator(".toast")).to_contain_text("Test mail sent to owner@")
            await wait_for(lambda: mail.messages, 20, "the test mail")
            message = mail.messages[0].message
            assert any(part.get_content_type() == "image/jpeg" for part in message.walk())
            await expect(page.locator("#notify-status .error")).to_have_count(0)
            await screenshot(page, "system-test-mail")

            mail.stop()
            running = False
            await page.get_by_role("button", name="Send test mail").click()
            await expect(page.locator(".toast")).to_contain_text("Test mail failed")
            await expect(page.locator("#notify-status .error")).to_be_visible()
    finally:
        if running:
            mail.stop()
