"""The real service with a recorder on its bus from before the first frame."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from clevercam_mqtt.app import build_service
from clevercam_mqtt.config import load_config
from clevercam_mqtt.events import Message
from clevercam_mqtt.service import Service

from .service import write_config

M = TypeVar("M")


@dataclass
class BusRecorder:
    """Every message the bus carried, in order."""

    messages: list[Message] = field(default_factory=list)

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def of(self, kind: type[M], camera: str | None = None) -> list[M]:
        return [
            m
            for m in self.messages
            if isinstance(m, kind) and (camera is None or getattr(m, "camera", None) == camera)
        ]


@contextlib.asynccontextmanager
async def recorded_service(
    tmp_path: Path, config: dict[str, Any]
) -> AsyncIterator[tuple[Service, BusRecorder]]:
    """Like `running_service`, but the recorder also sees the statuses published at start."""
    path = write_config(tmp_path, config)
    service = build_service(load_config(path), path)
    recorder = BusRecorder()
    service.bus.subscribe("recorder", recorder)
    await service.start()
    try:
        yield service, recorder
    finally:
        await service.stop()
