"""Switches: monitoring of a camera, and each ROI on or off."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import CleverCamConfigEntry
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


def _entities(coordinator: CleverCamCoordinator, camera: dict[str, Any]) -> Iterable[SwitchEntity]:
    yield MonitoringSwitch(coordinator, camera["id"], "monitoring")
    for roi in camera.get("rois", []):
        yield RoiSwitch(coordinator, camera["id"], "enabled", roi["slug"])


class _ServiceSwitch(CleverCamCameraEntity, SwitchEntity):
    """A setting of the service's config file, switched through its API."""

    _attr_entity_category = EntityCategory.CONFIG

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._set(False)

    async def _set(self, on: bool) -> None:
        raise NotImplementedError


class MonitoringSwitch(_ServiceSwitch):
    """Pauses or resumes the camera's loop on the service (written to its config file)."""

    _attr_translation_key = "monitoring"

    @property
    def is_on(self) -> bool:
        return bool(self.camera.get("monitoring"))

    @clevercam_action
    async def _set(self, on: bool) -> None:
        camera = await self.coordinator.client.set_monitoring(self.camera_id, on)
        self.coordinator.async_set_camera(camera)


class RoiSwitch(_ServiceSwitch):
    """Watches one ROI or leaves it out."""

    _attr_translation_key = "roi_enabled"

    @property
    def is_on(self) -> bool:
        return bool(self.roi.get("enabled"))

    @clevercam_action
    async def _set(self, on: bool) -> None:
        assert self.roi_slug is not None
        camera = await self.coordinator.client.set_roi(self.camera_id, self.roi_slug, enabled=on)
        self.coordinator.async_set_camera(camera)
