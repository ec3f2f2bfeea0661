"""History page in Chromium: search a day, click an hour bar, filter a label, zip, view, delete."""

from __future__ import annotations

import zipfile
from pathlib import Path

from playwright.async_api import expect

from tests.helpers.service import base_url, running_service, service_config
from tests.helpers.web import history_days, scene_image, seed_history

from .conftest import PHONE, NewPage, image_loaded, screenshot

FIRST, SECOND = history_days()


async def test_search_a_day_click_an_hour_filter_a_label_and_download_the_zip(
    tmp_path: Path, new_page: NewPage
):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seeds = seed_history(service.store, image=scene_image)
        page = await new_page()
        await page.goto(f"{base_url(service)}/")
        await expect(page.locator(".nothing")).to_have_text("No events match these filters.")

        await page.click("#prev")
        await page.click("#prev")
        await expect(page.locator("#start")).to_have_value(FIRST.isoformat())
        await expect(page.locator("#end")).to_have_value(FIRST.isoformat())
        await expect(page.locator(".card")).to_have_count(4)
        await expect(page.locator('#f-labels .chip[data-value="tabby"] .n')).to_have_text("2")

        await page.click('.hour[data-hour="8"]')
        await expect(page.locator('.hour[data-hour="8"]')).to_have_attribute("aria-pressed", "true")
        await expect(page.locator(".card")).to_have_count(3)

        await page.click('#f-labels .chip[data-value="Egyptian cat"]')
        await expect(page.locator(".card")).to_have_count(2)
        await expect(page.locator("#total")).to_have_text("2 events")
        assert "hour=8" in page.url and "label=Egyptian+cat" in page.url
        await screenshot(page, "history-day-hour-label")

        await page.click("#select-all")
        await expect(page.locator("#selected")).to_have_text("2 selected")
        async with page.expect_download() as download_info:
            await page.click("#zip")
        download = await download_info.value
        assert download.suggested_filename.startswith("clevercam-")
        target = tmp_path / "selection.zip"
        await download.save_as(target)

    wanted = {
        event_id
        for event_id, seed in seeds.items()
        if seed.day == FIRST and seed.at.hour == 8 and "Egyptian cat" in seed.labels
    }
    with zipfile.ZipFile(target) as archive:
        images = [name for name in archive.namelist() if name.endswith(".jpg")]
        assert {name.split("_")[0] for name in images} == wanted
        assert "events.json" in archive.namelist()
        for name in images:
            assert archive.read(name)[:2] == b"\xff\xd8"


async def test_one_per_sequence_viewer_and_delete(tmp_path: Path, new_page: NewPage):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seeds = seed_history(service.store, image=scene_image)
        page = await new_page()
        await page.goto(f"{base_url(service)}/?start={FIRST}&end={SECOND}")
        await expect(page.locator(".card")).to_have_count(7)
        await page.check("#unique")
        await expect(page.locator(".card")).to_have_count(4)  # sequences a, b, c, d
        await page.uncheck("#unique")
        await expect(page.locator(".card")).to_have_count(7)

        newest = max(seeds)
        image = service.store.file_path(newest, "image")
        assert image is not None and image.exists()
        await page.locator(".card .thumb").first.click()
        viewer = page.locator("#viewer")
        await expect(viewer).to_be_visible()
        await expect(page.locator("#viewer-image")).to_have_attribute(
            "src", f"/api/events/{newest}/image"
        )
        await image_loaded(page.locator("#viewer-image"))
        await screenshot(page, "history-viewer")
        page.once("dialog", lambda dialog: dialog.accept())
        await page.click("#viewer-delete")
        await expect(viewer).to_be_hidden()
        await expect(page.locator(".card")).to_have_count(6)
        assert service.store.get(newest) is None and not image.exists()

        await page.locator(".card .pick input").nth(0).check()
        await page.locator(".card .pick input").nth(1).check()
        await expect(page.locator("#selected")).to_have_text("2 selected")
        page.once("dialog", lambda dialog: dialog.accept())
        await page.click("#delete")
        await expect(page.locator(".card")).to_have_count(4)
        assert service.store.stats()["count"] == 4

        phone = await new_page(PHONE)
        await phone.goto(f"{base_url(service)}/?start={FIRST}&end={SECOND}")
        await expect(phone.locator(".card")).to_have_count(4)
        for image in await phone.locator(".card img").all():
            await image_loaded(image)
        await screenshot(phone, "history-phone")
