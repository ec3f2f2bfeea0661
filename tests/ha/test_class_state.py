"""A state-mode class set in the component: an enum sensor that follows the real scene."""

from __future__ import annotations

from homeassistant.components.sensor import ATTR_OPTIONS, SensorDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.helpers.camera import LocalCamera
from tests.helpers.classes import show, teach_cup_state
from tests.helpers.restartable import RestartableService
from tests.helpers.scenes import scene_jpeg
from tests.helpers.variations import Variation
from tests.helpers.waiting import wait_for

SENSOR = "sensor.driveway_gate_state"


def _value(hass: HomeAssistant) -> str | None:
    state = hass.states.get(SENSOR)
    return state.state if state else None


async def test_the_state_sensor_follows_the_cup(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clevercam: RestartableService,
    camera: LocalCamera,
) -> None:
    await wait_for(lambda: init_integration.runtime_data.push_connected, 10, "the push")
    assert hass.states.get(SENSOR) is None  # no class set yet, no sensor
    service = clevercam.running
    await teach_cup_state(camera, service)
    await wait_for(lambda: hass.states.get(SENSOR), 20, "the state sensor")
    entry = er.async_get(hass).async_get(SENSOR)
    assert entry is not None and entry.unique_id == f"{service.instance_id}-driveway-gate-state"

    await show(camera, service, scene_jpeg("empty"))
    await wait_for(lambda: _value(hass) == "empty", 20, "the state empty")
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENUM
    assert state.attributes[ATTR_OPTIONS] == ["cup", "empty"]
    assert state.attributes["class_set"] == "cup" and 0 < state.attributes["score"] <= 1

    await show(camera, service, Variation("espresso", (0.3, 0.3, 0.8, 0.8)).jpeg())
    await wait_for(lambda: _value(hass) == "cup", 20, "the state cup")
    await show(camera, service, Variation(None, brightness=0.8).jpeg())
    await wait_for(lambda: _value(hass) == "empty", 20, "the state empty again")

    await service.classes.delete("cup")
    await wait_for(lambda: _value(hass) == STATE_UNAVAILABLE, 20, "the sensor to go unavailable")
