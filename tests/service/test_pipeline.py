"""The whole loop against a real HTTP camera, the real model and real photos."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from clevercam_mqtt.config import WEEKDAYS
from clevercam_mqtt.store import EventQuery
from tests.helpers.camera import PASSWORD, USER, LocalCamera
from tests.helpers.scenes import CAT_LABELS, scene_jpeg
from tests.helpers.service import camera_config, running_service, service_config
from tests.helpers.waiting import wait_for


async def _settled(camera: LocalCamera, service, frames: int = 3) -> None:
    """Wait until the service has looked at `frames` more frames of the current scene."""
    state = service.states["driveway"]
    target = state.frames_checked + frames
    await wait_for(lambda: state.frames_checked >= target, 20, f"{frames} more frames")


async def test_cat_gives_one_sequence_with_image_and_thumbnail(tmp_path: Path, camera: LocalCamera):
    cam = camera_config(camera.url("digest"), username=USER, password=PASSWORD, auth="digest")
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        await _settled(camera, service)
        assert service.states["driveway"].ok is True
        assert service.store.stats()["count"] == 0  # the empty lawn is no cat

        camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "a cat event")
        await _settled(camera, service, 5)  # the cat stays: no motion, no new event
        camera.set_image(scene_jpeg("empty"))
        await _settled(camera, service, 3)

        result = service.store.query(EventQuery())
        assert result.total == 1
        event = result.events[0]
        assert event["camera"] == "driveway" and event["roi"] == "gate"
        assert event["labels"][0] in CAT_LABELS
        assert len({e["sequence_id"] for e in result.events}) == 1
        for kind in ("image", "thumbnail"):
            path = service.store.file_path(event["id"], kind)
            assert path is not None and path.stat().st_size > 1000
        assert result.facets["labels"][event["labels"][0]] == 1


async def test_espresso_moves_but_is_no_event(tmp_path: Path, camera: LocalCamera):
    cam = camera_config(camera.url("basic"), username=USER, password=PASSWORD, auth="basic")
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        state = service.states["driveway"]
        await _settled(camera, service)
        moving_before = state.frames_with_motion
        camera.set_image(scene_jpeg("espresso"))
        await wait_for(lambda: state.frames_with_motion > moving_before, 20, "motion")
        await _settled(camera, service)
        assert service.store.stats()["count"] == 0


async def test_global_brightness_drop_is_no_event(tmp_path: Path, camera: LocalCamera):
    cam = camera_config(camera.url("open"))
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        state = service.states["driveway"]
        await _settled(camera, service)
        moving_before = state.frames_with_motion
        camera.set_image(scene_jpeg("dark"))
        await wait_for(lambda: state.frames_with_motion > moving_before, 20, "motion")
        await _settled(camera, service)
        assert service.store.stats()["count"] == 0


async def test_auto_auth_finds_digest_and_basic(tmp_path: Path, camera: LocalCamera):
    cameras = [
        camera_config(camera.url("digest"), id="digest_cam", username=USER, password=PASSWORD),
        camera_config(camera.url("basic"), id="basic_cam", username=USER, password=PASSWORD),
    ]
    async with running_service(tmp_path, service_config(tmp_path, cameras)) as service:
        for camera_id in ("digest_cam", "basic_cam"):
            state = service.states[camera_id]
            await wait_for(lambda s=state: s.frames_checked >= 2, 20, f"{camera_id} frames")
            assert state.ok is True and state.width == 1019 and state.height == 844


async def test_outside_schedule_no_request_reaches_the_camera(tmp_path: Path, camera: LocalCamera):
    today = WEEKDAYS[datetime.now().weekday()]
    other_days = [day for day in WEEKDAYS if day != today]
    cameras = [
        camera_config(
            camera.url("basic"),
            id="asleep",
            username=USER,
            password=PASSWORD,
            schedule={"days": other_days},
        ),
        camera_config(camera.url("open"), id="awake"),
    ]
    async with running_service(tmp_path, service_config(tmp_path, cameras)) as service:
        await wait_for(lambda: service.states["awake"].frames_checked >= 5, 20, "awake camera")
        assert service.states["asleep"].in_schedule is False
        camera.stop()  # lighttpd flushes its access log on exit
        assert camera.requests("/basic/") == 0
        assert camera.requests("/open/") >= 5


async def test_camera_errors_are_clear_and_recover(tmp_path: Path, camera: LocalCamera):
    cameras = [
        camera_config(camera.url("basic"), id="wrong_password", username=USER, password="nope"),
        camera_config(camera.url("open", "page.html"), id="html"),
        camera_config("http://127.0.0.1:9/snapshot.jpg", id="offline", timeout=1),
        camera_config(camera.url("open"), id="good"),
    ]
    async with running_service(tmp_path, service_config(tmp_path, cameras)) as service:
        states = service.states
        await wait_for(lambda: all(s.ok is not None for s in states.values()), 20, "statuses")
        assert states["wrong_password"].error == "camera refused the credentials"
        assert states["html"].error == "URL returned text/html, not an image"
        assert "connection refused" in (states["offline"].error or "")
        assert states["good"].ok is True
        # The good camera keeps going while the others fail.
        checked = states["good"].frames_checked
        await wait_for(lambda: states["good"].frames_checked > checked + 3, 20, "good camera")


async def test_subscriber_failure_never_stops_the_loop(tmp_path: Path, camera: LocalCamera):
    cam = camera_config(camera.url("open"))
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        seen = []

        async def broken(message):
            seen.append(message)
            raise RuntimeError("sink exploded")

        service.bus.subscribe("broken", broken)
        camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "a stored event")
        await _settled(camera, service, 3)
        assert any(type(m).__name__ == "Event" for m in seen)
        assert not service._tasks["camera:driveway"].done()
        await asyncio.sleep(0)
