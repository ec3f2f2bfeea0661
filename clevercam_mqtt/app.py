"""The composition root: which sinks a running service gets."""

from __future__ import annotations

from pathlib import Path

from .config import Config
from .mqtt import mqtt_sink
from .notify.sink import create_notify_sink
from .service import Service, SinkFactory
from .web.server import WebServer


def default_sink_factories() -> list[SinkFactory]:
    """Every sink of a full service, in start order (the store subscribes itself first)."""
    return [WebServer, mqtt_sink, create_notify_sink]


def build_service(config: Config, config_path: Path | None = None) -> Service:
    return Service(config, config_path, sink_factories=default_sink_factories())
