"""`file:///path/to/folder`: replays the folder's JPEGs in name order, looping (demos, tests)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import CameraConfig
from ..frame import Frame, JpegFrame
from . import CameraError, CameraSource


class FolderCamera(CameraSource):
    def __init__(self, config: CameraConfig) -> None:
        self.folder = Path(unquote(urlsplit(config.url).path))
        self._index = 0

    def _next(self) -> bytes:
        if self.folder.is_file():
            files = [self.folder]
        elif self.folder.is_dir():
            files = sorted(
                p for p in self.folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg")
            )
        else:
            raise CameraError(f"folder {self.folder} does not exist")
        if not files:
            raise CameraError(f"folder {self.folder} holds no JPEG files")
        path = files[self._index % len(files)]
        self._index += 1
        try:
            return path.read_bytes()
        except OSError as error:
            raise CameraError(f"cannot read {path.name}: {error.strerror}") from None

    async def fetch(self) -> Frame:
        data = await asyncio.to_thread(self._next)
        return JpegFrame(data, datetime.now().astimezone())
