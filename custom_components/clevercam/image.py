"""Image entity: the snapshot of the camera's latest event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import CleverCamConfigEntry
from .api import CleverCamError
from .coordinator import CleverCamCoordinator
from .entity import CleverCamCameraEntity, async_add_camera_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CleverCamConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_camera_entities(entry.runtime_data, async_add_entities, _entities)


def _entities(coordinator: CleverCamCoordinator, camera: dict[str, Any]) -> Iterable[ImageEntity]:
    yield LastEventImage(coordinator, camera["id"], "last_event")


class LastEventImage(CleverCamCameraEntity, ImageEntity):
    """Its state is the time of the event; the JPEG is fetched from the service once."""

    _attr_translation_key = "last_event"
    _attr_content_type = "image/jpeg"

    def __init__(self, coordinator: CleverCamCoordinator, camera_id: str, key: str) -> None:
        CleverCamCameraEntity.__init__(self, coordinator, camera_id, key)
        ImageEntity.__init__(self, coordinator.hass)
        self._image_id: str | None = None
        self._image: bytes | None = None
        self._follow_last_event()

    def _follow_last_event(self) -> None:
        event = self.camera_state.get("last_event") or {}
        if event.get("id") == self._image_id:
            return
        self._image_id, self._image = event.get("id"), None
        when = event.get("timestamp")
        self._attr_image_last_updated = dt_util.parse_datetime(str(when)) if when else None

    @callback
    def _handle_coordinator_update(self) -> None:
        self._follow_last_event()
        super()._handle_coordinator_update()

    async def async_image(self) -> bytes | None:
        event_id = self._image_id
        if event_id is None:
            return None
        if self._image is None:
            try:
                image = await self.coordinator.client.event_image(event_id)
            except CleverCamError:
                return None
            if event_id == self._image_id:
                self._image = image
            return image
        return self._image
