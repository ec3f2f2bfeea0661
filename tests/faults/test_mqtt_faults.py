"""MQTT faults: broker absent at start, refusing credentials, a camera's problem sensor.

Monitoring and storage never wait for the broker; events published meanwhile are queued
and delivered when it answers. (A broker restart mid-run is tested in
tests/service/test_mqtt.py::test_broker_restart_loses_no_event.)
"""

from __future__ import annotations

import logging
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clevercam_mqtt.mqtt import MqttSink
from clevercam_mqtt.service import Service
from clevercam_mqtt.store import EventQuery
from tests.helpers.broker import Broker
from tests.helpers.camera import LocalCamera
from tests.helpers.faulty_camera import FaultyCamera
from tests.helpers.mqtt import MOSQUITTO_PASSWD, PersistentBroker, Recorder, password_broker
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import camera_config, running_service, service_config
from tests.helpers.waiting import wait_for

MQTT_LOG = "clevercam_mqtt.mqtt"
SECRET = "mqtt-S3cret-7f41c2"


def mqtt_section(broker: Broker, **extra: Any) -> dict[str, Any]:
    return {"enabled": True, "host": "127.0.0.1", "port": broker.port, **extra}


def sink_of(service: Service) -> MqttSink:
    return next(sink for sink in service.sinks if isinstance(sink, MqttSink))


def lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


async def a_stored_cat(service: Service, camera: LocalCamera) -> str:
    """Show a cat; returns the id of the event the history kept."""
    camera.set_image(scene_jpeg("cat"))
    await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "a stored cat event")
    return service.store.query(EventQuery()).events[0]["id"]


async def test_broker_absent_at_start(
    tmp_path: Path, camera: LocalCamera, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=MQTT_LOG)
    broker = PersistentBroker()
    broker.start()
    # A persistent session made beforehand: the broker keeps what arrives for it, so the
    # test cannot miss the delivery however fast the service reconnects.
    recorder = Recorder(broker.port, client_id="faults-absent", clean_session=False).start()
    broker.stop()
    config = service_config(tmp_path, [camera_config(camera.url())], mqtt=mqtt_section(broker))
    try:
        async with running_service(tmp_path, config) as service:
            sink = sink_of(service)
            event_id = await a_stored_cat(service, camera)  # stored with no broker at all
            await wait_for(lambda: sink.queue, 20, "the event in the MQTT queue")
            assert service.states["driveway"].ok is True and not sink.online
            assert len(lines(caplog, "broker unreachable")) == 1  # once, not per retry

            broker.start()
            await wait_for(lambda: sink.online, 60, "the first connection")
            recorder.wait_subscribed()
            message = await recorder.wait("clevercam/driveway/events")
            assert message.json()["id"] == event_id and not sink.queue
            await recorder.wait_last("clevercam/status", "online")
            await recorder.wait("clevercam/driveway/camera_ok", "ON")
            await recorder.wait("clevercam/driveway/snapshot")
    finally:
        recorder.stop()
        broker.close()


def passwd(password_file: Path, user: str, password: str) -> None:
    subprocess.run([MOSQUITTO_PASSWD, "-b", str(password_file), user, password], check=True)


def set_password(broker: Broker, password_file: Path, user: str, password: str) -> None:
    passwd(password_file, user, password)
    # mosquitto re-reads its password file on SIGHUP; connected clients stay connected.
    broker.signal(signal.SIGHUP)


async def test_refused_credentials_then_fixed_on_the_broker(
    tmp_path: Path, camera: LocalCamera, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: the secret must be in none
    broker = password_broker(tmp_path, "recorder", "recorder-pass")
    password_file = tmp_path / "mosquitto.passwd"
    passwd(password_file, "clevercam", "old")
    broker.start()
    recorder = Recorder(broker.port, username="recorder", password="recorder-pass").start()
    section = mqtt_section(broker, username="clevercam", password=SECRET)
    config = service_config(tmp_path, [camera_config(camera.url())], mqtt=section)
    try:
        async with running_service(tmp_path, config) as service:
            sink = sink_of(service)
            await wait_for(lambda: lines(caplog, "refused the connection"), 20, "the refusal")
            event_id = await a_stored_cat(service, camera)
            await wait_for(lambda: sink.queue, 20, "the event in the MQTT queue")
            assert service.states["driveway"].ok is True and not sink.online

            set_password(broker, password_file, "clevercam", SECRET)  # the user fixes the account
            await wait_for(lambda: sink.online, 60, "the connection with the right password")
            message = await recorder.wait("clevercam/driveway/events")
            assert message.json()["id"] == event_id
            assert len(lines(caplog, "refused the connection")) == 1
    finally:
        recorder.stop()
        broker.close()
    assert SECRET not in caplog.text
    assert SECRET not in (tmp_path / "data" / "index.sqlite3").read_bytes().decode("latin-1")


async def test_camera_problem_sensor_follows_the_camera(
    tmp_path: Path, faulty: FaultyCamera, broker: Broker
) -> None:
    recorder = Recorder(broker.port, "clevercam/switch/camera_ok").start()
    cameras = [camera_config(faulty.url("switch.jpg"), id="switch", check_period=0.05)]
    config = service_config(tmp_path, cameras, mqtt=mqtt_section(broker))
    try:
        async with running_service(tmp_path, config) as service:
            await recorder.wait_last("clevercam/switch/camera_ok", "ON")
            recorder.clear()
            faulty.mode = "missing"
            await recorder.wait("clevercam/switch/camera_ok", "OFF")
            monitor = service.monitors["switch"]
            await wait_for(lambda: monitor.failures >= 4, 20, "retries")
            faulty.mode = "ok"
            await recorder.wait("clevercam/switch/camera_ok", "ON")
            assert [m.text for m in recorder.messages] == ["OFF", "ON"]  # not one per retry
    finally:
        recorder.stop()
