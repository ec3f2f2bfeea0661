"""Learned classes in the running service: a real camera, the real model, the HTTP API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from clevercam_mqtt.events import Message, StateChanged
from clevercam_mqtt.mqtt.topics import state_payload
from clevercam_mqtt.service import Service
from clevercam_mqtt.store import EventQuery
from tests.helpers.broker import Broker
from tests.helpers.camera import LocalCamera
from tests.helpers.classes import rewritten_export, show
from tests.helpers.float_model import write_colour_model
from tests.helpers.mqtt import Recorder
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.variations import (
    Variation,
    cup_held_out,
    cup_training,
    visitor_held_out,
    visitor_training,
)
from tests.helpers.waiting import wait_for

STATE_TOPIC = "clevercam/driveway/gate/state"
DISCOVERY = "homeassistant/device/clevercam/driveway/config"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, service: Service, method: str, path: str, expect: int = 200,
    **kwargs: Any,
) -> Any:  # fmt: skip
    async with http.request(method, base_url(service) + path, **kwargs) as response:
        body = await response.read()
        assert response.status == expect, body
        if response.content_type == "application/json":
            return await response.json()
        return body


async def settled(service: Service, frames: int = 3) -> None:
    state = service.states["driveway"]
    target = state.frames_checked + frames
    await wait_for(lambda: state.frames_checked >= target, 20, f"{frames} more frames")


def state_messages(service: Service) -> list[StateChanged]:
    received: list[StateChanged] = []

    async def collect(message: Message) -> None:
        if isinstance(message, StateChanged):
            received.append(message)

    service.bus.subscribe("test-states", collect)
    return received


def current_state(service: Service) -> str | None:
    states = service.classes.states()
    return states[0]["state"] if states else None


async def checks_after(service: Service, count: int) -> None:
    """Wait until the state set has judged the ROI `count` more times."""

    def checks() -> int:
        states = service.classes.states()
        return states[0]["checks"] if states else 0

    target = checks() + count
    await wait_for(lambda: checks() >= target, 20, f"{count} more state checks")


async def test_cup_state_taught_from_captures_follows_the_scene(
    tmp_path: Path, camera: LocalCamera, broker: Broker, http: aiohttp.ClientSession
):
    cam = camera_config(camera.url())
    mqtt = {"enabled": True, "host": "127.0.0.1", "port": broker.port}
    recorder = Recorder(broker.port).start()
    async with running_service(tmp_path, service_config(tmp_path, [cam], mqtt=mqtt)) as service:
        spec = {"name": "Cup", "classes": ["cup", "empty"], "rois": ["driveway/gate"],
                "mode": "state", "interval": 1}  # fmt: skip
        created = await call(http, service, "POST", "/api/classes", 201, json=spec)
        assert created["slug"] == "cup" and created["problem"] == "not trained yet"
        assert created["embedding_size"] == 1280
        sensor = await wait_for(lambda: state_sensor(recorder), 20, "the enum sensor")
        assert sensor["device_class"] == "enum" and sensor["options"] == ["cup", "empty"]
        assert sensor["state_topic"] == STATE_TOPIC

        for label, variation in cup_training():
            await show(camera, service, variation.jpeg())
            body = {"class": label, "capture": {"camera": "driveway", "roi": "gate"}}
            await call(http, service, "POST", "/api/classes/cup/examples", 201, json=body)
        described = await call(http, service, "GET", "/api/classes/cup")
        assert described["counts"] == {"cup": 12, "empty": 9}

        received = state_messages(service)
        training = await call(http, service, "POST", "/api/classes/cup/train")
        assert training["accuracy"] >= 0.95 and training["folds"] == 5
        assert training["labels"] == ["cup", "empty", "unknown"]
        assert sum(map(sum, training["confusion"])) == 21

        right = 0
        held_out = cup_held_out()
        for label, variation in held_out:
            await show(camera, service, variation.jpeg())
            body = {"capture": {"camera": "driveway", "roi": "gate"}}
            result = await call(http, service, "POST", "/api/classes/cup/predict", json=body)
            right += result["predictions"][0]["class"] == label
        assert right / len(held_out) >= 0.95

        await show(camera, service, Variation(None, brightness=0.9).jpeg())
        await wait_for(lambda: current_state(service) == "empty", 20, "the state empty")
        await checks_after(service, 3)  # the interval re-checks a still scene: no flip
        assert received[0].previous is None  # the first verdict after training
        start = len(received)
        await show(camera, service, Variation("espresso", (0.3, 0.3, 0.8, 0.8), 0.9).jpeg())
        await wait_for(lambda: current_state(service) == "cup", 20, "the cup")
        await show(camera, service, Variation("espresso", (0.3, 0.3, 0.8, 0.8), 1.1).jpeg())
        await checks_after(service, 3)  # more sun is no change of state
        await show(camera, service, Variation(None, brightness=1.1).jpeg())
        await wait_for(lambda: current_state(service) == "empty", 20, "empty again")
        await checks_after(service, 3)
        assert [(m.previous, m.state) for m in received[start:]] == [
            ("empty", "cup"), ("cup", "empty"),
        ]  # fmt: skip
        await recorder.wait_last(STATE_TOPIC, state_payload(received[-1]))
        on_mqtt = [json.loads(m.payload)["state"] for m in recorder.on(STATE_TOPIC)]
        assert on_mqtt[-3:] == ["empty", "cup", "empty"] and len(on_mqtt) == len(received)
        assert all(m.camera == "driveway" and m.roi == "gate" for m in received)

        changes = service.store.query(EventQuery(labels=["cup", "empty"]))
        assert [e["labels"] for e in changes.events][:2] == [["empty"], ["cup"]]  # newest first
        assert changes.total == len(received) - 1  # every change but the first verdict
        states = await call(http, service, "GET", "/api/classes/states")
        assert states["states"][0]["state"] == "empty"

        await _export_import(http, service)
        recorder.clear()
        await call(http, service, "DELETE", "/api/classes/cup")
        await recorder.wait(STATE_TOPIC, b"")  # the retained state is cleared
        await wait_for(lambda: state_sensor(recorder) is None, 20, "the sensor to go")
    recorder.stop()


def state_sensor(recorder: Recorder) -> dict[str, Any] | None:
    """The gate's state sensor in the camera's latest discovery message."""
    message = recorder.last(DISCOVERY)
    if message is None or not message.payload:
        return None
    component = message.json()["components"].get("gate_state")
    return component if component and component.get("device_class") else None


async def _export_import(http: aiohttp.ClientSession, service: Service) -> None:
    """A corrupt or mismatched file is refused and the running set kept; a good one loads."""
    exported = await call(http, service, "GET", "/api/classes/cup/export")
    before = await call(http, service, "GET", "/api/classes/cup")
    for bad, message in [
        (exported[: len(exported) // 3], "not a class-set file"),
        (rewritten_export(exported, model="mobilenet_v3_small"), "made with model"),
        (rewritten_export(exported, spec={"name": "Cup", "classes": []}), "spec.classes"),
    ]:
        refused = await call(http, service, "POST", "/api/classes/import", 400, data=bad)
        assert message in refused["error"] and refused["error"].startswith("file: ")
        assert await call(http, service, "GET", "/api/classes/cup") == before
    body = {"capture": {"camera": "driveway", "roi": "gate"}}
    still = await call(http, service, "POST", "/api/classes/cup/predict", json=body)
    assert still["predictions"][0]["class"] == "empty"

    await call(http, service, "DELETE", "/api/classes/cup")
    await call(http, service, "GET", "/api/classes/cup", 404)
    imported = await call(http, service, "POST", "/api/classes/import", 201, data=exported)
    assert {k: v for k, v in imported.items() if k != "states"} == {
        k: v for k, v in before.items() if k != "states"
    }
    again = await call(http, service, "POST", "/api/classes/cup/predict", json=body)
    assert again["predictions"][0]["class"] == "empty"
    examples = await call(http, service, "GET", "/api/classes/cup/examples")
    thumb = await call(http, service, "GET", examples["examples"][0]["thumbnail_url"])
    assert thumb[:2] == b"\xff\xd8"


async def test_a_roi_listing_one_learned_visitor_gets_events_for_it_only(
    tmp_path: Path, camera: LocalCamera, http: aiohttp.ClientSession
):
    """Examples come from the history (any past event), as on the history page."""
    cam = camera_config(camera.url(), rois=[{"name": "gate", "box": [2, 35, 38, 85]}])
    config = service_config(tmp_path, [cam], model={"min_score": 0.0})
    async with running_service(tmp_path, config) as service:
        await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "the first frame's event")
        spec = {"name": "Visitors", "classes": ["Mia", "Neil", "none"],
                "rois": ["driveway/gate"]}  # fmt: skip
        await call(http, service, "POST", "/api/classes", 201, json=spec)
        offered = await call(http, service, "GET", "/api/labels")  # the ROI label autocomplete
        assert offered["labels"][:2] == ["Mia", "Neil"] and "tabby" in offered["labels"]

        taught: dict[str, list[str]] = {"Mia": [], "Neil": []}
        for label, variation in visitor_training():
            count = service.store.stats()["count"]
            camera.set_image(variation.jpeg())
            await wait_for(lambda c=count: service.store.stats()["count"] > c, 20, "an event")
            newest = service.store.query(EventQuery(limit=1)).events[0]
            taught["Mia" if label == "cat" else "Neil"].append(newest["id"])
        for name, ids in taught.items():
            body = {"class": name, "events": ids}
            added = await call(http, service, "POST", "/api/classes/visitors/examples", 201,
                               json=body)  # fmt: skip
            assert len(added["added"]) == len(ids)
        camera.set_image(scene_jpeg("empty"))
        count = service.store.stats()["count"]
        await wait_for(lambda: service.store.stats()["count"] > count, 20, "the empty lawn")
        empty_id = service.store.query(EventQuery(limit=1)).events[0]["id"]
        body = {"class": "none", "events": [empty_id]}
        await call(http, service, "POST", "/api/classes/visitors/examples", 201, json=body)
        training = await call(http, service, "POST", "/api/classes/visitors/train")
        assert training["examples"] == 25

        await call(http, service, "PUT", "/api/cameras/driveway/rois/gate",
                   json={"labels": ["Mia"]})  # fmt: skip
        for label, variation in visitor_held_out():
            await show(camera, service, scene_jpeg("empty"))
            await settled(service)
            before = service.store.stats()["count"]
            camera.set_image(variation.jpeg())
            if label == "cat":
                await wait_for(lambda b=before: service.store.stats()["count"] > b, 20, "Mia")
                event = service.store.query(EventQuery(limit=1)).events[0]
                assert event["labels"] == ["Mia"] and 0 < event["scores"][0] <= 1
            else:
                await settled(service)
                assert service.store.stats()["count"] == before, "an event for the astronaut"
        facets = service.store.query(EventQuery(labels=["Mia"])).facets["labels"]
        assert facets["Mia"] == sum(label == "cat" for label, _ in visitor_held_out())


async def test_a_model_without_embeddings_is_refused_for_classes(
    tmp_path: Path, camera: LocalCamera, http: aiohttp.ClientSession
):
    model = write_colour_model(tmp_path / "colour")
    config = service_config(tmp_path, [camera_config(camera.url())], model={"path": str(model)})
    async with running_service(tmp_path, config) as service:
        spec = {"name": "Cup", "classes": ["cup", "empty"]}
        refused = await call(http, service, "POST", "/api/classes", 400, json=spec)
        assert refused["error"].startswith("model: model colour gives no embedding")
        bad = await call(http, service, "POST", "/api/classes", 400, json={"name": "x"})
        assert "classes" in bad["error"]
