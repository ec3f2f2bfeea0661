"""Cameras and System pages in Chromium: the newcomer's workflow and ROIs drawn on the preview."""

from __future__ import annotations

from pathlib import Path

import yaml
from playwright.async_api import Page, expect

from clevercam_mqtt.store import EventQuery
from tests.helpers.camera import PASSWORD, USER, LocalCamera
from tests.helpers.paths import MODEL_DIR
from tests.helpers.scenes import CAT_LABELS, GATE_BOX, scene_jpeg
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.waiting import wait_for

from .conftest import PHONE, NewPage, image_loaded, screenshot


async def _preview_loaded(page: Page) -> None:
    await expect(page.locator("#frame")).to_be_visible()
    await image_loaded(page.locator("#frame"))


async def _point(page: Page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of (x, y) percent of the preview."""
    box = await page.locator("#roi-layer").bounding_box()
    assert box is not None
    return box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100


async def _drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(*end, steps=8)
    await page.mouse.up()


async def _centre(page: Page, selector: str) -> tuple[float, float]:
    box = await page.locator(selector).bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def test_draw_a_roi_on_the_preview_and_see_it_saved_and_used_by_detection(
    tmp_path: Path, camera: LocalCamera, new_page: NewPage
):
    camera.set_image(scene_jpeg("cat"))
    config = service_config(tmp_path, [camera_config(camera.url("open"), rois=[])])
    async with running_service(tmp_path, config) as service:
        page = await new_page()
        await page.goto(f"{base_url(service)}/cameras")
        await _preview_loaded(page)
        await expect(page.locator("#no-rois")).to_be_visible()
        x0, y0, x1, y1 = GATE_BOX

        # Draw a rough box inside the lawn, then pull its corners onto the lawn's corners.
        await _drag(page, await _point(page, x0 + 6, y0 + 6), await _point(page, x1 - 6, y1 - 6))
        await expect(page.locator(".roi-box")).to_have_count(1)
        await _drag(page, await _centre(page, ".roi-box .handle.se"), await _point(page, x1, y1))
        await _drag(page, await _centre(page, ".roi-box .handle.nw"), await _point(page, x0, y0))

        # A second box, moved, then removed again.
        await _drag(page, await _point(page, 70, 5), await _point(page, 90, 20))
        await expect(page.locator(".roi-box")).to_have_count(2)
        second = page.locator('.roi-card[data-index="1"]')
        before = await second.locator(".box-text").text_content()
        await _drag(
            page, await _centre(page, '.roi-box[data-index="1"]'), await _point(page, 60, 30)
        )
        await expect(second.locator(".box-text")).not_to_have_text(before or "")
        await second.get_by_role("button", name="Remove", exact=True).click()
        await expect(page.locator(".roi-box")).to_have_count(1)

        card = page.locator('.roi-card[data-index="0"]')
        await card.locator('input[name="roi-name"]').fill("lawn")
        await card.get_by_role("button", name="Remove label *").click()
        for label in CAT_LABELS:
            await card.locator('input[name="roi-label"]').fill(label)
            await card.locator('input[name="roi-label"]').press("Enter")
        await expect(card.locator(".tagchip")).to_have_count(len(CAT_LABELS))
        await expect(page.locator("#save-status")).to_have_text("Unsaved changes")
        await page.click("#save")
        await expect(page.locator("#save-status")).to_have_text("Saved and applied")

        saved = yaml.safe_load((tmp_path / "clevercam.yaml").read_text())["cameras"][0]["rois"]
        assert [roi["name"] for roi in saved] == ["lawn"]
        assert saved[0]["labels"] == CAT_LABELS
        for drawn, wanted in zip(saved[0]["box"], GATE_BOX, strict=True):
            assert abs(drawn - wanted) < 0.6, saved[0]["box"]

        await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "a cat in the drawn ROI")
        events = service.store.query(EventQuery()).events
        assert {event["roi"] for event in events} == {"lawn"}
        await expect(page.locator('.roi-box[data-index="0"] .tag')).to_have_text("lawn")
        await screenshot(page, "cameras-roi-drawn")

        await page.get_by_role("link", name="History").click()
        await expect(page.locator(".card").first).to_contain_text("lawn")
        await image_loaded(page.locator(".card img").first)
        await screenshot(page, "history-event-from-drawn-roi")


async def test_newcomer_sets_credentials_refreshes_picks_a_model_tests_and_runs(
    tmp_path: Path, camera: LocalCamera, new_page: NewPage
):
    other = tmp_path / "models" / "other_model"
    other.mkdir(parents=True)
    for name in ("model.tflite", "labels.txt"):
        (other / name).symlink_to(MODEL_DIR / name)
    camera.set_image(scene_jpeg("cat"))
    cam = camera_config(
        camera.url("basic"), username=USER, password="wrong", auth="basic", monitoring=False
    )
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        page = await new_page()
        await page.goto(f"{base_url(service)}/cameras")
        await expect(page.locator("#placeholder")).to_have_text(
            "No picture: camera refused the credentials"
        )
        await expect(page.locator("#status")).to_have_text(
            "✗ camera refused the credentials · monitoring stopped"
        )

        await page.fill('input[name="password"]', PASSWORD)
        await page.click("#save")
        await expect(page.locator("#save-status")).to_have_text("Saved and applied")
        await expect(page.locator('input[name="password"]')).to_have_value("")
        await page.click("#refresh")
        await expect(page.locator("#status")).to_contain_text("✓ 1019\N{MULTIPLICATION SIGN}844 · ")
        await expect(page.locator("#status")).to_contain_text("monitoring stopped")
        await _preview_loaded(page)

        await page.select_option("#model-select", "models/other_model")
        await page.get_by_role("button", name="Use this model").click()
        await expect(page.locator("#model-status")).to_have_text("In use: other_model")
        assert service.model.classifier.name == "other_model"

        await page.click("#test")
        top = page.locator('.test-roi[data-roi="gate"] li').first
        await expect(top).to_contain_text(CAT_LABELS[0].split()[0])  # the cat

        await page.check("#monitoring")
        await wait_for(lambda: service.states["driveway"].frames_checked >= 2, 20, "frames")
        await page.click("#refresh")
        await expect(page.locator("#status")).not_to_contain_text("monitoring stopped")
        saved = yaml.safe_load((tmp_path / "clevercam.yaml").read_text())
        assert saved["cameras"][0]["monitoring"] is True
        assert saved["cameras"][0]["password"] == PASSWORD
        assert saved["model"]["path"] == "models/other_model"
        await screenshot(page, "cameras-workflow")

        phone = await new_page(PHONE)
        await phone.goto(f"{base_url(service)}/cameras")
        await _preview_loaded(phone)
        await screenshot(phone, "cameras-phone")

        await page.get_by_role("link", name="System").click()
        row = page.locator('tr[data-camera="driveway"]')
        await expect(row).to_contain_text("ok")
        await expect(page.locator("#about")).to_contain_text("other_model")
        await screenshot(page, "system")
