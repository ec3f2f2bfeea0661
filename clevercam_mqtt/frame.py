"""One camera image, decoded only as far as each consumer needs.

The motion check wants a small greyscale picture; the classifier wants full-resolution
RGB crops; the history wants JPEG bytes. A frame gives each on demand and caches it, so a
static scene never pays for a full RGB decode.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Sequence
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

    def reduced_rgb(self, scale: int) -> Image.Image:
        """RGB at roughly 1/scale of the full size (sources that cannot decode smaller give
        the full picture, and so does a frame whose full picture is decoded already)."""
        return self.rgb()

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

    def _decode(self, mode: str, scale: int) -> Image.Image:
        """Decode as `mode` at 1/scale (1, 2, 4, 8): libjpeg scales in the DCT domain, so a
        smaller picture skips most of the IDCT, upsampling and colour conversion work."""
        image = self._open()
        width, height = image.size
        image.draft(mode, (max(1, width // scale), max(1, height // scale)))
        try:
            return image.convert(mode)
        except (OSError, SyntaxError) as error:
            raise broken_jpeg(error) from None

    def grey(self, scale: int) -> np.ndarray:
        return np.asarray(self._decode("L", scale))

    def rgb(self) -> Image.Image:
        if self._rgb is None:
            self._rgb = self._decode("RGB", 1)
        return self._rgb

    def reduced_rgb(self, scale: int) -> Image.Image:
        if scale <= 1 or self._rgb is not None:
            return self.rgb()
        return self._decode("RGB", scale)

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


def decode_scale(size: tuple[int, int], boxes: Sequence[Box], minimum: tuple[int, int]) -> int:
    """The largest decode scale (8, 4, 2 or 1) at which every box still covers `minimum`
    pixels: a classifier gets its full input resolution from a smaller decode."""
    width, height = size
    scale = 8
    for box in boxes:
        left, top, right, bottom = box_to_pixels(box, width, height)
        while scale > 1 and (
            right - left < minimum[0] * scale or bottom - top < minimum[1] * scale
        ):
            scale //= 2
    return scale


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
