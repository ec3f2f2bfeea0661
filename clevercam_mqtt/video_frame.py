"""A frame from a video decoder (RTSP), decoded further only as far as each consumer needs.

The decoder hands over YUV planes. The motion check reads the luma plane, area-averaged
down by libswscale straight to greyscale (well under a millisecond at 1080p, no RGB
conversion); the RGB conversion runs only for the classifier's crops, and the JPEG
encoding only for an image that is stored or shown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .frame import Frame, FrameError, encode_jpeg

if TYPE_CHECKING:
    from av import VideoFrame


def _decoder_errors() -> tuple[type[Exception], ...]:
    """PyAV's errors, imported only where PyAV is in use (it is an optional extra)."""
    from av import FFmpegError

    return FFmpegError, ValueError


@dataclass(eq=False)
class DecodedFrame(Frame):
    video: VideoFrame
    timestamp: datetime
    baseline: bool = False
    """True on the first frame handed out after a (re)connect: a new motion baseline."""
    _grey: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _rgb: Image.Image | None = field(default=None, repr=False)
    _jpeg: bytes | None = field(default=None, repr=False)
    # PyAV keeps one scaler per frame; the loop's worker threads may share a frame.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        return self.video.width, self.video.height

    def grey(self, scale: int) -> np.ndarray:
        with self._lock:
            cached = self._grey.get(scale)
            if cached is None:
                width = max(1, self.video.width // scale)
                height = max(1, self.video.height // scale)
                try:
                    small = self.video.reformat(
                        width=width, height=height, format="gray", interpolation="AREA"
                    )
                except _decoder_errors() as error:
                    raise FrameError(f"cannot read the decoded frame: {error}") from None
                cached = np.ascontiguousarray(small.to_ndarray())
                self._grey[scale] = cached
            return cached

    def rgb(self) -> Image.Image:
        with self._lock:
            if self._rgb is None:
                try:
                    self._rgb = self.video.to_image()
                except _decoder_errors() as error:
                    raise FrameError(f"cannot convert the decoded frame: {error}") from None
            return self._rgb

    def jpeg(self) -> bytes:
        if self._jpeg is None:
            self._jpeg = encode_jpeg(self.rgb())
        return self._jpeg
