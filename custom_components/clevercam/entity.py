"""Base entities, device info and the one place unique ids are built.

Unique ids are `<instance_id>-<camera>-<key>` (ROI entities: `<instance_id>-<camera>-<roi>-<key>`);
instance, camera and ROI ids never contain '-', so no two of them can collide, and they survive
restarts, renames and a new address of the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import CleverCamCoordinator

MANUFACTURER = "clevercam"


def service_identifier(instance_id: str) -> tuple[str, str]:
    return (DOMAIN, instance_id)


def camera_identifier(instance_id: str, camera_id: str) -> tuple[str, str]:
    return (DOMAIN, f"{instance_id}-{camera_id}")


def unique_id(instance_id: str, camera_id: str | None, key: str, roi: str | None = None) -> str:
    parts = [instance_id, camera_id, roi, key]
    return "-".join(part for part in parts if part)


def service_device_info(coordinator: CleverCamCoordinator) -> DeviceInfo:
    return DeviceInfo(
        identifiers={service_identifier(coordinator.instance_id)},
        name=coordinator.config_entry.title,
        manufacturer=MANUFACTURER,
        model="clevercam service",
        sw_version=coordinator.data.version or None,
        entry_type=DeviceEntryType.SERVICE,
        configuration_url=coordinator.client.base_url,
    )


def camera_device_info(coordinator: CleverCamCoordinator, camera: dict[str, Any]) -> DeviceInfo:
    return DeviceInfo(
        identifiers={camera_identifier(coordinator.instance_id, camera["id"])},
        name=camera.get("name") or camera["id"],
        manufacturer=MANUFACTURER,
        model="Camera",
        via_device=service_identifier(coordinator.instance_id),
        configuration_url=coordinator.client.base_url,
    )


class CleverCamEntity(CoordinatorEntity[CleverCamCoordinator]):
    _attr_has_entity_name = True


class CleverCamServiceEntity(CleverCamEntity):
    """An entity of the service device (RAM, disk, history)."""

    def __init__(self, coordinator: CleverCamCoordinator, key: str) -> None:
        super().__init__(coordinator)
        self._attr_unique_id = unique_id(coordinator.instance_id, None, key)
        self._attr_device_info = service_device_info(coordinator)


class CleverCamCameraEntity(CleverCamEntity):
    """An entity of one camera, or of one ROI of it when `roi` is given."""

    def __init__(
        self, coordinator: CleverCamCoordinator, camera_id: str, key: str, roi: str | None = None
    ) -> None:
        super().__init__(coordinator)
        self.camera_id = camera_id
        self.roi_slug = roi
        camera = coordinator.data.cameras[camera_id]
        self._attr_unique_id = unique_id(coordinator.instance_id, camera_id, key, roi)
        self._attr_device_info = camera_device_info(coordinator, camera)
        if roi is not None:
            self._attr_translation_placeholders = {"roi": self._roi_name(camera, roi)}

    @staticmethod
    def _roi_name(camera: dict[str, Any], slug: str) -> str:
        for roi in camera.get("rois", []):
            if roi.get("slug") == slug:
                return str(roi.get("name") or slug)
        return slug

    @property
    def camera(self) -> dict[str, Any]:
        return self.coordinator.data.cameras.get(self.camera_id) or {}

    @property
    def camera_state(self) -> dict[str, Any]:
        return self.coordinator.data.camera_state(self.camera_id)

    @property
    def roi(self) -> dict[str, Any]:
        for roi in self.camera.get("rois", []):
            if roi.get("slug") == self.roi_slug:
                return dict(roi)
        return {}

    @property
    def available(self) -> bool:
        """Unavailable with the service, and when its camera or ROI was removed."""
        if not super().available or self.camera_id not in self.coordinator.data.cameras:
            return False
        return self.roi_slug is None or bool(self.roi)


@callback
def async_add_camera_entities(
    coordinator: CleverCamCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[CleverCamCoordinator, dict[str, Any]], Iterable[Entity]],
) -> None:
    """Add a platform's entities for every camera and ROI, now and whenever new ones appear."""
    known: set[str] = set()

    @callback
    def add_new() -> None:
        new = [
            entity
            for camera in coordinator.data.cameras.values()
            for entity in build(coordinator, camera)
            if entity.unique_id not in known
        ]
        known.update(entity.unique_id for entity in new if entity.unique_id)
        if new:
            async_add_entities(new)

    add_new()
    coordinator.config_entry.async_on_unload(coordinator.async_add_listener(add_new))
