"""HTTP camera answers beyond plain snapshots: MJPEG streams, oversized and wrong answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from aiohttp import web

from clevercam_mqtt.cameras import CameraError, open_camera, redact_url
from clevercam_mqtt.config import CameraConfig
from tests.helpers.camera import PASSWORD, USER, LocalCamera
from tests.helpers.scenes import scene_jpeg

BOUNDARY = "frame"


async def mjpeg(request: web.Request) -> web.StreamResponse:
    """An endless MJPEG stream, like a camera's /video.mjpg."""
    response = web.StreamResponse(
        headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
    )
    await response.prepare(request)
    frame = request.app["frame"]
    try:
        while True:
            await response.write(
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                f"Content-Length: {len(frame)}\r\n\r\n".encode()
                + frame
                + b"\r\n"
            )
            await asyncio.sleep(0.05)  # the camera's own frame rate
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


async def huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
    await response.prepare(request)
    chunk = b"\0" * 65536
    try:
        for _ in range(10_000):
            await response.write(chunk)
    except ConnectionResetError:
        pass
    return response


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app["frame"] = scene_jpeg("cat")
    app.router.add_get("/video.mjpg", mjpeg)
    app.router.add_get("/huge.jpg", huge)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def camera_cfg(url: str, **extra) -> CameraConfig:
    return CameraConfig(id="cam", url=url, timeout=3, **extra)


async def test_mjpeg_stream_gives_its_current_frame(server: str) -> None:
    source = open_camera(camera_cfg(f"{server}/video.mjpg"))
    for _ in range(2):
        frame = await source.fetch()
        assert frame.size == (1019, 844)
        assert frame.jpeg() == scene_jpeg("cat")
    await source.close()


async def test_oversized_answer_is_refused(server: str) -> None:
    source = open_camera(camera_cfg(f"{server}/huge.jpg", max_image_mb=1))
    with pytest.raises(CameraError, match="larger than 1 MB"):
        await source.fetch()
    await source.close()


async def test_missing_path_and_bad_credentials(camera: LocalCamera) -> None:
    missing = open_camera(camera_cfg(camera.url("open", "nothing.jpg")))
    with pytest.raises(CameraError, match="HTTP 404"):
        await missing.fetch()
    wrong = open_camera(camera_cfg(camera.url("digest"), username=USER, password="x"))
    with pytest.raises(CameraError, match="camera refused the credentials"):
        await wrong.fetch()
    right = open_camera(camera_cfg(camera.url("digest"), username=USER, password=PASSWORD,
                               auth="digest"))  # fmt: skip
    assert (await right.fetch()).timestamp <= datetime.now().astimezone()
    for source in (missing, wrong, right):
        await source.close()


def test_urls_lose_their_credentials_in_messages() -> None:
    assert redact_url("http://admin:pw@cam.local:8080/snap.jpg") == "http://cam.local:8080/snap.jpg"
    assert redact_url("rtsp://cam/stream") == "rtsp://cam/stream"
    assert redact_url("rtsp://u:p@[fe80::1]:554/s") == "rtsp://[fe80::1]:554/s"
