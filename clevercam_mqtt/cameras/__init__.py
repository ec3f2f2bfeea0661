"""Camera sources: each turns a configured URL into frames, with errors users can act on."""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from urllib.parse import urlsplit, urlunsplit

from ..config import CameraConfig
from ..frame import Frame


class CameraError(Exception):
    """The camera gave no usable frame; the message is shown to users as is."""


class CameraSource(ABC):
    """Gives the current frame of one camera."""

    @abstractmethod
    async def fetch(self) -> Frame:
        """The newest frame; raises CameraError."""

    async def close(self) -> None:  # noqa: B027 - most sources hold nothing to release
        """Release connections and threads."""

    @property
    def keeps_connection(self) -> bool:
        """True for streams whose frames arrive on their own (a reconnect resets motion)."""
        return False

    async def event_image(self, frame: Frame) -> tuple[bytes, tuple[int, int]]:
        """JPEG and size stored with an event on `frame` (a source may have a better picture)."""
        return await asyncio.to_thread(frame.jpeg), frame.size

    def describe(self) -> dict[str, object]:
        """Extra facts for check-camera (codec, keyframe interval...)."""
        return {}


# Query parameters that carry secrets in snapshot URLs ("snapshot.cgi?user=admin&pwd=...").
_SECRET_QUERY = re.compile(r"(?i)(^|&)([^=&]*(?:pass|pwd|token|key|secret|auth|sig)[^=&]*)=[^&]*")


def redact_url(url: str) -> str:
    """The URL without user:password and secret query values, for logs and API answers."""
    parts = urlsplit(url)
    query = _SECRET_QUERY.sub(r"\1\2=***", parts.query)
    if parts.username is None and parts.password is None and query == parts.query:
        return url
    host = parts.netloc.rpartition("@")[2]  # keeps an IPv6 host's brackets and the port
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))


def open_camera(config: CameraConfig) -> CameraSource:
    """The source for a camera's URL scheme."""
    scheme = config.url.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        from .http import HttpCamera

        return HttpCamera(config)
    if scheme == "file":
        from .folder import FolderCamera

        return FolderCamera(config)
    if scheme == "demo":
        from .demo import DemoCamera

        return DemoCamera(config)
    if scheme in ("rtsp", "rtsps"):
        from .rtsp import RtspCamera

        return RtspCamera(config)
    raise CameraError(f"unsupported camera URL scheme {scheme!r}")
