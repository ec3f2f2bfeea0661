"""Buttons: fetch a frame now, run the classifier on every ROI, send a test mail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import CleverCamConfigEntry
from .const import EVENT_TEST_RESULT
from .coordinator import CleverCamCoordinator
from .entity import CleverCamCameraEntity, async_add_camera_entities
from .helpers import clevercam_action

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CleverCamConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_camera_entities(entry.runtime_data, async_add_entities, _entities)


def _entities(coordinator: CleverCamCoordinator, camera: dict[str, Any]) -> Iterable[ButtonEntity]:
    yield RefreshButton(coordinator, camera["id"], "refresh")
    yield TestClassifierButton(coordinator, camera["id"], "test_classifier")
    if coordinator.data.system.get("notify"):  # only when the service has a mail server
        yield SendTestMailButton(coordinator, camera["id"], "send_test_mail")


class RefreshButton(CleverCamCameraEntity, ButtonEntity):
    """Fetches a frame now: the camera's resolution, latency or its clear error."""

    _attr_translation_key = "refresh"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @clevercam_action
    async def async_press(self) -> None:
        camera = await self.coordinator.client.refresh_camera(self.camera_id)
        self.coordinator.async_set_camera(camera)


class TestClassifierButton(CleverCamCameraEntity, ButtonEntity):
    """Top labels of every ROI now, fired as a `clevercam_test_result` event."""

    _attr_translation_key = "test_classifier"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @clevercam_action
    async def async_press(self) -> None:
        result = await self.coordinator.client.test_classifier(self.camera_id)
        self.hass.bus.async_fire(EVENT_TEST_RESULT, {"entity_id": self.entity_id, **result})


class SendTestMailButton(CleverCamCameraEntity, ButtonEntity):
    """Mails a test message with this camera's latest frame (checks the mail settings)."""

    _attr_translation_key = "send_test_mail"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @clevercam_action
    async def async_press(self) -> None:
        await self.coordinator.client.send_test_mail(self.camera_id)
