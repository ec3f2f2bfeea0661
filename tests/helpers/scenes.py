"""Realistic frames: the driveway snapshot, with real photos pasted into a ROI."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image, ImageEnhance
from skimage import data

from .paths import DRIVEWAY, require

# The ROI the tests watch (percent of the image): the lawn left of the van.
GATE_BOX = (2.0, 35.0, 38.0, 85.0)
CAT_LABELS = ["Egyptian cat", "tabby", "tiger cat"]


@cache
def driveway() -> Image.Image:
    return Image.open(require(DRIVEWAY)).convert("RGB")


def photo(name: str) -> Image.Image:
    if name == "cat":
        return Image.fromarray(data.chelsea())
    if name == "espresso":
        return Image.fromarray(data.coffee())
    if name == "moped":
        return Image.fromarray(data.stereo_motorcycle()[0])
    if name == "astronaut":
        return Image.fromarray(data.astronaut())
    raise KeyError(name)


def paste(
    scene: Image.Image, picture: Image.Image, box: tuple[float, ...] = GATE_BOX, fill: float = 0.85
) -> Image.Image:
    """The picture scaled to `fill` of the box, centred in it."""
    width, height = scene.size
    x0, y0, x1, y1 = (
        int(v / 100 * s) for v, s in zip(box, (width, height, width, height), strict=False)
    )
    pw, ph = int((x1 - x0) * fill), int((y1 - y0) * fill)
    result = scene.copy()
    result.paste(picture.resize((pw, ph)), (x0 + (x1 - x0 - pw) // 2, y0 + (y1 - y0 - ph) // 2))
    return result


def darker(scene: Image.Image, factor: float = 0.5) -> Image.Image:
    return ImageEnhance.Brightness(scene).enhance(factor)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def scene_jpeg(what: str | None = None, box: tuple[float, ...] = GATE_BOX) -> bytes:
    """'empty', 'cat', 'espresso', 'moped', 'dark' versions of the driveway."""
    base = driveway()
    if what in (None, "empty"):
        return jpeg(base)
    if what == "dark":
        return jpeg(darker(base))
    return jpeg(paste(base, photo(what), box))


def noise_jpeg(seed: int = 0, size: tuple[int, int] = (640, 480)) -> bytes:
    rng = np.random.default_rng(seed)
    return jpeg(Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)))
