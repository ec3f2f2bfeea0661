"""Benchmark inputs, generated (never downloaded): the real driveway snapshot as a 16:9
camera frame at 1080p or 1440p, watched by four ROIs, with real photos to paste in.

Two things make the frames behave like a camera's: each frame gets its own sensor noise
(a static scene is never bit-identical twice), and frames are encoded with the
quantization tables and 4:2:0 subsampling of the real snapshot, so the JPEG size (and so
the decode cost) is the camera's, not Pillow's default quality.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

from clevercam_mqtt.config import Roi
from tests.helpers.paths import DRIVEWAY, require
from tests.helpers.scenes import paste, photo

SIZES: dict[str, tuple[int, int]] = {"1080p": (1920, 1080), "2560x1440": (2560, 1440)}
# The snapshot without the player bar of the recorder's web page (its last ~100 rows).
CAMERA_AREA = (0, 0, 1019, 740)
NOISE_SIGMA = 2.0
# ROI name -> (box in percent of the 16:9 frame, photo pasted there when it 'moves').
ROI_PHOTOS: dict[str, tuple[tuple[float, float, float, float], str]] = {
    "lawn": ((0.0, 30.0, 18.0, 100.0), "cat"),
    "driveway": ((18.0, 35.0, 55.0, 100.0), "moped"),
    "wall": ((55.0, 25.0, 88.0, 85.0), "espresso"),
    "street": ((36.0, 0.0, 56.0, 30.0), "astronaut"),
}
ROIS = [Roi(name=name, box=box) for name, (box, _) in ROI_PHOTOS.items()]


@cache
def background(size: str) -> Image.Image:
    """The snapshot scaled to cover the frame and centre-cropped (no stretching)."""
    width, height = SIZES[size]
    with Image.open(require(DRIVEWAY)) as snapshot:
        area = snapshot.convert("RGB").crop(CAMERA_AREA)
    scale = max(width / area.width, height / area.height)
    scaled = area.resize(
        (round(area.width * scale), round(area.height * scale)), Image.Resampling.LANCZOS
    )
    left, top = (scaled.width - width) // 2, (scaled.height - height) // 2
    return scaled.crop((left, top, left + width, top + height))


@cache
def _camera_tables() -> dict[int, list[int]]:
    with Image.open(require(DRIVEWAY)) as snapshot:
        tables = getattr(snapshot, "quantization", None) or {}
    return {index: list(table) for index, table in tables.items()}


def scene(size: str, moving: tuple[str, ...] = ()) -> Image.Image:
    """The frame with the photos of the named ROIs pasted into their boxes."""
    image = background(size)
    for name in moving:
        box, what = ROI_PHOTOS[name]
        image = paste(image, photo(what), box, fill=0.7)
    return image


def camera_jpeg(image: Image.Image, seed: int) -> bytes:
    """The image as the camera would send it: fresh sensor noise, the camera's tables."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32)
    noisy = pixels + rng.normal(0.0, NOISE_SIGMA, pixels.shape).astype(np.float32)
    out = io.BytesIO()
    Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8)).save(
        out, "JPEG", qtables=_camera_tables(), subsampling=2
    )
    return out.getvalue()


def frame_cycle(size: str, length: int = 20, start: int = 0) -> list[bytes]:
    """`length` frames in which 10 % show motion: the scene changes at frame 0 (an ROI's
    photo appears) and changes back half-way, every other frame is only sensor noise.
    The ROI that moves rotates with `start`, and so do the noise seeds."""
    name = ROIS[start % len(ROIS)].name
    half = length // 2
    empty, busy = scene(size), scene(size, (name,))
    return [
        camera_jpeg(busy if index < half else empty, seed=start * 1000 + index)
        for index in range(length)
    ]
