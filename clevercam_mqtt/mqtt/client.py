"""The MQTT sink: bus messages out to the broker, Home Assistant commands in.

paho-mqtt runs its network loop in its own thread (`loop_start`) and reconnects there with
backoff. Its callbacks only hand over to the asyncio loop (`call_soon_threadsafe`), so all
the sink's state is touched from the loop alone. While the broker is away, events wait in a
bounded queue (oldest dropped first) and retained states are kept as latest values; both
go out on the next connection, after `online` and the discovery messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import ssl
from collections import deque
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ..config import ConfigError
from ..events import CameraStatus, Event, Message, SequenceEnded, SettingsChanged, StateChanged
from ..store import EventQuery, StoreError
from . import published
from .topics import (
    OFF,
    OFFLINE,
    ON,
    ONLINE,
    Command,
    StateSensor,
    Topics,
    event_payload,
    labels_payload,
    on_off,
    parse_command,
    parse_switch,
    state_payload,
    system_payload,
)

if TYPE_CHECKING:
    from ..service import Service

_LOGGER = logging.getLogger(__name__)
SYSTEM_PERIOD = 60.0
RECONNECT_MIN_DELAY = 1
RECONNECT_MAX_DELAY = 60
STOP_TIMEOUT = 5.0
HA_STATUS_TOPIC = "homeassistant/status"


class MqttSink:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.config = service.config.mqtt
        self.topics = Topics(self.config.topic_prefix)
        self.queue: deque[tuple[str, bytes]] = deque()
        self.dropped = 0
        self.online = False
        self._states: dict[str, bytes] = {}
        self._published_path = service.config.storage.path / published.FILE_NAME
        self._published = published.Published()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: paho.Client | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Any = None
        self._connect_error: str | None = None
        self._ever_connected = False
        self._sent: dict[str, bytes] = {}  # discovery payloads sent on this connection

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._published = await asyncio.to_thread(published.load, self._published_path)
        self._states.update(await asyncio.to_thread(self._last_events))
        for camera in self.service.config.cameras:
            self._remember_camera_states(camera.id)
            for roi in camera.rois:
                self._states[self.topics.detected(camera.id, roi.slug)] = OFF.encode()
        for state in self.service.classes.states():
            topic = self.topics.state(state["camera"], state["roi"])
            self._states[topic] = state_payload(state)
        self._client = self._build_client()
        self._unsubscribe = self.service.bus.subscribe("mqtt", self._on_bus)
        self._client.connect_async(self.config.host, self.config.port, self.config.keepalive)
        self._client.loop_start()
        self._spawn(self._system_loop(), "mqtt-system")
        _LOGGER.info("MQTT: connecting to %s:%s", self.config.host, self.config.port)

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        client = self._client
        if client is None:
            return
        if self.online:
            info = client.publish(self.topics.status, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                await asyncio.to_thread(info.wait_for_publish, STOP_TIMEOUT)
        self.online = False
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        self._client = None
        if self.queue:
            _LOGGER.warning("MQTT: %d queued events were not delivered", len(self.queue))

    def _last_events(self) -> dict[str, bytes]:
        """Snapshot and labels of the latest stored events, for a broker that lost them."""
        store, states = self.service.store, {}
        try:
            for camera in self.service.config.cameras:
                latest = store.query(EventQuery(cameras=[camera.id], limit=1)).events
                path = store.file_path(latest[0]["id"], "image") if latest else None
                if path is not None:
                    states[self.topics.snapshot(camera.id)] = path.read_bytes()
                for roi in camera.rois:
                    query = EventQuery(cameras=[camera.id], rois=[roi.slug], limit=1)
                    for event in store.query(query).events:
                        states[self.topics.labels(camera.id, roi.slug)] = labels_payload(event)
        except (OSError, StoreError, sqlite3.Error) as error:
            _LOGGER.warning("MQTT: cannot read the last events from the history: %s", error)
        return states

    def _build_client(self) -> paho.Client:
        client_id = self.config.client_id or f"clevercam-{self.service.instance_id[:12]}"
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if self.config.username:
            client.username_pw_set(self.config.username, self.config.password or None)
        if self.config.tls:
            ca_file = self._ca_file()
            try:
                client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
            except (OSError, ssl.SSLError) as error:
                raise OSError(f"mqtt.ca_file: cannot use {ca_file}: {error}") from None
        client.will_set(self.topics.status, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_DELAY, RECONNECT_MAX_DELAY)
        client.on_connect = self._paho_connect
        client.on_connect_fail = self._paho_connect_fail
        client.on_disconnect = self._paho_disconnect
        client.on_message = self._paho_message
        return client

    def _ca_file(self) -> str | None:
        """The CA file, relative to the config file's folder; None trusts the system CAs."""
        path = self.config.ca_file
        if path is None:
            return None
        if not path.is_absolute() and self.service.config_dir is not None:
            path = self.service.config_dir / path
        return str(path)

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- paho thread: hand everything over to the loop -------------------------------------

    def _call_soon(self, callback: Any, *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(callback, *args)

    def _paho_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._call_soon(self._connect_failed, f"broker refused the connection: {reason}")
        else:
            self._call_soon(self._connected)

    def _paho_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        problem = "broker unreachable or TLS handshake failed" if self.config.tls else None
        self._call_soon(self._connect_failed, problem or "broker unreachable")

    def _paho_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._call_soon(self._disconnected, str(reason))

    def _paho_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._call_soon(self._received, message.topic, bytes(message.payload), message.retain)

    # -- connection state (loop thread) ----------------------------------------------------

    def _connect_failed(self, error: str) -> None:
        if error != self._connect_error:
            _LOGGER.warning(
                "MQTT: %s at %s:%s; retrying with backoff",
                error, self.config.host, self.config.port,
            )  # fmt: skip
            self._connect_error = error

    def _connected(self) -> None:
        client = self._client
        if client is None:
            return
        self.online, self._connect_error = True, None
        _LOGGER.info(
            "MQTT: %s to %s:%s",
            "reconnected" if self._ever_connected else "connected",
            self.config.host, self.config.port,
        )  # fmt: skip
        self._ever_connected = True
        subscriptions = [(topic, 1) for topic in self.topics.command_filters]
        subscriptions += [(topic, 1) for topic in self._ha_status_topics()]
        client.subscribe(subscriptions)
        client.publish(self.topics.status, ONLINE, qos=1, retain=True)
        self._announce_all()
        self._spawn(self._publish_system(), "mqtt-system-now")
        if self.dropped:
            _LOGGER.warning("MQTT: %d events were dropped while disconnected", self.dropped)
            self.dropped = 0
        if self.queue:
            _LOGGER.info("MQTT: delivering %d queued events", len(self.queue))
        while self.queue:
            topic, payload = self.queue.popleft()
            client.publish(topic, payload, qos=1)

    def _disconnected(self, reason: str) -> None:
        if self.online:
            _LOGGER.warning("MQTT: connection lost (%s); reconnecting with backoff", reason)
        self.online = False

    def _ha_status_topics(self) -> list[str]:
        return sorted({HA_STATUS_TOPIC, f"{self.config.discovery_prefix}/status"})

    # -- discovery -------------------------------------------------------------------------

    def _announce(self, force: bool = False) -> None:
        """Clear what is gone, publish discovery that changed (all when forced), save the set."""
        client = self._client
        if client is None or not self.online:
            return
        if force:
            self._sent.clear()
        plan = published.plan(self._published, self.service.config, self._state_sensors())
        for topic, payload in plan.messages:
            if self._sent.get(topic) != payload:
                client.publish(topic, payload, qos=1, retain=True)
                self._sent[topic] = payload
        for topic in plan.published.states:
            self._sent.pop(topic, None)  # a state topic that is back must be cleared again
        for topic in list(self._states):
            if topic not in plan.published.states:
                del self._states[topic]
        if plan.published != self._published:
            self._published = plan.published
            self._spawn(self._save_published(plan.published), "mqtt-save-published")

    def _state_sensors(self) -> tuple[StateSensor, ...]:
        """The ROIs that state-mode class sets watch (an enum sensor each)."""
        return tuple(
            StateSensor(camera, roi, class_set.spec.name, tuple(class_set.spec.classes))
            for (camera, roi), class_set in sorted(self.service.classes.state_sets().items())
        )

    async def _save_published(self, data: published.Published) -> None:
        try:
            await asyncio.to_thread(published.save, self._published_path, data)
        except OSError as error:
            _LOGGER.error("MQTT: cannot save %s: %s", self._published_path, error)

    # -- outgoing --------------------------------------------------------------------------

    def _publish_event(self, topic: str, payload: bytes) -> None:
        if self.online and self._client is not None:
            self._client.publish(topic, payload, qos=1)
            return
        if len(self.queue) >= self.config.queue_size:
            self.queue.popleft()
            if not self.dropped:
                _LOGGER.warning(
                    "MQTT: event queue full (%d); dropping the oldest events",
                    self.config.queue_size,
                )
            self.dropped += 1
        self.queue.append((topic, payload))

    def _set_state(self, topic: str, payload: bytes | str) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self._states[topic] = data
        if self.online and self._client is not None:
            self._client.publish(topic, data, qos=1, retain=True)

    def _remember_camera_states(self, camera_id: str) -> None:
        """Monitoring, ROI switches and camera health as the service has them now."""
        try:
            camera = self.service.config.camera(camera_id)
        except KeyError:
            return
        self._set_state(self.topics.monitoring(camera.id), on_off(camera.monitoring))
        for roi in camera.rois:
            self._set_state(self.topics.enabled(camera.id, roi.slug), on_off(roi.enabled))
        state = self.service.states.get(camera.id)
        if state is not None and state.ok is not None:
            self._set_state(self.topics.camera_ok(camera.id), on_off(state.ok))

    async def _on_bus(self, message: Message) -> None:
        if isinstance(message, Event):
            self._on_event(message)
        elif isinstance(message, SequenceEnded):
            for roi in message.rois:
                self._set_state(self.topics.detected(message.camera, roi), OFF)
        elif isinstance(message, CameraStatus):
            self._set_state(self.topics.camera_ok(message.camera), on_off(message.ok))
        elif isinstance(message, SettingsChanged):
            self._remember_camera_states(message.camera)
            self._announce()
        elif isinstance(message, StateChanged):
            self._set_state(self.topics.state(message.camera, message.roi), state_payload(message))

    def _on_event(self, event: Event) -> None:
        try:
            camera = self.service.config.camera(event.camera)
        except KeyError:
            return
        base_url = self.service.config.web.base_url
        self._publish_event(self.topics.events(camera.id), event_payload(event, camera, base_url))
        self._set_state(self.topics.snapshot(camera.id), event.image)
        self._set_state(self.topics.detected(camera.id, event.roi), ON)
        self._set_state(self.topics.labels(camera.id, event.roi), labels_payload(event.to_dict()))

    async def _system_loop(self) -> None:
        while True:
            await asyncio.sleep(SYSTEM_PERIOD)
            await self._publish_system()

    async def _publish_system(self) -> None:
        if not self.online:
            return
        try:
            info = await asyncio.to_thread(self.service.system)
        except Exception:
            _LOGGER.exception("MQTT: reading the system figures failed")
            return
        self._set_state(self.topics.system, system_payload(info))

    # -- incoming --------------------------------------------------------------------------

    def _received(self, topic: str, payload: bytes, retain: bool) -> None:
        if topic in self._ha_status_topics():
            if payload.strip() == ONLINE.encode() and self.online and self._client is not None:
                _LOGGER.info("MQTT: Home Assistant is online; announcing again")
                self._announce_all()
            return
        command = parse_command(self.topics, topic)
        if command is None:
            return
        if retain:
            _LOGGER.warning("MQTT: ignoring a retained command on %s", topic)
            return
        value = parse_switch(payload)
        if value is None:
            _LOGGER.warning("MQTT: ignoring %r on %s (expected ON or OFF)", payload[:40], topic)
            return
        self._spawn(self._command(command, value), "mqtt-command")

    def _announce_all(self) -> None:
        """Discovery, then every retained state (Home Assistant restarted, or a new broker)."""
        self._announce(force=True)
        assert self._client is not None
        for topic, payload in self._states.items():
            self._client.publish(topic, payload, qos=1, retain=True)

    async def _command(self, command: Command, on: bool) -> None:
        try:
            if command.roi is None:
                await self.service.set_monitoring(command.camera, on)
            else:
                await self.service.set_roi_enabled(command.camera, command.roi, on)
        except KeyError:
            where = f"{command.camera}/{command.roi}" if command.roi else command.camera
            _LOGGER.warning("MQTT: command for unknown camera or ROI %s ignored", where)
            return
        except (ConfigError, OSError) as error:
            _LOGGER.error("MQTT: cannot save the change: %s", error)
        self._remember_camera_states(command.camera)
