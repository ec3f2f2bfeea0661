"""MQTT against a real mosquitto, the real lighttpd camera and the real model."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from clevercam_mqtt.app import build_service
from clevercam_mqtt.config import load_config
from clevercam_mqtt.events import Event
from clevercam_mqtt.mqtt import MqttSink
from clevercam_mqtt.service import Service
from clevercam_mqtt.store import EventQuery
from tests.helpers.broker import Broker
from tests.helpers.camera import PASSWORD, USER, LocalCamera
from tests.helpers.mqtt import PersistentBroker, Recorder, password_broker, publish, tls_broker
from tests.helpers.scenes import CAT_LABELS, GATE_BOX, scene_jpeg
from tests.helpers.service import camera_config, running_service, service_config, write_config
from tests.helpers.tls import write_ca_and_server_cert
from tests.helpers.waiting import wait_for

DISCOVERY = "homeassistant/device/clevercam/driveway/config"
SERVICE_DISCOVERY = "homeassistant/device/clevercam/clevercam-service/config"
BASE_URL = "http://clevercam.example:8080"


def mqtt_section(broker: Broker, **extra: Any) -> dict[str, Any]:
    return {"enabled": True, "host": "127.0.0.1", "port": broker.port, **extra}


def sink_of(service: Service) -> MqttSink:
    return next(sink for sink in service.sinks if isinstance(sink, MqttSink))


@pytest.fixture
def recorder(broker: Broker):
    rec = Recorder(broker.port).start()
    yield rec
    rec.stop()


async def frames(service: Service, camera_id: str, count: int) -> None:
    state = service.states[camera_id]
    target = state.frames_checked + count
    await wait_for(lambda: state.frames_checked >= target, 20, f"{count} frames of {camera_id}")


async def test_event_gives_events_snapshot_detected_and_labels(
    tmp_path: Path, camera: LocalCamera, broker: Broker, recorder: Recorder
):
    cameras = [camera_config(camera.url())]
    web = {"base_url": BASE_URL}
    config = service_config(tmp_path, cameras, mqtt=mqtt_section(broker), web=web)
    async with running_service(tmp_path, config) as service:
        await recorder.wait("clevercam/status", "online")
        await recorder.wait("clevercam/driveway/monitoring", "ON")
        await recorder.wait("clevercam/driveway/gate/enabled", "ON")
        await recorder.wait("clevercam/driveway/gate/detected", "OFF")
        await recorder.wait("clevercam/driveway/camera_ok", "ON")
        system = (await recorder.wait("clevercam/system")).json()
        assert {"ram_percent", "disk_percent", "history_bytes"} <= system.keys()

        camera.set_image(scene_jpeg("cat"))
        message = await recorder.wait("clevercam/driveway/events")
        event = message.json()
        assert not message.retain
        assert event["camera"] == "driveway" and event["roi"] == "gate"
        assert event["labels"][0] in CAT_LABELS and len(event["scores"]) == len(event["labels"])
        assert 0 < event["motion"] <= 1
        assert datetime.fromisoformat(event["timestamp"]).utcoffset() is not None
        assert event["sequence_id"] and event["id"]
        assert event["image_url"] == f"{BASE_URL}/api/events/{event['id']}/image"
        assert event["thumbnail_url"] == f"{BASE_URL}/api/events/{event['id']}/thumbnail"
        assert event["event_type"] in CAT_LABELS

        await recorder.wait("clevercam/driveway/gate/detected", "ON")
        labels = (await recorder.wait("clevercam/driveway/gate/labels")).json()
        assert labels["labels"] == event["labels"] and labels["label"] == event["labels"][0]
        assert labels["scores"] == pytest.approx(event["scores"], abs=1e-4)
        snapshot = await recorder.wait("clevercam/driveway/snapshot")
        stored = service.store.file_path(event["id"], "image")
        assert stored is not None and snapshot.payload == stored.read_bytes()
        assert snapshot.payload[:2] == b"\xff\xd8"

        # The sequence ends sequence_gap (2 s) after the last event: detected goes OFF.
        await recorder.wait_last("clevercam/driveway/gate/detected", "OFF")

        # A newcomer (HA starting later) gets the retained states and discovery.
        late = Recorder(broker.port).start()
        try:
            await late.wait("clevercam/driveway/gate/labels")
            for topic in ("clevercam/driveway/snapshot", "clevercam/driveway/gate/labels",
                          "clevercam/driveway/gate/detected", "clevercam/status",
                          DISCOVERY, SERVICE_DISCOVERY):  # fmt: skip
                assert late.last(topic) is not None and late.last(topic).retain, topic
            assert late.last("clevercam/driveway/snapshot").payload == snapshot.payload
            assert late.on("clevercam/driveway/events") == []  # events are not retained
        finally:
            late.stop()

    offline = await recorder.wait_last("clevercam/status", "offline")
    assert offline.payload == b"offline"


async def test_discovery_payloads(
    tmp_path: Path, camera: LocalCamera, broker: Broker, recorder: Recorder
):
    cam = camera_config(
        camera.url(),
        rois=[
            {"name": "Front gate", "box": list(GATE_BOX), "labels": CAT_LABELS},
            {"name": "lawn", "box": [40, 40, 60, 60], "labels": ["*"]},
        ],
    )
    config = service_config(tmp_path, [cam], mqtt=mqtt_section(broker))
    async with running_service(tmp_path, config):
        device = (await recorder.wait(DISCOVERY)).json()
        service_device = (await recorder.wait(SERVICE_DISCOVERY)).json()
    assert device["origin"]["name"] == "clevercam"
    assert device["availability_topic"] == "clevercam/status"
    assert device["device"]["identifiers"] == ["clevercam-camera-driveway"]
    assert device["device"]["name"] == "Driveway"
    assert device["device"]["via_device"] == "clevercam-service"
    components = device["components"]
    platforms = sorted((key, value["platform"]) for key, value in components.items())
    assert platforms == sorted([
        ("snapshot", "camera"), ("last_event", "image"), ("detection", "event"),
        ("monitoring", "switch"), ("camera_problem", "binary_sensor"),
        ("front_gate_detected", "binary_sensor"), ("front_gate_label", "sensor"),
        ("front_gate_enabled", "switch"), ("lawn_detected", "binary_sensor"),
        ("lawn_label", "sensor"), ("lawn_enabled", "switch"),
    ])  # fmt: skip
    unique_ids = [value["unique_id"] for value in components.values()]
    assert len(set(unique_ids)) == len(unique_ids)
    assert components["detection"]["event_types"] == [*CAT_LABELS, "other"]
    assert components["front_gate_detected"]["state_topic"] == (
        "clevercam/driveway/front_gate/detected"
    )
    assert components["front_gate_enabled"]["command_topic"] == (
        "clevercam/driveway/front_gate/enabled/set"
    )
    assert components["last_event"]["image_topic"] == "clevercam/driveway/snapshot"
    sensors = {key: value["platform"] for key, value in service_device["components"].items()}
    assert sensors == {
        "ram": "sensor", "disk": "sensor", "history_size": "sensor", "history_events": "sensor",
    }  # fmt: skip


async def test_monitoring_off_stops_camera_requests(
    tmp_path: Path, camera: LocalCamera, broker: Broker, recorder: Recorder
):
    cameras = [
        camera_config(camera.url("open"), id="driveway"),
        camera_config(camera.url("basic"), id="clock", username=USER, password=PASSWORD),
    ]
    config = service_config(tmp_path, cameras, mqtt=mqtt_section(broker))
    async with running_service(tmp_path, config) as service:
        await recorder.wait("clevercam/driveway/monitoring", "ON")
        await frames(service, "driveway", 2)
        publish(broker.port, "clevercam/driveway/monitoring/set", "OFF")
        await recorder.wait_last("clevercam/driveway/monitoring", "OFF")
        assert service.config.camera("driveway").monitoring is False
        await frames(service, "clock", 3)  # a fetch under way when the switch came may finish
        paused_at = service.states["driveway"].frames_checked
        await frames(service, "clock", 5)
        assert service.states["driveway"].frames_checked == paused_at
        saved = yaml.safe_load((tmp_path / "clevercam.yaml").read_text())
        assert saved["cameras"][0]["monitoring"] is False
    camera.stop()  # lighttpd writes its access log out on exit
    assert camera.requests("/open/") == paused_at
    assert camera.requests("/basic/") > 5


async def test_commands_switch_rois_and_bad_payloads_are_ignored(
    tmp_path: Path, camera: LocalCamera, broker: Broker, recorder: Recorder, caplog
):
    caplog.set_level(logging.WARNING, logger="clevercam_mqtt.mqtt")
    publish(broker.port, "clevercam/driveway/monitoring/set", "OFF", retain=True)
    config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_section(broker))
    async with running_service(tmp_path, config) as service:
        await recorder.wait("clevercam/driveway/gate/enabled", "ON")
        await wait_for(lambda: "ignoring a retained command" in caplog.text, 20, "the warning")
        publish(broker.port, "clevercam/driveway/monitoring/set", "maybe")
        publish(broker.port, "clevercam/nowhere/monitoring/set", "OFF")
        publish(broker.port, "clevercam/driveway/gate/enabled/set", "OFF")
        await recorder.wait_last("clevercam/driveway/gate/enabled", "OFF")
        roi = service.config.camera("driveway").rois[0]
        assert roi.enabled is False
        assert service.config.camera("driveway").monitoring is True  # "maybe" changed nothing
        saved = yaml.safe_load((tmp_path / "clevercam.yaml").read_text())
        assert saved["cameras"][0]["rois"][0]["enabled"] is False
        assert "monitoring" not in saved["cameras"][0]
        assert "ignoring b'maybe'" in caplog.text
        assert "unknown camera or ROI nowhere" in caplog.text

        publish(broker.port, "clevercam/driveway/gate/enabled/set", "on")
        await recorder.wait_last("clevercam/driveway/gate/enabled", "ON")
        assert roi.enabled is True

        # New labels (from the web page) change the event types Home Assistant knows.
        await service.set_roi_labels("driveway", "gate", ["moped"])

        def event_types() -> list[str] | None:
            message = recorder.last(DISCOVERY)
            return message and message.json()["components"]["detection"]["event_types"]

        await wait_for(lambda: event_types() == ["moped"], 20, "the new event types")


async def test_broker_restart_loses_no_event(tmp_path: Path, camera: LocalCamera):
    broker = PersistentBroker()
    broker.start()
    # A persistent session: the broker keeps what arrives while this client reconnects.
    recorder = Recorder(broker.port, client_id="restart-recorder", clean_session=False).start()
    try:
        config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_section(broker))
        async with running_service(tmp_path, config) as service:
            sink = sink_of(service)
            await recorder.wait("clevercam/status", "online")
            broker.stop()
            await wait_for(lambda: not sink.online, 20, "the sink to notice the broker is gone")

            camera.set_image(scene_jpeg("cat"))
            await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "an event")
            await wait_for(lambda: sink.queue, 20, "the event in the queue")
            stored = {e["id"] for e in service.store.query(EventQuery()).events}
            discovery_before = len(recorder.on(DISCOVERY))

            broker.start()
            await wait_for(lambda: sink.online, 30, "the sink to reconnect")

            def delivered() -> bool:
                seen = {m.json()["id"] for m in recorder.on("clevercam/driveway/events")}
                return stored <= seen

            await wait_for(delivered, 20, "every stored event on clevercam/driveway/events")
            assert not sink.queue
            await wait_for(lambda: len(recorder.on(DISCOVERY)) > discovery_before, 20, "discovery")
            await recorder.wait_last("clevercam/status", "online")
    finally:
        recorder.stop()
        broker.close()


def synthetic_event(index: int) -> Event:
    """An event as the monitor makes it, for the queue bound (no camera needed)."""
    now = datetime.now().astimezone()
    return Event(
        id=f"test-{index}", camera="driveway", roi="gate", labels=["tabby"], scores=[0.5],
        motion=0.1, timestamp=now, sequence_id="test-0", image=scene_jpeg("cat"),
    )  # fmt: skip


async def test_broker_down_at_start_queue_drops_oldest(tmp_path: Path, camera: LocalCamera, caplog):
    caplog.set_level(logging.INFO, logger="clevercam_mqtt.mqtt")
    broker = Broker()  # not started yet
    config = service_config(
        tmp_path,
        [camera_config(camera.url(), monitoring=False)],
        mqtt=mqtt_section(broker, queue_size=3),
    )
    try:
        async with running_service(tmp_path, config) as service:
            sink = sink_of(service)
            for index in range(5):
                await service.bus.publish(synthetic_event(index))
            assert [json.loads(p)["id"] for _, p in sink.queue] == ["test-2", "test-3", "test-4"]
            assert "event queue full (3)" in caplog.text
            assert "broker unreachable" in caplog.text

            broker.start()
            recorder = Recorder(broker.port).start()
            try:
                await wait_for(lambda: sink.online, 30, "the first connection")

                def ids() -> list[str]:
                    return [m.json()["id"] for m in recorder.on("clevercam/driveway/events")]

                await wait_for(lambda: len(ids()) == 3, 20, "the queued events")
                assert ids() == ["test-2", "test-3", "test-4"]
                assert "2 events were dropped" in caplog.text
            finally:
                recorder.stop()
    finally:
        broker.close()


async def test_home_assistant_online_republishes_discovery(
    tmp_path: Path, camera: LocalCamera, broker: Broker, recorder: Recorder
):
    config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_section(broker))
    async with running_service(tmp_path, config):
        await recorder.wait(DISCOVERY)
        await recorder.wait("clevercam/driveway/monitoring", "ON")
        before = len(recorder.on(DISCOVERY)), len(recorder.on("clevercam/driveway/monitoring"))
        publish(broker.port, "homeassistant/status", "online")
        await wait_for(lambda: len(recorder.on(DISCOVERY)) > before[0], 20, "discovery again")
        await wait_for(
            lambda: len(recorder.on("clevercam/driveway/monitoring")) > before[1], 20, "states"
        )


async def test_discovery_off_publishes_states_only(
    tmp_path: Path, camera: LocalCamera, broker: Broker, recorder: Recorder
):
    config = service_config(
        tmp_path, [camera_config(camera.url())], mqtt=mqtt_section(broker, discovery=False)
    )
    async with running_service(tmp_path, config):
        await recorder.wait("clevercam/driveway/monitoring", "ON")
        await recorder.wait("clevercam/system")
    assert not [t for t in recorder.topics() if t.startswith("homeassistant/")]


async def test_removed_camera_and_roi_are_cleared(
    tmp_path: Path, camera: LocalCamera, broker: Broker, recorder: Recorder
):
    rois = [
        {"name": "gate", "box": list(GATE_BOX), "labels": CAT_LABELS},
        {"name": "lawn", "box": [40, 40, 60, 60], "labels": ["*"]},
    ]
    cameras = [
        camera_config(camera.url(), rois=rois),
        camera_config(camera.url(), id="garage", name="Garage"),
    ]
    garage = "homeassistant/device/clevercam/garage/config"
    config = service_config(tmp_path, cameras, mqtt=mqtt_section(broker))
    async with running_service(tmp_path, config):
        await recorder.wait(garage)
        await recorder.wait("clevercam/garage/monitoring", "ON")
        await recorder.wait("clevercam/driveway/lawn/enabled", "ON")
    saved = json.loads((tmp_path / "data" / "mqtt_discovery.json").read_text())
    assert garage in saved["discovery"]

    # Restart without the garage camera and without the lawn ROI.
    cameras = [camera_config(camera.url(), rois=rois[:1])]
    recorder.clear()
    config = service_config(tmp_path, cameras, mqtt=mqtt_section(broker))
    async with running_service(tmp_path, config):
        await recorder.wait(garage, b"")
        await recorder.wait("clevercam/garage/monitoring", b"")
        await recorder.wait("clevercam/driveway/lawn/enabled", b"")
        device = (await recorder.wait(DISCOVERY)).json()
    assert device["components"]["lawn_detected"] == {"platform": "binary_sensor"}
    assert device["components"]["lawn_label"] == {"platform": "sensor"}
    assert "unique_id" in device["components"]["gate_detected"]

    late = Recorder(broker.port).start()  # retained messages a newcomer gets
    try:
        await late.wait(DISCOVERY)
        assert late.last(garage) is None
        assert late.last("clevercam/garage/monitoring") is None
    finally:
        late.stop()


async def test_username_and_password(tmp_path: Path, camera: LocalCamera, caplog):
    caplog.set_level(logging.WARNING, logger="clevercam_mqtt.mqtt")
    broker = password_broker(tmp_path, "clevercam", "mqtt-s3cret")
    broker.start()
    recorder = Recorder(broker.port, username="clevercam", password="mqtt-s3cret").start()
    try:
        good = mqtt_section(broker, username="clevercam", password="mqtt-s3cret")
        config = service_config(tmp_path, [camera_config(camera.url())], mqtt=good)
        async with running_service(tmp_path, config):
            await recorder.wait("clevercam/status", "online")
            await recorder.wait("clevercam/driveway/monitoring", "ON")

        bad = mqtt_section(broker, username="clevercam", password="wrong")
        config = service_config(tmp_path, [camera_config(camera.url())], mqtt=bad)
        async with running_service(tmp_path, config) as service:
            await wait_for(lambda: "refused the connection" in caplog.text, 20, "the refusal")
            assert not sink_of(service).online
            await frames(service, "driveway", 2)  # monitoring goes on without the broker
        assert "wrong" not in caplog.text
    finally:
        recorder.stop()
        broker.close()


async def test_tls_with_a_ca_file(tmp_path: Path, camera: LocalCamera, caplog):
    caplog.set_level(logging.WARNING, logger="clevercam_mqtt.mqtt")
    broker, ca_file = tls_broker(tmp_path / "tls")
    broker.start()
    recorder = Recorder(broker.port, ca_file=ca_file).start()
    try:
        tls = mqtt_section(broker, tls=True, ca_file="tls/ca.crt")  # relative to the config
        config = service_config(tmp_path, [camera_config(camera.url())], mqtt=tls)
        async with running_service(tmp_path, config):
            await recorder.wait("clevercam/status", "online")
            await recorder.wait("clevercam/driveway/monitoring", "ON")

        # A CA that did not sign the broker's certificate: no connection, a clear warning.
        other_ca, _, _ = write_ca_and_server_cert(tmp_path / "other", "127.0.0.1")
        untrusted = mqtt_section(broker, tls=True, ca_file=str(other_ca))
        config = service_config(tmp_path, [camera_config(camera.url())], mqtt=untrusted)
        async with running_service(tmp_path, config) as service:
            await wait_for(lambda: "TLS handshake failed" in caplog.text, 20, "the TLS warning")
            assert not sink_of(service).online
    finally:
        recorder.stop()
        broker.close()


async def test_missing_ca_file_is_a_clear_error(tmp_path: Path, camera: LocalCamera):
    tls = {"enabled": True, "host": "127.0.0.1", "tls": True, "ca_file": "missing-ca.crt"}
    path = write_config(tmp_path, service_config(tmp_path, [camera_config(camera.url())], mqtt=tls))
    service = build_service(load_config(path), path)
    try:
        with pytest.raises(OSError, match=r"mqtt\.ca_file: cannot use .*missing-ca\.crt"):
            await service.start()
    finally:
        await service.stop()


async def test_a_new_broker_gets_the_last_snapshot_and_labels(
    tmp_path: Path, camera: LocalCamera, broker: Broker
):
    config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_section(broker))
    async with running_service(tmp_path, config) as service:
        camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "an event")
        event = service.store.query(EventQuery(limit=1)).events[0]
        image = service.store.file_path(event["id"], "image")
        assert image is not None

    fresh = Broker()  # an empty broker: no retained message from the first run
    fresh.start()
    recorder = Recorder(fresh.port).start()
    try:
        config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_section(fresh))
        async with running_service(tmp_path, config):
            snapshot = await recorder.wait("clevercam/driveway/snapshot")
            labels = (await recorder.wait("clevercam/driveway/gate/labels")).json()
        assert snapshot.payload == image.read_bytes()
        assert labels["event_id"] == event["id"] and labels["labels"] == event["labels"]
    finally:
        recorder.stop()
        fresh.close()
