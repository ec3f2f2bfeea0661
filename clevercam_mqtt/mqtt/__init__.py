"""MQTT: events, snapshots and states out, Home Assistant discovery, commands in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .client import MqttSink

if TYPE_CHECKING:
    from ..service import Service

__all__ = ["MqttSink", "mqtt_sink"]


def mqtt_sink(service: Service) -> MqttSink | None:
    """The service's sink factory: no sink when `mqtt.enabled` is false."""
    return MqttSink(service) if service.config.mqtt.enabled else None
