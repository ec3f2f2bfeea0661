"""A real paho client that records what reaches the broker, and broker variants.

`Recorder` is what `mosquitto_sub -v -t '#'` would show a user: every message with its
topic, payload and retain flag. Tests wait on it with `wait_for`.
"""

from __future__ import annotations

import getpass
import json
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from .broker import Broker
from .waiting import wait_for, wait_for_sync

MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool

    @property
    def text(self) -> str:
        return self.payload.decode()

    def json(self) -> Any:
        return json.loads(self.payload)


class Recorder:
    """Subscribes to `topic` (all by default) and keeps every message received."""

    def __init__(
        self,
        port: int,
        topic: str = "#",
        *,
        client_id: str | None = None,
        clean_session: bool = True,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.port = port
        self.topic = topic
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"recorder-{uuid.uuid4().hex[:8]}",
            clean_session=clean_session,
        )
        if username:
            self.client.username_pw_set(username, password)
        if ca_file:
            self.client.tls_set(ca_certs=str(ca_file))
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any):
        if not reason.is_failure:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(message.topic, bytes(message.payload), message.retain))

    def start(self) -> Recorder:
        self._subscribed.clear()
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        wait_for_sync(self._subscribed.is_set, 10, "the recorder's subscription")
        return self

    def wait_subscribed(self) -> None:
        """After a broker restart: block until the recorder subscribed again."""
        wait_for_sync(self._subscribed.is_set, 20, "the recorder's new subscription")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def on(self, topic: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def last(self, topic: str) -> Received | None:
        found = self.on(topic)
        return found[-1] if found else None

    def topics(self) -> set[str]:
        with self._lock:
            return {m.topic for m in self.messages}

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    async def wait(self, topic: str, payload: bytes | str | None = None, timeout: float = 20):
        """The first message on `topic` (with that payload, when given) from now on or before."""
        wanted = payload.encode() if isinstance(payload, str) else payload

        def found() -> Received | None:
            for message in self.on(topic):
                if wanted is None or message.payload == wanted:
                    return message
            return None

        return await wait_for(found, timeout, f"{topic} = {payload!r}")

    async def wait_last(self, topic: str, payload: bytes | str, timeout: float = 20) -> Received:
        """Wait until the latest message on `topic` has this payload."""
        wanted = payload.encode() if isinstance(payload, str) else payload

        def latest() -> Received | None:
            message = self.last(topic)
            return message if message is not None and message.payload == wanted else None

        return await wait_for(latest, timeout, f"latest {topic} = {payload!r}")


def publish(port: int, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
    """One message from a separate client, waited for until the broker has it (QoS 1)."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


class PersistentBroker(Broker):
    """A broker that keeps sessions across a restart (mosquitto writes them on exit).

    A recorder with a persistent session then gets every QoS 1 message published while it
    was reconnecting, so a test can tell "lost" from "delivered before I subscribed again".
    """

    def __init__(self) -> None:
        super().__init__()
        conf = self.root / "mosquitto.conf"
        text = conf.read_text().replace("persistence false", "persistence true")
        conf.write_text(f"{text}persistence_location {self.root}/\n")
        run_as_me(self)


def password_broker(root: Path, username: str, password: str) -> Broker:
    """A broker that only lets in `username` (mosquitto_passwd writes the hashed file)."""
    if not Path(MOSQUITTO_PASSWD).exists():
        raise FileNotFoundError("mosquitto_passwd is missing (apt-get install mosquitto)")
    password_file = root / "mosquitto.passwd"
    subprocess.run(
        [MOSQUITTO_PASSWD, "-c", "-b", str(password_file), username, password],
        check=True,
        capture_output=True,
    )
    password_file.chmod(0o600)
    return run_as_me(Broker(password_file=password_file))


def run_as_me(broker: Broker) -> Broker:
    """Started as root, mosquitto drops to user `mosquitto`, who cannot read our files."""
    with (broker.root / "mosquitto.conf").open("a") as conf:
        conf.write(f"user {getpass.getuser()}\n")
    return broker


def tls_broker(root: Path) -> tuple[Broker, Path]:
    """A broker that only speaks TLS, with a server certificate for 127.0.0.1 signed by a
    throw-away CA; returns the broker and the CA file clients must trust."""
    from .tls import write_ca_and_server_cert

    ca_file, cert_file, key_file = write_ca_and_server_cert(root, "127.0.0.1")
    broker = Broker()
    with (broker.root / "mosquitto.conf").open("a") as conf:
        conf.write(f"cafile {ca_file}\ncertfile {cert_file}\nkeyfile {key_file}\n")
    return run_as_me(broker), ca_file
