"""Event entity: fires once per detection, with labels, scores and ROI in the event data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.event import EventDeviceClass, EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import CleverCamConfigEntry
from .const import EVENT_DETECTED
from .coordinator import CleverCamCoordinator
from .entity import CleverCamCameraEntity, async_add_camera_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CleverCamConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_camera_entities(entry.runtime_data, async_add_entities, _entities)


def _entities(coordinator: CleverCamCoordinator, camera: dict[str, Any]) -> Iterable[EventEntity]:
    yield DetectionEvent(coordinator, camera["id"], "detection")


def event_data(event: dict[str, Any]) -> dict[str, Any]:
    """What automations get: `trigger.to_state.attributes.labels` and friends."""
    return {
        "event_id": event.get("id"),
        "roi": event.get("roi"),
        "roi_name": event.get("roi_name"),
        "labels": event.get("labels", []),
        "scores": event.get("scores", []),
        "sequence_id": event.get("sequence_id"),
        "time": event.get("timestamp"),
    }


class DetectionEvent(CleverCamCameraEntity, EventEntity):
    _attr_translation_key = "detection"
    _attr_device_class = EventDeviceClass.MOTION
    _attr_event_types = [EVENT_DETECTED]

    def __init__(self, coordinator: CleverCamCoordinator, camera_id: str, key: str) -> None:
        super().__init__(coordinator, camera_id, key)
        self._fired_id = self._latest_id()  # what happened before setup is not an event now

    def _latest_id(self) -> str | None:
        last = self.camera_state.get("last_event") or {}
        return last.get("id")

    @callback
    def _handle_coordinator_update(self) -> None:
        latest = self._latest_id()
        if latest is not None and latest != self._fired_id:
            self._fired_id = latest
            self._trigger_event(EVENT_DETECTED, event_data(self.camera_state["last_event"]))
        super()._handle_coordinator_update()
