"""The pure parts of MQTT: topic parsing, switch payloads, event types, the clearing plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clevercam_mqtt.config import parse_config
from clevercam_mqtt.mqtt import published
from clevercam_mqtt.mqtt.topics import (
    Command,
    Topics,
    event_type,
    event_types,
    parse_command,
    parse_switch,
)


def config_with(rois: list[dict[str, Any]], **mqtt: Any) -> Any:
    camera = {"id": "driveway", "url": "demo://yard", "rois": rois}
    return parse_config({"cameras": [camera], "mqtt": mqtt})


def test_command_topics():
    topics = Topics("home/clevercam")
    assert parse_command(topics, "home/clevercam/driveway/monitoring/set") == Command(
        "driveway", None
    )
    assert parse_command(topics, "home/clevercam/driveway/gate/enabled/set") == Command(
        "driveway", "gate"
    )
    for other in (
        "home/clevercam/driveway/monitoring",
        "home/clevercam/driveway/gate/enabled",
        "home/clevercam/driveway/x/y/enabled/set",
        "other/driveway/monitoring/set",
    ):
        assert parse_command(topics, other) is None


def test_switch_payloads():
    for text in (b"ON", b"on", b" true\n", b"1"):
        assert parse_switch(text) is True
    for text in (b"OFF", b"false", b"0"):
        assert parse_switch(text) is False
    for text in (b"", b"maybe", b"\xff\xfe", b"{}"):
        assert parse_switch(text) is None


def test_event_types_follow_the_roi_labels():
    config = config_with([
        {"name": "gate", "box": [0, 0, 50, 50], "labels": ["Egyptian cat", "tabby"]},
        {"name": "drive", "box": [50, 50, 100, 100], "labels": ["TABBY", "moped"]},
    ])  # fmt: skip
    camera = config.cameras[0]
    assert event_types(camera) == ["Egyptian cat", "tabby", "moped"]
    assert event_type(camera, ["Tabby", "Egyptian cat"]) == "tabby"
    assert event_type(camera, ["tiger"]) == "other"

    anything = config_with([{"name": "yard", "box": [0, 0, 50, 50], "labels": ["*"]}])
    assert event_types(anything.cameras[0]) == ["other"]


def test_plan_clears_what_the_config_lost(tmp_path: Path):
    two_rois = config_with([
        {"name": "gate", "box": [0, 0, 50, 50]},
        {"name": "lawn", "box": [50, 50, 100, 100]},
    ])  # fmt: skip
    first = published.plan(published.Published(), two_rois)
    assert all(payload for _, payload in first.messages)  # nothing to clear the first time
    path = tmp_path / published.FILE_NAME
    published.save(path, first.published)
    assert published.load(path) == first.published

    one_roi = config_with([{"name": "gate", "box": [0, 0, 50, 50]}])
    second = dict(published.plan(published.load(path), one_roi).messages)
    assert second["clevercam/driveway/lawn/detected"] == b""
    assert "clevercam/driveway/gate/detected" not in second  # states are not re-sent here
    device = json.loads(second["homeassistant/device/clevercam/driveway/config"])
    assert device["components"]["lawn_enabled"] == {"platform": "switch"}

    off = dict(published.plan(published.load(path), config_with([], discovery=False)).messages)
    assert off["homeassistant/device/clevercam/driveway/config"] == b""
    assert off["homeassistant/device/clevercam/clevercam-service/config"] == b""


def test_unreadable_published_file_clears_nothing(tmp_path: Path):
    path = tmp_path / published.FILE_NAME
    path.write_text("{not json")
    assert published.load(path) == published.Published()
    assert published.load(tmp_path / "missing.json") == published.Published()
