"""A state-mode class set seen from Home Assistant: an enum sensor found through discovery
that follows the scene in front of the real camera."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.ha_mqtt.test_discovery import mqtt_config, state_of, wait_state
from tests.helpers.broker import Broker
from tests.helpers.camera import LocalCamera
from tests.helpers.classes import show, teach_cup_state
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import camera_config, running_service, service_config
from tests.helpers.variations import Variation
from tests.helpers.waiting import wait_for

SENSOR = "sensor.driveway_gate_state"


async def test_the_enum_sensor_follows_the_cup(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    broker: Broker,
    camera: LocalCamera,
    tmp_path: Path,
) -> None:
    config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_config(broker))
    entities = er.async_get(hass)
    async with running_service(tmp_path, config) as service:
        await teach_cup_state(camera, service)
        await wait_for(lambda: entities.async_get(SENSOR), 30, "the state sensor")
        entry = entities.async_get(SENSOR)
        assert entry is not None and entry.unique_id == "clevercam-driveway-gate-state"

        await show(camera, service, scene_jpeg("empty"))
        await wait_state(hass, SENSOR, "empty")
        state = hass.states.get(SENSOR)
        assert state is not None
        assert state.attributes["device_class"] == "enum"
        assert state.attributes["options"] == ["cup", "empty"]
        assert state.attributes["class_set"] == "cup" and 0 < state.attributes["score"] <= 1

        await show(camera, service, Variation("espresso", (0.3, 0.3, 0.8, 0.8)).jpeg())
        await wait_state(hass, SENSOR, "cup")
        await show(camera, service, Variation(None, brightness=0.8).jpeg())
        await wait_state(hass, SENSOR, "empty")

        await service.classes.delete("cup")
        await wait_for(lambda: entities.async_get(SENSOR) is None, 30, "the sensor to go")
    assert state_of(hass, SENSOR) is None
