"""Home Assistant MQTT discovery payloads, as pure functions of the config.

One device-based discovery message (`<discovery_prefix>/device/<node>/<object>/config`) per
camera, plus one for the service itself. Home Assistant 2025.4 rejects such a message whole
unless it has `origin.name`, `device.identifiers` and, in every component, `platform` and
`unique_id`; a component sent with only its `platform` is removed.

Ids use `-` between parts: camera ids and ROI slugs never contain one, so no two cameras
or ROIs can produce the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..config import CameraConfig, Config, Roi, slugify
from .topics import OFF, ON, StateSensor, Topics, event_types

ORIGIN = {"name": "clevercam", "sw_version": __version__}
SERVICE_OBJECT_ID = "clevercam-service"  # has a '-', so no camera id can take it

Component = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    topic: str
    payload: dict[str, Any]

    @property
    def platforms(self) -> dict[str, str]:
        """Component id -> platform: what a later message must remove if it disappears."""
        return {key: value["platform"] for key, value in self.payload["components"].items()}


def node_id(config: Config) -> str:
    """The installation's part of every id, from its topic prefix (unique per broker)."""
    return slugify(config.mqtt.topic_prefix)


def service_device_id(config: Config) -> str:
    return f"{node_id(config)}-service"


def camera_device_id(config: Config, camera_id: str) -> str:
    return f"{node_id(config)}-camera-{camera_id}"


def discovery_topic(config: Config, object_id: str) -> str:
    return f"{config.mqtt.discovery_prefix}/device/{node_id(config)}/{object_id}/config"


def _device_message(
    config: Config, object_id: str, device: dict[str, Any], components: dict[str, Component]
) -> DiscoveryMessage:
    topics = Topics(config.mqtt.topic_prefix)
    if config.web.base_url:
        device["configuration_url"] = config.web.base_url
    payload = {
        "device": device,
        "origin": dict(ORIGIN),
        "availability_topic": topics.status,
        "components": components,
    }
    return DiscoveryMessage(discovery_topic(config, object_id), payload)


def service_message(config: Config) -> DiscoveryMessage:
    """The service device: RAM, disk and history sensors fed by `P/system`."""
    topics = Topics(config.mqtt.topic_prefix)
    node = node_id(config)

    def sensor(key: str, name: str, template: str, **extra: Any) -> Component:
        return {
            "platform": "sensor",
            "unique_id": f"{node}-service-{key}",
            "object_id": f"{node}_{key}",
            "name": name,
            "state_topic": topics.system,
            "value_template": template,
            "state_class": "measurement",
            **extra,
        }

    components = {
        "ram": sensor(
            "ram", "RAM usage", "{{ value_json.ram_percent }}",
            unit_of_measurement="%", icon="mdi:memory",
        ),
        "disk": sensor(
            "disk", "Disk usage", "{{ value_json.disk_percent }}",
            unit_of_measurement="%", icon="mdi:harddisk",
        ),
        "history_size": sensor(
            "history_size", "History size",
            "{{ (value_json.history_bytes / 1000000) | round(1) }}",
            unit_of_measurement="MB", device_class="data_size",
            suggested_display_precision=1,
        ),
        "history_events": sensor(
            "history_events", "History events", "{{ value_json.history_count }}",
            icon="mdi:history",
        ),
    }  # fmt: skip
    device = {
        "identifiers": [service_device_id(config)],
        "name": "clevercam" if node == "clevercam" else f"clevercam {node}",
        "manufacturer": "clevercam",
        "model": "clevercam service",
        "sw_version": __version__,
    }
    return _device_message(config, SERVICE_OBJECT_ID, device, components)


def _roi_components(
    topics: Topics, node: str, camera: CameraConfig, roi: Roi
) -> dict[str, Component]:
    cid, slug = camera.id, roi.slug
    base = f"{node}-{cid}-{slug}"
    return {
        f"{slug}_detected": {
            "platform": "binary_sensor",
            "unique_id": f"{base}-detected",
            "object_id": f"{cid}_{slug}",
            "name": roi.name,
            "device_class": "occupancy",
            "state_topic": topics.detected(cid, slug),
            "payload_on": ON,
            "payload_off": OFF,
        },
        f"{slug}_label": {
            "platform": "sensor",
            "unique_id": f"{base}-label",
            "object_id": f"{cid}_{slug}_label",
            "name": f"{roi.name} label",
            "icon": "mdi:tag-outline",
            "state_topic": topics.labels(cid, slug),
            "value_template": "{{ value_json.label }}",
            "json_attributes_topic": topics.labels(cid, slug),
        },
        f"{slug}_enabled": {
            "platform": "switch",
            "unique_id": f"{base}-enabled",
            "object_id": f"{cid}_{slug}_enabled",
            "name": f"{roi.name} enabled",
            "icon": "mdi:select-drag",
            "entity_category": "config",
            "state_topic": topics.enabled(cid, slug),
            "command_topic": topics.enabled(cid, slug) + "/set",
            "payload_on": ON,
            "payload_off": OFF,
        },
    }


