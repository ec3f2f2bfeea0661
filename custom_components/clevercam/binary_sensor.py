"""Binary sensors: a ROI sees a wanted label (until its sequence ends); a camera problem."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import CleverCamConfigEntry
from .coordinator import CleverCamCoordinator
from .entity import CleverCamCameraEntity, async_add_camera_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CleverCamConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_camera_entities(entry.runtime_data, async_add_entities, _entities)


def _entities(
    coordinator: CleverCamCoordinator, camera: dict[str, Any]
) -> Iterable[BinarySensorEntity]:
    yield CameraProblemSensor(coordinator, camera["id"], "problem")
    for roi in camera.get("rois", []):
        yield DetectedSensor(coordinator, camera["id"], "detected", roi["slug"])


class DetectedSensor(CleverCamCameraEntity, BinarySensorEntity):
    """On at an event in the ROI, off when the service ends that sequence."""

    _attr_translation_key = "detected"
    _attr_device_class = BinarySensorDeviceClass.MOTION

    @property
    def is_on(self) -> bool:
        return (self.camera_id, self.roi_slug) in self.coordinator.data.detected


class CameraProblemSensor(CleverCamCameraEntity, BinarySensorEntity):
    """On while the service cannot get frames from the camera; the error is an attribute."""

    _attr_translation_key = "problem"
    _attr_device_class = BinarySensorDeviceClass.PROBLEM
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @property
    def is_on(self) -> bool | None:
        ok = self.camera_state.get("ok")
        return None if ok is None else not ok

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"error": self.camera_state.get("error")}
