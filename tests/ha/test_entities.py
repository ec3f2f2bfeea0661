"""Entity states driven by the real service, camera and model: a cat at the gate."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.camera import async_get_image
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.clevercam.const import EVENT_TEST_RESULT
from tests.helpers.camera import LocalCamera
from tests.helpers.restartable import RestartableService
from tests.helpers.scenes import CAT_LABELS, scene_jpeg
from tests.helpers.smtp import MailServer
from tests.helpers.waiting import wait_for

from .conftest import entry_for, service_with

DETECTED = "binary_sensor.driveway_gate_detected"
EVENT = "event.driveway_detection"
IMAGE = "image.driveway_last_event"
LABELS = "sensor.driveway_gate_last_labels"
TODAY = "sensor.driveway_events_today"
JPEG = b"\xff\xd8"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_cat_flips_detected_fires_the_event_and_updates_the_image(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clevercam: RestartableService,
    camera: LocalCamera,
    hass_client: ClientSessionGenerator,
) -> None:
    await wait_for(lambda: init_integration.runtime_data.push_connected, 10, "the push")
    assert _state(hass, DETECTED) == STATE_OFF
    assert _state(hass, EVENT) == STATE_UNKNOWN
    assert _state(hass, IMAGE) == STATE_UNKNOWN
    assert _state(hass, LABELS) == STATE_UNKNOWN
    assert _state(hass, TODAY) == "0"
    changes: list[tuple[str, str]] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: changes.append((event.data["entity_id"], event.data["new_state"].state)),
    )

    camera.set_image(scene_jpeg("cat"))
    await wait_for(lambda: _state(hass, DETECTED) == STATE_ON, 30, "the gate to see the cat")

    await wait_for(lambda: _state(hass, EVENT) != STATE_UNKNOWN, 5, "the event entity")
    fired = hass.states.get(EVENT)
    assert fired.attributes["event_type"] == "detected"
    assert fired.attributes["roi"] == "gate"
    assert fired.attributes["labels"][0] in CAT_LABELS
    assert len(fired.attributes["scores"]) == len(fired.attributes["labels"])
    events = clevercam.running.store.stats()["count"]
    assert events >= 1

    assert _state(hass, IMAGE) != STATE_UNKNOWN
    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{IMAGE}")
    assert response.status == HTTPStatus.OK
    assert (await response.read()).startswith(JPEG)

    labels = hass.states.get(LABELS)
    assert labels.state.split(", ")[0] in CAT_LABELS
    assert labels.attributes["event_id"] == fired.attributes["event_id"]
    assert set(labels.attributes["scores"]) == set(labels.attributes["labels"])
    assert int(_state(hass, TODAY)) >= 1

    # The cat stays still: no motion, no event; the sequence ends and the ROI is clear.
    await wait_for(lambda: _state(hass, DETECTED) == STATE_OFF, 30, "the sequence to end")
    assert (DETECTED, STATE_ON) in changes and (EVENT, fired.state) in changes


async def test_switches_change_the_service(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    service = clevercam.running
    await hass.services.async_call(
        "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: "switch.driveway_monitoring"}, blocking=True
    )
    assert service.config.camera("driveway").monitoring is False
    assert _state(hass, "switch.driveway_monitoring") == STATE_OFF
    assert _state(hass, "camera.driveway") == "idle"

    await hass.services.async_call(
        "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: "switch.driveway_gate_enabled"}, blocking=True
    )
    assert service.config.camera("driveway").rois[0].enabled is False
    assert _state(hass, "switch.driveway_gate_enabled") == STATE_OFF

    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: "switch.driveway_gate_enabled"}, blocking=True
    )
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: "switch.driveway_monitoring"}, blocking=True
    )
    assert service.config.camera("driveway").rois[0].enabled is True
    assert service.config.camera("driveway").monitoring is True
    # Written to the config file: a restarted service keeps them.
    assert "monitoring: true" in clevercam.path.read_text()


async def test_switch_change_made_elsewhere_arrives_by_push(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    await wait_for(lambda: init_integration.runtime_data.push_connected, 10, "the push")
    await clevercam.running.set_roi_enabled("driveway", "gate", False)
    await wait_for(
        lambda: _state(hass, "switch.driveway_gate_enabled") == STATE_OFF, 10, "the push"
    )


async def test_camera_image_is_the_latest_frame(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    image = await async_get_image(hass, "camera.driveway")
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(JPEG)
    client = await hass_client()
    response = await client.get("/api/camera_proxy/camera.driveway")
    assert response.status == HTTPStatus.OK


async def test_buttons(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    results = async_capture_events(hass, EVENT_TEST_RESULT)
    frames = clevercam.running.states["driveway"].frames_checked
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: "button.driveway_refresh_camera"},
        blocking=True,
    )
    assert clevercam.running.states["driveway"].frames_checked > frames

    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: "button.driveway_test_classifier"},
        blocking=True,
    )
    assert len(results) == 1
    assert results[0].data["camera"] == "driveway"
    assert results[0].data["entity_id"] == "button.driveway_test_classifier"
    top = results[0].data["rois"]["gate"]
    assert top and {"label", "score"} <= set(top[0])


async def test_camera_problem_follows_the_camera(
    hass: HomeAssistant, init_integration: MockConfigEntry, camera: LocalCamera
) -> None:
    problem = "binary_sensor.driveway_camera_problem"
    await wait_for(lambda: init_integration.runtime_data.push_connected, 10, "the push")
    assert _state(hass, problem) == STATE_OFF
    camera.stop()
    await wait_for(lambda: _state(hass, problem) == STATE_ON, 30, "the camera problem")
    assert hass.states.get(problem).attributes["error"]
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {ATTR_ENTITY_ID: "button.driveway_test_classifier"},
            blocking=True,
        )
    camera.start()
    await wait_for(lambda: _state(hass, problem) == STATE_OFF, 60, "the camera back")


async def test_send_test_mail_button(
    hass: HomeAssistant, tmp_path: Path, camera: LocalCamera
) -> None:
    mail = MailServer(tmp_path)
    mail.start()
    service = service_with(tmp_path, camera, notify={"email": mail.config()})
    await service.start()
    try:
        entry = entry_for(service)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await wait_for(
            lambda: service.running.states["driveway"].frames_checked >= 1, 20, "a frame"
        )
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {ATTR_ENTITY_ID: "button.driveway_send_test_mail"},
            blocking=True,
        )
        await wait_for(lambda: mail.messages, 20, "the test mail")
        assert "Driveway" in mail.messages[0].message["Subject"]
        mail.stop()
        with pytest.raises(HomeAssistantError, match=r"refused|connect"):
            await hass.services.async_call(
                BUTTON_DOMAIN,
                SERVICE_PRESS,
                {ATTR_ENTITY_ID: "button.driveway_send_test_mail"},
                blocking=True,
            )
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await service.stop()