def _state_component(
    topics: Topics, node: str, camera: CameraConfig, sensor: StateSensor
) -> Component:
    """An enum sensor whose options are the classes of the ROI's state-mode class set."""
    roi = next((r for r in camera.rois if r.slug == sensor.roi), None)
    return {
        "platform": "sensor",
        "unique_id": f"{node}-{camera.id}-{sensor.roi}-state",
        "object_id": f"{camera.id}_{sensor.roi}_state",
        "name": f"{roi.name if roi else sensor.roi} {sensor.name}",
        "icon": "mdi:state-machine",
        "device_class": "enum",
        "options": list(sensor.options),
        "state_topic": topics.state(camera.id, sensor.roi),
        "value_template": "{{ value_json.state }}",
        "json_attributes_topic": topics.state(camera.id, sensor.roi),
    }


def camera_message(
    config: Config, camera: CameraConfig, sensors: tuple[StateSensor, ...] = ()
) -> DiscoveryMessage:
    """One camera device with its camera-level and per-ROI entities."""
    topics = Topics(config.mqtt.topic_prefix)
    node, cid = node_id(config), camera.id
    base = f"{node}-{cid}"
    components: dict[str, Component] = {
        "snapshot": {
            "platform": "camera",
            "unique_id": f"{base}-snapshot",
            "object_id": cid,
            "name": None,
            "topic": topics.snapshot(cid),
        },
        "last_event": {
            "platform": "image",
            "unique_id": f"{base}-last_event",
            "object_id": f"{cid}_last_event",
            "name": "Last event",
            "image_topic": topics.snapshot(cid),
            "content_type": "image/jpeg",
        },
        "detection": {
            "platform": "event",
            "unique_id": f"{base}-detection",
            "object_id": f"{cid}_detection",
            "name": "Detection",
            "icon": "mdi:cctv",
            "state_topic": topics.events(cid),
            "event_types": event_types(camera),
        },
        "monitoring": {
            "platform": "switch",
            "unique_id": f"{base}-monitoring",
            "object_id": f"{cid}_monitoring",
            "name": "Monitoring",
            "icon": "mdi:eye",
            "state_topic": topics.monitoring(cid),
            "command_topic": topics.monitoring(cid) + "/set",
            "payload_on": ON,
            "payload_off": OFF,
        },
        "camera_problem": {
            "platform": "binary_sensor",
            "unique_id": f"{base}-camera_problem",
            "object_id": f"{cid}_camera_problem",
            "name": "Camera problem",
            "device_class": "problem",
            "entity_category": "diagnostic",
            "state_topic": topics.camera_ok(cid),
            "payload_on": OFF,  # camera_ok OFF means there is a problem
            "payload_off": ON,
        },
    }
    for roi in camera.rois:
        components.update(_roi_components(topics, node, camera, roi))
    for sensor in sensors:
        if sensor.camera == cid:
            components[f"{sensor.roi}_state"] = _state_component(topics, node, camera, sensor)
    device = {
        "identifiers": [camera_device_id(config, cid)],
        "name": camera.display_name,
        "manufacturer": "clevercam",
        "model": "clevercam camera",
        "sw_version": __version__,
        "via_device": service_device_id(config),
    }
    return _device_message(config, cid, device, components)


def discovery_messages(
    config: Config, sensors: tuple[StateSensor, ...] = ()
) -> list[DiscoveryMessage]:
    """Every discovery message of the current config (none when discovery is off)."""
    if not config.mqtt.discovery:
        return []
    cameras = (camera_message(config, c, sensors) for c in config.cameras)
    return [service_message(config), *cameras]


def with_removals(message: DiscoveryMessage, previous: dict[str, str]) -> DiscoveryMessage:
    """Add a platform-only entry for every component published before and gone now."""
    gone = {key: {"platform": p} for key, p in previous.items() if key not in message.platforms}
    if not gone:
        return message
    payload = {**message.payload, "components": {**message.payload["components"], **gone}}
    return DiscoveryMessage(message.topic, payload)
