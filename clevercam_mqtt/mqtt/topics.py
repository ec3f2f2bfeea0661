"""The MQTT topic contract and the payloads on it, as pure functions.

`P` is `mqtt.topic_prefix`, `C` a camera id, `R` a ROI slug. Every topic a camera uses is
built here, so the contract lives in one file (and in docs/mqtt.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..config import CameraConfig, Config
from ..events import Event, StateChanged

ON, OFF = "ON", "OFF"
ONLINE, OFFLINE = "online", "offline"
OTHER_EVENT_TYPE = "other"
_TRUE = {"on", "true", "1", "yes"}
_FALSE = {"off", "false", "0", "no"}


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    @property
    def status(self) -> str:
        return f"{self.prefix}/status"

    @property
    def system(self) -> str:
        return f"{self.prefix}/system"

    def events(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/events"

    def snapshot(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/snapshot"

    def monitoring(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/monitoring"

    def camera_ok(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/camera_ok"

    def detected(self, camera: str, roi: str) -> str:
        return f"{self.prefix}/{camera}/{roi}/detected"

    def labels(self, camera: str, roi: str) -> str:
        return f"{self.prefix}/{camera}/{roi}/labels"

    def enabled(self, camera: str, roi: str) -> str:
        return f"{self.prefix}/{camera}/{roi}/enabled"

    def state(self, camera: str, roi: str) -> str:
        return f"{self.prefix}/{camera}/{roi}/state"

    @property
    def command_filters(self) -> tuple[str, str]:
        """Subscriptions covering every command topic."""
        return (f"{self.prefix}/+/monitoring/set", f"{self.prefix}/+/+/enabled/set")


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command topic: monitoring of a camera (roi None) or a ROI's enabled switch."""

    camera: str
    roi: str | None


def parse_command(topics: Topics, topic: str) -> Command | None:
    """`P/C/monitoring/set` or `P/C/R/enabled/set`; anything else is None."""
    head = topics.prefix + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) == 3 and parts[1:] == ["monitoring", "set"]:
        return Command(parts[0], None)
    if len(parts) == 4 and parts[2:] == ["enabled", "set"]:
        return Command(parts[0], parts[1])
    return None


def parse_switch(payload: bytes) -> bool | None:
    """ON/OFF as Home Assistant sends it (also true/false, 1/0, yes/no); None if unknown."""
    try:
        text = payload.decode("utf-8").strip().lower()
    except UnicodeDecodeError:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def on_off(value: bool) -> str:
    return ON if value else OFF


def event_types(camera: CameraConfig) -> list[str]:
    """Home Assistant event types of a camera: the labels its ROIs ask for, in config order.

    A ROI that accepts any label ('*') adds `other`, the type of events whose label no ROI
    names (Home Assistant drops an event whose type it was not told about).
    """
    types: dict[str, str] = {}
    wildcard = False
    for roi in camera.rois:
        for label in roi.labels:
            if label == "*":
                wildcard = True
            else:
                types.setdefault(label.lower(), label)
    result = list(types.values())
    if wildcard or not result:
        result.append(OTHER_EVENT_TYPE)
    return result


def event_type(camera: CameraConfig, labels: list[str]) -> str:
    """The event type of a detection: its best label as the config spells it, or `other`."""
    known = {label.lower(): label for label in event_types(camera)}
    for label in labels:
        if label.lower() in known:
            return known[label.lower()]
    return OTHER_EVENT_TYPE


def absolute(base_url: str | None, path: str) -> str:
    return base_url.rstrip("/") + path if base_url else path


def event_payload(event: Event, camera: CameraConfig, base_url: str | None) -> bytes:
    """`P/C/events`: the event's public JSON, URLs made absolute when `web.base_url` is set."""
    data = event.to_dict()
    data["image_url"] = absolute(base_url, data["image_url"])
    data["thumbnail_url"] = absolute(base_url, data["thumbnail_url"])
    data["event_type"] = event_type(camera, event.labels)
    return json.dumps(data).encode()


def labels_payload(event: dict[str, Any]) -> bytes:
    """`P/C/R/labels` from an event's public JSON: its labels and scores, best first."""
    labels, scores = list(event["labels"]), [round(score, 4) for score in event["scores"]]
    data = {
        "label": labels[0] if labels else None,
        "score": scores[0] if scores else None,
        "labels": labels,
        "scores": scores,
        "event_id": event["id"],
        "timestamp": event["timestamp"],
    }
    return json.dumps(data).encode()


@dataclass(frozen=True, slots=True)
class StateSensor:
    """A ROI watched by a state-mode class set: its states are the sensor's options."""

    camera: str
    roi: str
    name: str
    options: tuple[str, ...]


def state_payload(state: StateChanged | dict[str, Any]) -> bytes:
    """`P/C/R/state`: the ROI's current state under its class set, with the score."""
    data = state.to_dict() if isinstance(state, StateChanged) else state
    keys = ("state", "score", "class_set", "previous", "timestamp")
    return json.dumps({key: data.get(key) for key in keys}).encode()


def system_payload(info: dict[str, Any]) -> bytes:
    return json.dumps(info).encode()


def retained_state_topics(
    topics: Topics, config: Config, sensors: tuple[StateSensor, ...] = ()
) -> set[str]:
    """Every retained state topic the current cameras can have (for clearing removed ones)."""
    result: set[str] = {topics.state(sensor.camera, sensor.roi) for sensor in sensors}
    for camera in config.cameras:
        result |= {
            topics.snapshot(camera.id),
            topics.monitoring(camera.id),
            topics.camera_ok(camera.id),
        }
        for roi in camera.rois:
            result |= {
                topics.detected(camera.id, roi.slug),
                topics.labels(camera.id, roi.slug),
                topics.enabled(camera.id, roi.slug),
            }
    return result
