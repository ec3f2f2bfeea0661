"""RTSP cameras through the real service: a real GStreamer RTSP server, the real model."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from clevercam_mqtt.__main__ import main
from clevercam_mqtt.cameras import CameraError, open_camera, redact_url, rtsp
from clevercam_mqtt.cameras.rtsp import MISSING_AV, stream_url
from clevercam_mqtt.config import CameraConfig
from clevercam_mqtt.events import CameraStatus
from clevercam_mqtt.store import EventQuery
from tests.helpers.camera import LocalCamera
from tests.helpers.rtsp_server import PASSWORD, USER, RtspServer, has_encoder
from tests.helpers.scenes import CAT_LABELS, scene_jpeg
from tests.helpers.service import (
    base_url,
    camera_config,
    running_service,
    service_config,
    write_config,
)
from tests.helpers.waiting import wait_for


@pytest.fixture
def rtsp_camera() -> Iterator[RtspServer]:
    """A real RTSP camera (H.264, a keyframe a second) showing the empty driveway."""
    server = RtspServer()
    server.set_image(scene_jpeg("empty"))
    server.start()
    yield server
    server.close()


async def _frames(service, count: int, camera_id: str = "driveway") -> None:
    """Wait until the service has checked `count` more frames of the camera."""
    state = service.states[camera_id]
    target = state.frames_checked + count
    await wait_for(lambda: state.frames_checked >= target, 30, f"{count} more frames")


async def test_cat_gives_one_sequence_with_the_stream_frame(
    tmp_path: Path, rtsp_camera: RtspServer
):
    cam = camera_config(rtsp_camera.url())
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        await _frames(service, 2)
        state = service.states["driveway"]
        assert state.ok is True and (state.width, state.height) == (1024, 848)
        assert service.store.stats()["count"] == 0

        rtsp_camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: service.store.stats()["count"] >= 1, 30, "a cat event")
        await _frames(service, 3)  # the cat stays: no motion, no new event
        rtsp_camera.set_image(scene_jpeg("empty"))
        await _frames(service, 2)

        result = service.store.query(EventQuery())
        assert result.total == 1
        event = result.events[0]
        assert event["labels"][0] in CAT_LABELS
        assert (event["width"], event["height"]) == (1024, 848)
        path = service.store.file_path(event["id"], "image")
        assert path is not None and path.read_bytes()[:2] == b"\xff\xd8"


async def test_a_long_check_period_decodes_only_the_keyframes_it_checks(
    tmp_path: Path, rtsp_camera: RtspServer
):
    cam = camera_config(rtsp_camera.url(), check_period=3)  # a keyframe every second
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        await _frames(service, 3)
        facts = service.monitors["driveway"].source.describe()
        checked = service.states["driveway"].frames_checked
        assert facts["frames decoded"] <= checked + 1
        assert facts["keyframes received"] > facts["frames decoded"]


async def test_espresso_moves_but_is_no_event_when_decoding_every_frame(
    tmp_path: Path, rtsp_camera: RtspServer
):
    cam = camera_config(rtsp_camera.url(), decode="all", rtsp_transport="udp")
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        state = service.states["driveway"]
        await _frames(service, 3)
        moving = state.frames_with_motion
        rtsp_camera.set_image(scene_jpeg("espresso"))
        await wait_for(lambda: state.frames_with_motion > moving, 30, "motion")
        await _frames(service, 5)
        assert service.store.stats()["count"] == 0


async def test_server_restart_is_a_problem_then_a_new_baseline(
    tmp_path: Path, rtsp_camera: RtspServer
):
    rtsp_camera.set_image(scene_jpeg("cat"))
    cam = camera_config(rtsp_camera.url())
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        statuses: list[bool] = []

        async def record(message) -> None:
            if isinstance(message, CameraStatus) and (not statuses or statuses[-1] != message.ok):
                statuses.append(message.ok)

        service.bus.subscribe("statuses", record)
        state = service.states["driveway"]
        # The first frame is classified whole: the cat sitting there is one event.
        await wait_for(lambda: service.store.stats()["count"] == 1, 30, "the first cat event")
        await _frames(service, 1)
        moving = state.frames_with_motion
        statuses.clear()

        rtsp_camera.stop()
        await wait_for(lambda: state.ok is False, 30, "the problem state")
        rtsp_camera.start()
        await wait_for(lambda: state.ok is True, 30, "the camera back")
        await _frames(service, 3)
        assert statuses == [False, True]
        assert state.frames_with_motion == moving  # the reconnect is a baseline, not change
        assert service.store.stats()["count"] == 1

        rtsp_camera.set_image(scene_jpeg("empty"))  # monitoring goes on after the restart
        await wait_for(lambda: state.frames_with_motion > moving, 30, "motion again")
        assert service.store.stats()["count"] == 1


async def test_stalled_stream_is_a_problem_until_it_flows_again(
    tmp_path: Path, rtsp_camera: RtspServer
):
    cam = camera_config(rtsp_camera.url(), timeout=2)
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        state = service.states["driveway"]
        await _frames(service, 2)
        moving = state.frames_with_motion
        rtsp_camera.freeze()
        await wait_for(lambda: state.ok is False, 30, "the problem state")
        assert state.error == "no frame for 2 s"
        rtsp_camera.freeze(False)
        await wait_for(lambda: state.ok is True, 60, "the camera back")
        await _frames(service, 2)
        assert state.frames_with_motion == moving


async def test_wrong_path_and_credentials_are_clear_and_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    server = RtspServer(credentials=(USER, PASSWORD))
    server.set_image(scene_jpeg("empty"))
    server.start()
    try:
        cameras = [
            camera_config(server.url(), id="good", username=USER, password=PASSWORD),
            camera_config(server.url("/nope"), id="no_path", username=USER, password=PASSWORD),
            camera_config(server.url(), id="bad_password", username=USER, password="guessed-pw"),
            camera_config(server.url(), id="no_password"),
        ]
        async with running_service(tmp_path, service_config(tmp_path, cameras)) as service:
            states = service.states
            await wait_for(lambda: all(s.ok is not None for s in states.values()), 30, "statuses")
            assert states["good"].ok is True
            assert states["no_path"].error == "RTSP stream not found"
            assert states["bad_password"].error == "camera refused the credentials"
            assert states["no_password"].error == "camera refused the credentials"
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{base_url(service)}/api/cameras") as response,
            ):
                answer = await response.text()
            assert "good" in answer
    finally:
        server.close()
    for secret in (PASSWORD, "guessed-pw", "p%40ss"):
        assert secret not in caplog.text
        assert secret not in answer


async def test_h265_stream_gives_the_cat_event(tmp_path: Path):
    assert has_encoder("x265enc"), "x265enc missing: apt-get install gstreamer1.0-plugins-bad"
    server = RtspServer(codec="h265")
    server.set_image(scene_jpeg("empty"))
    server.start()
    try:
        cam = camera_config(server.url())
        async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
            await _frames(service, 2)
            assert service.monitors["driveway"].source.describe()["codec"] == "hevc (Main)"
            server.set_image(scene_jpeg("cat"))
            await wait_for(lambda: service.store.stats()["count"] >= 1, 30, "a cat event")
            event = service.store.query(EventQuery()).events[0]
            assert event["labels"][0] in CAT_LABELS
    finally:
        server.close()


async def test_event_image_comes_from_the_snapshot_url(
    tmp_path: Path, rtsp_camera: RtspServer, camera: LocalCamera
):
    camera.set_image(scene_jpeg("cat"))  # the full-resolution main stream's snapshot
    cam = camera_config(rtsp_camera.url(), snapshot_url=camera.url("open"))
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        await _frames(service, 2)
        rtsp_camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: service.store.stats()["count"] >= 1, 30, "a cat event")
        event = service.store.query(EventQuery()).events[0]
        assert (event["width"], event["height"]) == (1019, 844)
        path = service.store.file_path(event["id"], "image")
        assert path is not None and path.read_bytes() == scene_jpeg("cat")


def test_check_camera_describes_the_stream(
    tmp_path: Path, rtsp_camera: RtspServer, capsys: pytest.CaptureFixture[str]
):
    config = service_config(tmp_path, [camera_config(rtsp_camera.url())])
    path = write_config(tmp_path, config)
    saved = tmp_path / "frame.jpg"
    assert main(["--config", str(path), "check-camera", "driveway", "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "driveway: 1024x848" in out
    assert "codec: h264" in out
    assert "keyframe interval: 1.0 s (10 frames)" in out
    assert saved.read_bytes()[:2] == b"\xff\xd8"


async def test_an_unused_stream_closes_and_reopens_as_a_new_baseline(
    rtsp_camera: RtspServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(rtsp, "IDLE_AFTER", 1.0)  # monitoring paused for a while
    source = open_camera(CameraConfig(id="cam", url=rtsp_camera.url(), check_period=0.1))
    try:
        first = await source.fetch()
        assert first.baseline is True
        assert (await source.fetch()).baseline is False
        await wait_for(lambda: "stream" in source.describe(), 10, "the stream to close")
        again = await source.fetch()
        assert again.baseline is True and again is not first
        assert "stream" not in source.describe()
    finally:
        await source.close()


async def test_missing_pyav_is_a_clear_camera_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "av", None)
    source = open_camera(CameraConfig(id="cam", url="rtsp://127.0.0.1:9/stream"))
    with pytest.raises(CameraError, match="pip install 'clevercam_mqtt\\[rtsp\\]'"):
        await source.fetch()
    await source.close()
    assert MISSING_AV.startswith("RTSP cameras need PyAV")


def test_credentials_go_into_the_url_encoded_and_are_redacted():
    url = stream_url("rtsp://cam.local:554/h264Preview_01_sub", USER, PASSWORD)
    assert url == "rtsp://viewer:p%40ss%3Aw%2Frd%25@cam.local:554/h264Preview_01_sub"
    assert redact_url(url) == "rtsp://cam.local:554/h264Preview_01_sub"
    assert stream_url("rtsp://[fe80::1]/live", "u", None) == "rtsp://u@[fe80::1]/live"
    assert stream_url("rtsp://cam/live", None, "x") == "rtsp://cam/live"
