"""One camera image, decoded only as far as each consumer needs.

The motion check wants a small greyscale picture; the classifier wants full-resolution
RGB crops; the history wants JPEG bytes. A frame gives each on demand and caches it, so a
static scene never pays for a full RGB decode.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from PIL import Image

Box = tuple[float, float, float, float]


class FrameError(Exception):
    """The bytes are not a usable image."""


class Frame(ABC):
    timestamp: datetime

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """Full-resolution (width, height)."""

    @abstractmethod
    def grey(self, scale: int) -> np.ndarray:
        """Greyscale uint8 array at roughly 1/scale of the full size."""

    @abstractmethod
    def rgb(self) -> Image.Image:
        """Full-resolution RGB image."""

    @abstractmethod
    def jpeg(self) -> bytes:
        """JPEG bytes for storage and publishing."""


@dataclass(eq=False)
class JpegFrame(Frame):
    data: bytes
    timestamp: datetime
    _size: tuple[int, int] | None = field(default=None, repr=False)
    _rgb: Image.Image | None = field(default=None, repr=False)

    def _open(self) -> Image.Image:
        try:
            image = Image.open(io.BytesIO(self.data))
        except Image.DecompressionBombError:
            # A header claiming billions of pixels: refused before anything is decoded.
            raise FrameError("image is too large to decode (over 178 megapixels)") from None
        except (OSError, ValueError):
            raise FrameError("camera sent data that is not an image") from None
        if image.format != "JPEG":
            raise FrameError(f"expected a JPEG image, got {image.format}")
        self._size = image.size
        return image

    @property
    def size(self) -> tuple[int, int]:
        if self._size is None:
            self._open()
        assert self._size is not None
        return self._size

    def grey(self, scale: int) -> np.ndarray:
        image = self._open()
        width, height = image.size
        # draft() makes libjpeg decode at 1/2, 1/4 or 1/8 scale straight to luma.
        image.draft("L", (max(1, width // scale), max(1, height // scale)))
        try:
            return np.asarray(image.convert("L"))
        except (OSError, SyntaxError) as error:
            raise broken_jpeg(error) from None

    def rgb(self) -> Image.Image:
        if self._rgb is None:
            image = self._open()
            try:
                self._rgb = image.convert("RGB")
            except (OSError, SyntaxError) as error:
                raise broken_jpeg(error) from None
        return self._rgb

    def jpeg(self) -> bytes:
        return self.data


def broken_jpeg(error: Exception) -> FrameError:
    """A decode error with a stable message: camera states log and publish only changes."""
    if "truncated" in str(error):
        return FrameError("broken JPEG: the image is truncated")
    return FrameError(f"broken JPEG: {error}")


def box_to_pixels(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """Percent box -> pixel box, never empty."""
    x0, y0, x1, y1 = box
    left = min(width - 1, int(x0 * width / 100))
    top = min(height - 1, int(y0 * height / 100))
    right = max(left + 1, round(x1 * width / 100))
    bottom = max(top + 1, round(y1 * height / 100))
    return left, top, min(right, width), min(bottom, height)


def thumbnail_jpeg(data: bytes, longest_side: int, quality: int = 80) -> bytes:
    """A small JPEG, decoded at reduced scale so big frames stay cheap."""
    source = Image.open(io.BytesIO(data))
    source.draft("RGB", (longest_side, longest_side))
    image = source.convert("RGB")
    image.thumbnail((longest_side, longest_side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def encode_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()
