"""Camera entity: the latest frame the service saw."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.camera import Camera
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import CleverCamConfigEntry
from .api import CleverCamError
from .coordinator import CleverCamCoordinator
from .entity import CleverCamCameraEntity, async_add_camera_entities
from .helpers import action_error

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CleverCamConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_camera_entities(entry.runtime_data, async_add_entities, _entities)


def _entities(coordinator: CleverCamCoordinator, camera: dict[str, Any]) -> Iterable[Camera]:
    yield CleverCamCamera(coordinator, camera["id"], "camera")


class CleverCamCamera(CleverCamCameraEntity, Camera):
    """Named after its device; is_on follows the camera's monitoring switch."""

    _attr_name = None

    def __init__(self, coordinator: CleverCamCoordinator, camera_id: str, key: str) -> None:
        CleverCamCameraEntity.__init__(self, coordinator, camera_id, key)
        Camera.__init__(self)

    @property
    def is_on(self) -> bool:
        return bool(self.camera.get("monitoring"))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        state = self.camera_state
        return {
            "last_frame": state.get("last_frame"),
            "width": state.get("width"),
            "height": state.get("height"),
        }

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        try:
            return await self.coordinator.client.snapshot(self.camera_id)
        except CleverCamError as error:
            raise action_error(error) from error
