"""Camera controls over the JSON API, and the /api/ws push (the HA component's feed)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import yaml

from tests.helpers.camera import LocalCamera
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.waiting import wait_for


async def test_push_controls_and_snapshot(tmp_path: Path, camera: LocalCamera) -> None:
    config = service_config(tmp_path, [camera_config(camera.url("open"))])
    async with running_service(tmp_path, config) as service, aiohttp.ClientSession() as http:
        url = base_url(service)
        state = service.states["driveway"]
        await wait_for(lambda: state.frames_checked >= 2, 20, "first frames")
        async with http.ws_connect(f"{url}/api/ws") as ws:
            hello = await ws.receive_json(timeout=10)
            assert hello["type"] == "hello" and hello["instance_id"] == service.instance_id
            assert hello["cameras"][0]["rois"][0]["slug"] == "gate"
            assert "password" not in hello["cameras"][0]

            camera.set_image(scene_jpeg("cat"))
            pushed = [await ws.receive_json(timeout=20)]
            while pushed[-1]["type"] != "sequence_end":
                pushed.append(await ws.receive_json(timeout=20))
            event = next(m for m in pushed if m["type"] == "event")["event"]
            assert event["roi"] == "gate" and event["image_url"].endswith("/image")
            assert pushed[-1]["sequence_id"] == event["sequence_id"]

            async with http.put(
                f"{url}/api/cameras/driveway/rois/gate",
                json={"enabled": False, "labels": ["tabby"]},
            ) as response:
                assert response.status == 200
                assert (await response.json())["rois"][0]["enabled"] is False
            change = await ws.receive_json(timeout=10)
            assert change["type"] == "camera" and change["data"]["rois"][0]["labels"] == ["tabby"]

        saved = yaml.safe_load((tmp_path / "clevercam.yaml").read_text())
        assert saved["cameras"][0]["rois"][0]["enabled"] is False
        assert (tmp_path / "clevercam.yaml.bak").exists()

        async with http.post(
            f"{url}/api/cameras/driveway/monitoring", json={"monitoring": "no"}
        ) as response:
            assert response.status == 400
            assert "monitoring" in (await response.json())["error"]
        async with http.post(
            f"{url}/api/cameras/driveway/monitoring", json={"monitoring": False}
        ) as response:
            assert response.status == 200 and (await response.json())["monitoring"] is False
        async with http.get(f"{url}/api/cameras/driveway/snapshot?rois=1") as response:
            assert response.status == 200 and response.content_type == "image/jpeg"
            assert (await response.read())[:2] == b"\xff\xd8"
        async with http.post(f"{url}/api/cameras/driveway/test") as response:
            result = await response.json()
            assert result["rois"]["gate"][0]["label"] in {"Egyptian cat", "tabby", "tiger cat"}
        async with http.get(f"{url}/api/cameras/nope/snapshot") as response:
            assert response.status == 404


async def test_refresh_reports_a_camera_error(tmp_path: Path, camera: LocalCamera) -> None:
    config = service_config(tmp_path, [camera_config(camera.url("open"), check_period=60)])
    async with running_service(tmp_path, config) as service, aiohttp.ClientSession() as http:
        camera.stop()
        async with http.post(f"{base_url(service)}/api/cameras/driveway/refresh") as response:
            data = await response.json()
        assert response.status == 200
        assert data["state"]["ok"] is False and "connection refused" in data["state"]["error"]
        async with http.get(f"{base_url(service)}/api/cameras/driveway/snapshot") as response:
            assert response.status in (200, 502)  # the last good frame, or the camera's error
