"""Teaching a two-class state from the web pages in Chromium: create the set, capture the ROI
from the cameras page, train, watch the state, add a history event to a class."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from clevercam_mqtt.service import Service
from clevercam_mqtt.store import EventQuery
from tests.helpers.camera import LocalCamera
from tests.helpers.classes import show
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.variations import Variation, cup_training
from tests.helpers.waiting import wait_for

from .conftest import NewPage, screenshot

CUP = Variation("espresso", (0.3, 0.3, 0.8, 0.8))


async def _capture_all(page: Page, camera: LocalCamera, service: Service) -> None:
    capture = page.locator("#capture")
    await expect(capture.locator('select[name="capture-class"] option')).to_have_count(3)
    for label, variation in cup_training():
        await show(camera, service, variation.jpeg())
        await capture.locator('select[name="capture-class"]').select_option(f"cup/{label}")
        count = service.classes.get("cup").counts()[label]
        await capture.get_by_role("button", name="Capture").click()
        await wait_for(
            lambda label=label, count=count: service.classes.get("cup").counts()[label] > count,
            20,
            f"a {label} capture",
        )


async def test_a_newcomer_teaches_cup_or_empty_from_the_pages(
    tmp_path: Path, camera: LocalCamera, new_page: NewPage
):
    config = service_config(tmp_path, [camera_config(camera.url())])
    async with running_service(tmp_path, config) as service:
        page = await new_page()
        await page.goto(f"{base_url(service)}/classes")
        await expect(page.locator("#no-sets")).to_be_visible()
        form = page.locator("#new-set")
        await form.locator('input[name="name"]').fill("Cup")
        await form.locator('input[name="classes"]').fill("cup, empty")
        await form.locator('select[name="mode"]').select_option("state")
        await form.locator('input[name="interval"]').fill("1")
        await form.get_by_label("Driveway · gate").check()
        await form.get_by_role("button", name="Create").click()
        card = page.locator('.class-set[data-slug="cup"]')
        await expect(card.locator(".training")).to_have_text("Not trained yet.")

        await page.goto(f"{base_url(service)}/cameras")
        await _capture_all(page, camera, service)
        await screenshot(page, "cameras-capture")

        await page.goto(f"{base_url(service)}/classes")
        await expect(card.locator('[data-class="cup"] .count')).to_have_text("(12)")
        await expect(card.locator('[data-class="empty"] .count')).to_have_text("(9)")
        await expect(card.locator('[data-class="cup"] .example')).to_have_count(12)
        await card.get_by_role("button", name="Train").click()
        await expect(card.locator(".accuracy")).to_have_text(
            "cross-validated accuracy 100 % (5 folds)"
        )
        matrix = card.locator("table.confusion")
        await expect(matrix.locator("td.hit")).to_have_text(["12", "9"])

        await card.locator('[data-class="empty"] .example button').first.click()
        await expect(card.locator('[data-class="empty"] .count')).to_have_text("(8)")
        await show(camera, service, scene_jpeg("empty"))
        await expect(card.locator(".state-now")).to_have_text("empty", timeout=20000)
        await show(camera, service, CUP.jpeg())
        await expect(card.locator(".state-now")).to_have_text("cup", timeout=20000)
        await screenshot(page, "classes-trained")

        # The change of state is in the history: add it to the class from there.
        changed = await wait_for(
            lambda: service.store.query(EventQuery(labels=["cup"])).events, 20, "the cup event"
        )
        day = changed[0]["timestamp"][:10]
        await page.goto(f"{base_url(service)}/?start={day}&end={day}&label=cup")
        thumbnail = page.locator(f'.card[data-id="{changed[0]["id"]}"]')
        await thumbnail.locator(".pick input").check()
        await page.locator("#class-target").select_option("cup/cup")
        await page.get_by_role("button", name="Add to class").click()
        await expect(page.locator(".toast")).to_contain_text("Added 1 to cup (cup 13, empty 8)")
        examples = service.classes.get("cup").record.examples
        assert examples[-1].event_id == changed[0]["id"] and examples[-1].label == "cup"
