"""What flows out of the monitoring loop, and the one bus that carries it to the sinks.

Sinks (store, MQTT, notifier, web socket) subscribe; the loop only publishes. A sink that
raises is logged and skipped, so one broken sink never stops monitoring. Handlers must be
quick: a sink with slow I/O (SMTP, a lost broker) queues the work for its own worker.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .classifier import Embedding

_LOGGER = logging.getLogger(__name__)


def new_event_id(timestamp: datetime) -> str:
    """Sortable, URL-safe and unique: '20261125-021502-123456-a1b2c3'."""
    return f"{timestamp:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(3)}"


@dataclass(slots=True)
class Event:
    """A labelled detection in one ROI of one camera."""

    id: str
    camera: str
    roi: str
    labels: list[str]
    scores: list[float]
    motion: float
    timestamp: datetime
    sequence_id: str
    image: bytes = field(repr=False)
    width: int = 0
    height: int = 0
    roi_name: str = ""
    image_path: str = ""
    thumbnail_path: str = ""
    embedding: Embedding | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON form (MQTT payload, API, web socket)."""
        return {
            "id": self.id,
            "camera": self.camera,
            "roi": self.roi,
            "roi_name": self.roi_name or self.roi,
            "labels": list(self.labels),
            "scores": list(self.scores),
            "motion": round(self.motion, 4),
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
            "sequence_id": self.sequence_id,
            "width": self.width,
            "height": self.height,
            "image_url": f"/api/events/{self.id}/image",
            "thumbnail_url": f"/api/events/{self.id}/thumbnail",
        }


@dataclass(slots=True, frozen=True)
class SequenceEnded:
    """No event for `sequence_gap` seconds, or the sequence reached its maximum length."""

    camera: str
    sequence_id: str
    rois: tuple[str, ...]
    timestamp: datetime


@dataclass(slots=True, frozen=True)
class CameraStatus:
    """The camera became reachable or unreachable; published on change only."""

    camera: str
    ok: bool
    error: str | None
    timestamp: datetime


@dataclass(slots=True, frozen=True)
class SettingsChanged:
    """Monitoring or a ROI was switched, or a camera's settings were replaced."""

    camera: str
    roi: str | None = None


@dataclass(slots=True, frozen=True)
class StateChanged:
    """A state-mode class set's verdict on one ROI: its first known state, then each change."""

    camera: str
    roi: str
    class_set: str
    state: str
    score: float
    timestamp: datetime
    previous: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            "roi": self.roi,
            "class_set": self.class_set,
            "state": self.state,
            "score": self.score,
            "previous": self.previous,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
        }


Message = Event | SequenceEnded | CameraStatus | SettingsChanged | StateChanged
Handler = Callable[[Message], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []

    def subscribe(self, name: str, handler: Handler) -> Callable[[], None]:
        """Add a sink; returns the function that removes it again."""
        entry = (name, handler)
        self._handlers.append(entry)
        return lambda: self._handlers.remove(entry) if entry in self._handlers else None

    async def publish(self, message: Message) -> None:
        """Hand the message to every sink in subscription order (the store first)."""
        for name, handler in list(self._handlers):
            try:
                await handler(message)
            except Exception:
                _LOGGER.exception("Sink %s failed on %s", name, type(message).__name__)
