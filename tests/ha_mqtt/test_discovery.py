"""clevercam's MQTT discovery, fed to a real Home Assistant core through a real broker.

The real clevercam service (real camera, real model) publishes; Home Assistant's own MQTT
integration builds the devices and entities and follows the state topics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.camera import async_get_image
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.helpers.broker import Broker
from tests.helpers.camera import LocalCamera
from tests.helpers.scenes import CAT_LABELS, scene_jpeg
from tests.helpers.service import camera_config, running_service, service_config
from tests.helpers.waiting import wait_for

CAMERA_ENTITIES = {
    "binary_sensor.driveway_gate": "clevercam-driveway-gate-detected",
    "sensor.driveway_gate_label": "clevercam-driveway-gate-label",
    "switch.driveway_gate_enabled": "clevercam-driveway-gate-enabled",
    "image.driveway_last_event": "clevercam-driveway-last_event",
    "camera.driveway": "clevercam-driveway-snapshot",
    "event.driveway_detection": "clevercam-driveway-detection",
    "switch.driveway_monitoring": "clevercam-driveway-monitoring",
    "binary_sensor.driveway_camera_problem": "clevercam-driveway-camera_problem",
}
SERVICE_ENTITIES = {
    "sensor.clevercam_ram": "clevercam-service-ram",
    "sensor.clevercam_disk": "clevercam-service-disk",
    "sensor.clevercam_history_size": "clevercam-service-history_size",
    "sensor.clevercam_history_events": "clevercam-service-history_events",
}


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return state.state if state else None


async def wait_state(hass: HomeAssistant, entity_id: str, value: str, timeout: float = 20) -> None:
    await wait_for(lambda: state_of(hass, entity_id) == value, timeout, f"{entity_id} = {value}")


def mqtt_config(broker: Broker) -> dict[str, Any]:
    return {"enabled": True, "host": "127.0.0.1", "port": broker.port}


async def test_clevercam_devices_and_entities_follow_the_service(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    broker: Broker,
    camera: LocalCamera,
    tmp_path: Path,
) -> None:
    config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_config(broker))
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    cat, empty = scene_jpeg("cat"), scene_jpeg("empty")
    async with running_service(tmp_path, config) as service:
        wanted = {**CAMERA_ENTITIES, **SERVICE_ENTITIES}
        await wait_for(
            lambda: all(entities.async_get(e) for e in wanted), 30, "every clevercam entity"
        )
        for entity_id, unique_id in wanted.items():
            entry = entities.async_get(entity_id)
            assert entry is not None and entry.platform == "mqtt"
            assert entry.unique_id == unique_id

        device = devices.async_get_device(identifiers={("mqtt", "clevercam-camera-driveway")})
        hub = devices.async_get_device(identifiers={("mqtt", "clevercam-service")})
        assert device is not None and hub is not None
        assert device.name == "Driveway" and device.via_device_id == hub.id
        assert entities.async_get("switch.driveway_monitoring").device_id == device.id

        await wait_state(hass, "switch.driveway_monitoring", STATE_ON)
        await wait_state(hass, "switch.driveway_gate_enabled", STATE_ON)
        await wait_state(hass, "binary_sensor.driveway_gate", STATE_OFF)
        await wait_state(hass, "binary_sensor.driveway_camera_problem", STATE_OFF)
        await wait_for(
            lambda: state_of(hass, "sensor.clevercam_ram") not in (None, "unknown"), 20, "RAM"
        )
        assert 0 < float(state_of(hass, "sensor.clevercam_ram") or 0) <= 100

        camera.set_image(cat)
        await wait_state(hass, "binary_sensor.driveway_gate", STATE_ON)
        await wait_for(
            lambda: state_of(hass, "sensor.driveway_gate_label") in CAT_LABELS, 20, "the label"
        )
        label = hass.states.get("sensor.driveway_gate_label")
        assert label is not None and label.attributes["labels"][0] == label.state
        await wait_for(
            lambda: state_of(hass, "event.driveway_detection") not in (None, "unknown"),
            20,
            "the event entity to fire",
        )
        fired = hass.states.get("event.driveway_detection")
        assert fired is not None and fired.attributes["event_type"] in CAT_LABELS
        assert fired.attributes["camera"] == "driveway" and fired.attributes["roi"] == "gate"
        image = await async_get_image(hass, "camera.driveway")
        assert image.content[:2] == b"\xff\xd8" and len(image.content) > 10000
        assert state_of(hass, "image.driveway_last_event") not in (None, "unknown")

        camera.set_image(empty)
        await wait_state(hass, "binary_sensor.driveway_gate", STATE_OFF)  # the sequence ended

        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.driveway_monitoring"}, blocking=True
        )
        await wait_state(hass, "switch.driveway_monitoring", STATE_OFF)
        assert service.config.camera("driveway").monitoring is False
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.driveway_gate_enabled"}, blocking=True
        )
        await wait_state(hass, "switch.driveway_gate_enabled", STATE_OFF)
        assert service.config.camera("driveway").rois[0].enabled is False
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.driveway_monitoring"}, blocking=True
        )
        await wait_state(hass, "switch.driveway_monitoring", STATE_ON)

        camera.stop()  # unreachable: the problem sensor turns on
        await wait_state(hass, "binary_sensor.driveway_camera_problem", STATE_ON)

    # The service said `offline` on its way out: every entity is unavailable.
    await wait_state(hass, "switch.driveway_monitoring", STATE_UNAVAILABLE)
    await wait_state(hass, "sensor.clevercam_ram", STATE_UNAVAILABLE)


async def test_removed_camera_and_roi_leave_home_assistant(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    broker: Broker,
    camera: LocalCamera,
    tmp_path: Path,
) -> None:
    rois = [
        {"name": "gate", "box": [2, 35, 38, 85], "labels": CAT_LABELS},
        {"name": "lawn", "box": [40, 40, 60, 60], "labels": ["*"]},
    ]
    cameras = [
        camera_config(camera.url(), rois=rois, monitoring=False),
        camera_config(camera.url(), id="garage", name="Garage", monitoring=False),
    ]
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    lawn = ["binary_sensor.driveway_lawn", "sensor.driveway_lawn_label",
            "switch.driveway_lawn_enabled"]  # fmt: skip
    config = service_config(tmp_path, cameras, mqtt=mqtt_config(broker))
    async with running_service(tmp_path, config):
        await wait_for(
            lambda: all(entities.async_get(e) for e in [*lawn, "switch.garage_monitoring"]),
            30,
            "the lawn and garage entities",
        )
        await wait_state(hass, "switch.garage_monitoring", STATE_OFF)

    config = service_config(tmp_path, cameras[:1], mqtt=mqtt_config(broker))
    config["cameras"][0]["rois"] = rois[:1]
    async with running_service(tmp_path, config):
        await wait_for(
            lambda: not any(entities.async_get(e) for e in [*lawn, "switch.garage_monitoring"]),
            30,
            "the lawn and garage entities to go",
        )
        await wait_for(
            lambda: (
                devices.async_get_device(identifiers={("mqtt", "clevercam-camera-garage")}) is None
            ),
            30,
            "the garage device to go",
        )
        await wait_state(hass, "switch.driveway_monitoring", STATE_OFF)
        assert entities.async_get("binary_sensor.driveway_gate") is not None
