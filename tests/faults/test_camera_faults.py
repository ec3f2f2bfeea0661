"""Camera faults: each one becomes a clear status, retried with backoff, while the loop and
the other cameras go on."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from clevercam_mqtt.cameras import CameraError, CameraSource, open_camera, redact_url
from clevercam_mqtt.classifier import Classifier
from clevercam_mqtt.config import CameraConfig, ModelConfig
from clevercam_mqtt.events import CameraStatus, Event, EventBus
from clevercam_mqtt.frame import Frame, JpegFrame
from clevercam_mqtt.monitor import MAX_BACKOFF, CameraMonitor
from clevercam_mqtt.store import EventQuery
from tests.helpers.camera import USER, LocalCamera
from tests.helpers.faulty_camera import GIGABYTE, FaultyCamera
from tests.helpers.net import free_port
from tests.helpers.paths import MODEL_DIR, require
from tests.helpers.recording import BusRecorder, recorded_service
from tests.helpers.scenes import CAT_LABELS, driveway, jpeg, paste, photo, scene_jpeg
from tests.helpers.service import camera_config, service_config
from tests.helpers.waiting import wait_for

MONITOR_LOG = "clevercam_mqtt.monitor"
MB = 1024 * 1024


def log_lines(caplog: pytest.LogCaptureFixture, camera: str, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == MONITOR_LOG and r.getMessage().startswith(f"[{camera}] {text}")
    ]


async def test_every_fault_is_a_clear_status_and_the_good_camera_goes_on(
    tmp_path: Path,
    camera: LocalCamera,
    faulty: FaultyCamera,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=MONITOR_LOG)
    closed_port = free_port()
    expected = {
        "unreachable": (
            f"http://127.0.0.1:{closed_port}/snapshot.jpg",
            {},
            f"cannot connect to http://127.0.0.1:{closed_port}/snapshot.jpg: connection refused",
        ),
        "silent": (faulty.url("hang.jpg"), {"timeout": 0.5}, "camera did not answer within 0.5 s"),
        "wrong_password": (
            camera.url("basic"),
            {"username": USER, "password": "not-the-password"},
            "camera refused the credentials",
        ),
        "login_page": (camera.url("open", "page.html"), {}, "URL returned text/html, not an image"),
        "garbage": (faulty.url("garbage.jpg"), {}, "camera sent data that is not an image"),
        "truncated": (faulty.url("truncated.jpg"), {}, "broken JPEG: the image is truncated"),
        "bomb": (faulty.url("bomb.jpg"), {}, "image is too large to decode (over 178 megapixels)"),
        "gigabyte": (faulty.url("huge.jpg"), {"max_image_mb": 2}, "answer is larger than 2 MB"),
    }
    cameras = [
        camera_config(url, id=camera_id, **extra) for camera_id, (url, extra, _) in expected.items()
    ]
    cameras.append(camera_config(camera.url("open"), id="good"))
    async with recorded_service(tmp_path, service_config(tmp_path, cameras)) as (service, bus):
        states = service.states
        for camera_id in expected:
            monitor = service.monitors[camera_id]
            # Three failed attempts in a row: the camera is retried, not given up.
            await wait_for(lambda m=monitor: m.failures >= 3, 20, f"{camera_id} retried")
        good = states["good"].frames_checked
        await wait_for(lambda: states["good"].frames_checked >= good + 3, 20, "the good camera")

        for camera_id, (_, _, message) in expected.items():
            assert states[camera_id].ok is False, camera_id
            assert states[camera_id].error == message, camera_id
            statuses = bus.of(CameraStatus, camera_id)
            assert [(s.ok, s.error) for s in statuses] == [(False, message)], camera_id
            assert log_lines(caplog, camera_id, "Camera problem") == [
                f"[{camera_id}] Camera problem: {message}"
            ]
        assert states["good"].ok is True and states["good"].error is None
        assert [s.ok for s in bus.of(CameraStatus, "good")] == [True]
        assert all(not task.done() for task in service._tasks.values())


@pytest.fixture
def classifier() -> Classifier:
    return Classifier(require(MODEL_DIR), 2)


@pytest.fixture
async def switch_monitor(
    faulty: FaultyCamera, classifier: Classifier
) -> AsyncIterator[tuple[CameraMonitor, BusRecorder]]:
    """A monitor driven by hand (check_once) on the camera whose fault the test picks."""
    config = CameraConfig.model_validate(camera_config(faulty.url("switch.jpg"), id="switch"))
    bus, recorder = EventBus(), BusRecorder()
    bus.subscribe("recorder", recorder)
    monitor = CameraMonitor(config, open_camera(config), lambda: classifier, ModelConfig, bus)
    yield monitor, recorder
    await monitor.source.close()


async def test_backoff_doubles_up_to_its_cap_and_resets_on_success(
    faulty: FaultyCamera, switch_monitor: tuple[CameraMonitor, BusRecorder]
) -> None:
    monitor, bus = switch_monitor
    period = monitor.config.check_period
    faulty.mode = "missing"
    delays = [await monitor.check_once() for _ in range(9)]
    assert delays == [min(MAX_BACKOFF, period * 2 ** min(n, 6)) for n in range(9)]
    assert monitor.failures == 9 and faulty.requests["/switch.jpg"] == 9

    faulty.mode = "ok"
    assert await monitor.check_once() == 0.0
    assert monitor.failures == 0
    faulty.mode = "missing"
    assert await monitor.check_once() == period  # a new outage starts from the short delay
    assert [(s.ok, s.error) for s in bus.of(CameraStatus)] == [
        (False, "camera answered HTTP 404 Not Found"),
        (True, None),
        (False, "camera answered HTTP 404 Not Found"),
    ]


async def test_each_change_is_published_and_logged_once(
    faulty: FaultyCamera,
    switch_monitor: tuple[CameraMonitor, BusRecorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=MONITOR_LOG)
    monitor, bus = switch_monitor
    for mode, checks in (("ok", 2), ("garbage", 4), ("truncated", 3), ("ok", 2)):
        faulty.mode = mode
        for _ in range(checks):
            await monitor.check_once()
    assert [(s.ok, s.error) for s in bus.of(CameraStatus)] == [
        (True, None),
        (False, "camera sent data that is not an image"),
        (False, "broken JPEG: the image is truncated"),
        (True, None),
    ]
    assert log_lines(caplog, "switch", "Camera problem") == [
        "[switch] Camera problem: camera sent data that is not an image",
        "[switch] Camera problem: broken JPEG: the image is truncated",
    ]
    assert log_lines(caplog, "switch", "Camera is back online") == [
        "[switch] Camera is back online"
    ]
    assert monitor.state.ok is True and monitor.state.frames_checked == 4


@pytest.mark.parametrize("path", ["huge.jpg", "declared.jpg", "huge.mjpg"])
async def test_a_gigabyte_answer_is_refused_without_buffering_it(
    faulty: FaultyCamera, path: str
) -> None:
    source = open_camera(CameraConfig(id="cam", url=faulty.url(path), timeout=10))
    tracemalloc.start()
    try:
        with pytest.raises(CameraError, match=r"^answer is larger than 20 MB$"):
            await source.fetch()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await source.close()
    assert peak < 3 * 20 * MB  # the cap, and the reader's own buffers
    assert faulty.sent[f"/{path}"] < GIGABYTE // 8  # the camera was cut off early


async def test_a_stream_that_never_sends_a_frame_times_out(faulty: FaultyCamera) -> None:
    source = open_camera(CameraConfig(id="cam", url=faulty.url("hang.mjpg"), timeout=0.5))
    with pytest.raises(CameraError, match=r"^camera did not answer within 0\.5 s$"):
        await source.fetch()
    await source.close()


def smaller(image: Image.Image) -> Image.Image:
    return image.resize((image.width * 2 // 3, image.height * 2 // 3))


async def test_a_new_image_size_is_a_new_baseline_not_an_event(
    tmp_path: Path, camera: LocalCamera, caplog: pytest.LogCaptureFixture
) -> None:
    """A camera switched to a lower resolution (firmware update, stream profile)."""
    caplog.set_level(logging.INFO, logger=MONITOR_LOG)
    config = service_config(tmp_path, [camera_config(camera.url("open"))])
    async with recorded_service(tmp_path, config) as (service, bus):
        state = service.states["driveway"]
        await wait_for(lambda: state.frames_checked >= 3, 20, "frames at full size")
        assert (state.width, state.height) == (1019, 844)

        camera.set_image(jpeg(smaller(driveway())))
        await wait_for(lambda: state.width == 679, 20, "the new size")
        checked = state.frames_checked
        await wait_for(lambda: state.frames_checked >= checked + 3, 20, "frames at the new size")
        assert (state.width, state.height, state.ok) == (679, 562, True)
        assert not bus.of(Event) and service.store.stats()["count"] == 0
        assert [s.ok for s in bus.of(CameraStatus)] == [True]
        assert log_lines(caplog, "driveway", "Image size changed") == [
            "[driveway] Image size changed from 1019x844 to 679x562: new motion baseline"
        ]

        # Detection works at the new size.
        camera.set_image(jpeg(smaller(paste(driveway(), photo("cat")))))
        await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "a cat at the new size")
        event = service.store.query(EventQuery()).events[0]
        assert event["labels"][0] in CAT_LABELS and event["width"] == 679


class BuggySource(CameraSource):
    """A source with a bug: it raises something no one expects, then gets fixed."""

    def __init__(self, image: bytes) -> None:
        self.image = image
        self.broken = True
        self.calls = 0

    async def fetch(self) -> Frame:
        self.calls += 1
        if self.broken:
            raise RuntimeError("index out of range in the driver")
        return JpegFrame(self.image, datetime.now().astimezone())


async def test_an_unexpected_error_never_ends_monitoring(
    classifier: Classifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=MONITOR_LOG)
    config = CameraConfig.model_validate(camera_config("demo://", id="buggy", check_period=0.05))
    source = BuggySource(scene_jpeg("empty"))
    bus, recorder = EventBus(), BusRecorder()
    bus.subscribe("recorder", recorder)
    monitor = CameraMonitor(config, source, lambda: classifier, ModelConfig, bus)
    task = asyncio.create_task(monitor.run())
    try:
        await wait_for(lambda: monitor.failures >= 3, 20, "retries after the error")
        message = "internal error: RuntimeError: index out of range in the driver"
        assert monitor.state.ok is False and monitor.state.error == message
        problems = [r for r in caplog.records if "Camera problem" in r.getMessage()]
        assert len(problems) == 1 and problems[0].exc_info is not None  # with its traceback
        source.broken = False
        await wait_for(lambda: monitor.state.ok is True, 20, "recovery")
        assert not task.done()
        assert [s.ok for s in recorder.of(CameraStatus)] == [False, True]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://admin:pw@cam.local:8080/snap.jpg", "http://cam.local:8080/snap.jpg"),
        (
            "http://cam.local/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=S3cret",
            "http://cam.local/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=***",
        ),
        (
            "http://cam.local/snap.cgi?password=a&api_key=b&Token=c&channel=1",
            "http://cam.local/snap.cgi?password=***&api_key=***&Token=***&channel=1",
        ),
        ("rtsp://u:p@cam.local/live?auth=x", "rtsp://cam.local/live?auth=***"),
        ("http://cam.local/snap.jpg?channel=1", "http://cam.local/snap.jpg?channel=1"),
    ],
)
def test_secrets_in_camera_urls_never_reach_messages(url: str, shown: str) -> None:
    assert redact_url(url) == shown


async def test_a_query_string_password_is_not_in_the_status(classifier: Classifier) -> None:
    url = f"http://127.0.0.1:{free_port()}/snapshot.cgi?cmd=snap&pwd=Q-S3cret"
    config = CameraConfig(id="cam", url=url)
    monitor = CameraMonitor(
        config, open_camera(config), lambda: classifier, ModelConfig, EventBus()
    )
    with pytest.raises(CameraError) as caught:
        await monitor.fetch()
    assert (
        monitor.state.error
        == str(caught.value)
        == (f"cannot connect to {url.replace('Q-S3cret', '***')}: connection refused")
    )
    await monitor.source.close()
