"""Sensors: last labels (and learned state) of each ROI, events today; RAM, disk and history
of the service."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfInformation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from . import CleverCamConfigEntry
from .coordinator import CleverCamCoordinator
from .entity import CleverCamCameraEntity, CleverCamServiceEntity, async_add_camera_entities

PARALLEL_UPDATES = 0
MAX_STATE_LENGTH = 255


@dataclass(frozen=True, kw_only=True)
class SystemSensorDescription(SensorEntityDescription):
    """A figure of `/api/system`."""

    value_fn: Callable[[dict[str, Any]], StateType]


SYSTEM_SENSORS: tuple[SystemSensorDescription, ...] = (
    SystemSensorDescription(
        key="ram",
        translation_key="ram",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda system: system.get("ram_percent"),
    ),
    SystemSensorDescription(
        key="disk",
        translation_key="disk",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda system: system.get("disk_percent"),
    ),
    SystemSensorDescription(
        key="history_size",
        translation_key="history_size",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda system: system.get("history_bytes"),
    ),
    SystemSensorDescription(
        key="history_events",
        translation_key="history_events",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda system: system.get("history_count"),
    ),
    SystemSensorDescription(
        key="cpu",
        translation_key="cpu",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda system: system.get("cpu_percent"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CleverCamConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    async_add_entities(SystemSensor(coordinator, description) for description in SYSTEM_SENSORS)
    async_add_camera_entities(coordinator, async_add_entities, _entities)


def _entities(coordinator: CleverCamCoordinator, camera: dict[str, Any]) -> Iterable[SensorEntity]:
    yield EventsTodaySensor(coordinator, camera["id"], "events_today")
    for roi in camera.get("rois", []):
        yield LastLabelsSensor(coordinator, camera["id"], "last_labels", roi["slug"])
        if roi.get("state_set"):
            yield RoiStateSensor(coordinator, camera["id"], "state", roi["slug"])


class SystemSensor(CleverCamServiceEntity, SensorEntity):
    entity_description: SystemSensorDescription

    def __init__(
        self, coordinator: CleverCamCoordinator, description: SystemSensorDescription
    ) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType:
        return self.entity_description.value_fn(self.coordinator.data.system)


class EventsTodaySensor(CleverCamCameraEntity, SensorEntity):
    """Events of the camera since local midnight."""

    _attr_translation_key = "events_today"
    _attr_state_class = SensorStateClass.TOTAL_INCREASING

    @property
    def native_value(self) -> int:
        state = self.camera_state
        last = _event_time(state.get("last_event"))
        # The service resets its count at the first event of a new day; until then it is 0.
        if last is not None and dt_util.as_local(last).date() != dt_util.now().date():
            return 0
        return int(state.get("events_today") or 0)


class LastLabelsSensor(CleverCamCameraEntity, SensorEntity):
    """The labels of the ROI's latest event; scores, time and event id as attributes."""

    _attr_translation_key = "last_labels"

    @property
    def _event(self) -> dict[str, Any] | None:
        return self.coordinator.data.roi_events.get((self.camera_id, self.roi_slug or ""))

    @property
    def native_value(self) -> str | None:
        event = self._event
        if event is None:
            return None
        return ", ".join(event.get("labels", []))[:MAX_STATE_LENGTH]

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        event = self._event
        if event is None:
            return None
        labels, scores = event.get("labels", []), event.get("scores", [])
        return {
            "labels": labels,
            "scores": {
                label: round(score, 3) for label, score in zip(labels, scores, strict=False)
            },
            "event_id": event.get("id"),
            "time": event.get("timestamp"),
        }


class RoiStateSensor(CleverCamCameraEntity, SensorEntity):
    """The ROI's state under the state-mode class set watching it: one of the set's classes."""

    _attr_translation_key = "roi_state"
    _attr_device_class = SensorDeviceClass.ENUM

    @property
    def _state_set(self) -> dict[str, Any]:
        return self.roi.get("state_set") or {}

    @property
    def available(self) -> bool:
        """Unavailable also once no state-mode class set watches the ROI any more."""
        return super().available and bool(self._state_set)

    @property
    def options(self) -> list[str]:
        return [str(option) for option in self._state_set.get("options", [])]

    @property
    def native_value(self) -> str | None:
        state = self._state_set.get("state")
        return str(state) if state in self.options else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if not self._state_set:
            return None
        return {
            "class_set": self._state_set.get("class_set"),
            "score": self._state_set.get("score"),
        }


def _event_time(event: dict[str, Any] | None) -> datetime | None:
    if not event or not event.get("timestamp"):
        return None
    return dt_util.parse_datetime(str(event["timestamp"]))
