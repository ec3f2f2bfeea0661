"""What this installation has left retained on the broker, remembered across restarts.

A camera or ROI removed from the config while the service was stopped still has retained
discovery and state messages on the broker, so Home Assistant would keep its entities.
The set published last time is kept in `storage.path/mqtt_discovery.json`; comparing it
with the current config tells which messages to clear (an empty retained payload).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from .discovery import discovery_messages, with_removals
from .topics import StateSensor, Topics, retained_state_topics

_LOGGER = logging.getLogger(__name__)
FILE_NAME = "mqtt_discovery.json"


@dataclass
class Published:
    """Discovery topic -> {component id: platform}, and the retained state topics."""

    discovery: dict[str, dict[str, str]] = field(default_factory=dict)
    states: set[str] = field(default_factory=set)


@dataclass
class Plan:
    """Messages to publish (retained, in order; b"" clears a topic) and the set to save."""

    messages: list[tuple[str, bytes]]
    published: Published


def load(path: Path) -> Published:
    """The saved set; a missing or unreadable file is an empty set (nothing to clear)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Published(
            discovery={
                str(topic): {str(k): str(v) for k, v in components.items()}
                for topic, components in data.get("discovery", {}).items()
            },
            states={str(topic) for topic in data.get("states", [])},
        )
    except FileNotFoundError:
        return Published()
    except (OSError, ValueError, AttributeError, TypeError) as error:
        _LOGGER.warning("Ignoring %s (%s): nothing will be cleared from the broker", path, error)
        return Published()


def save(path: Path, published: Published) -> None:
    data = {"discovery": published.discovery, "states": sorted(published.states)}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def plan(previous: Published, config: Config, sensors: tuple[StateSensor, ...] = ()) -> Plan:
    """Clear what is gone, then announce every current device.

    A device that is gone gets an empty payload; a device that lost components gets them
    as platform-only entries, which Home Assistant 2025.4 reads as "remove".
    """
    topics = Topics(config.mqtt.topic_prefix)
    current = discovery_messages(config, sensors)
    states = retained_state_topics(topics, config, sensors)
    current_topics = {message.topic for message in current}
    gone = sorted(set(previous.discovery) - current_topics) + sorted(previous.states - states)
    messages: list[tuple[str, bytes]] = [(topic, b"") for topic in gone]
    for message in current:
        full = with_removals(message, previous.discovery.get(message.topic, {}))
        messages.append((full.topic, json.dumps(full.payload).encode()))
    published = Published({m.topic: m.platforms for m in current}, states)
    return Plan(messages, published)
