"""`demo://`: a scripted scene from scikit-image's photos, so clevercam shows real events
on a machine with no camera (install the `demo` extra).

A brick wall over a gravel driveway; every 30 frames a cat sits on the porch, a moped
crosses the driveway, then an espresso cup stands on the porch (motion, but no event for a
porch that waits for cats).
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image

from ..config import CameraConfig
from ..frame import JpegFrame, encode_jpeg
from . import CameraError, CameraSource

WIDTH, HEIGHT = 1280, 720
# ROI boxes (percent) of the example config; the photos are pasted inside them.
PORCH_BOX = (5.0, 45.0, 35.0, 95.0)
DRIVEWAY_BOX = (50.0, 40.0, 95.0, 95.0)
# (first frame, last frame, what is in the scene) of one 30-frame loop.
SCRIPT = ((6, 10, "cat"), (16, 20, "moped"), (24, 28, "cup"))
LOOP = 30


@dataclass(frozen=True)
class Scene:
    empty: bytes
    cat: bytes
    moped: bytes
    cup: bytes


def _paste(background: Image.Image, photo: np.ndarray, box: tuple[float, ...]) -> Image.Image:
    x0, y0, x1, y1 = (
        int(v / 100 * s) for v, s in zip(box, (WIDTH, HEIGHT, WIDTH, HEIGHT), strict=True)
    )
    scene = background.copy()
    margin_x, margin_y = (x1 - x0) // 12, (y1 - y0) // 12
    patch = Image.fromarray(photo).convert("RGB")
    patch = patch.resize((x1 - x0 - 2 * margin_x, y1 - y0 - 2 * margin_y))
    scene.paste(patch, (x0 + margin_x, y0 + margin_y))
    return scene


def build_scene() -> Scene:
    """Encode the four distinct frames once; fetches then only hand out bytes."""
    if importlib.util.find_spec("skimage") is None:
        raise CameraError("the demo camera needs scikit-image: pip install 'clevercam_mqtt[demo]'")
    from skimage import data

    wall = np.tile(data.brick(), (1, 3))[:, :WIDTH]
    gravel = np.tile(data.gravel(), (1, 3))[:, :WIDTH]
    grey = np.vstack([wall[: int(HEIGHT * 0.4)], gravel])[:HEIGHT]
    tint = np.array([1.0, 0.93, 0.85])
    rgb = np.clip(grey[:, :, np.newaxis] * tint, 0, 255).astype(np.uint8)
    background = Image.fromarray(rgb)
    moped = data.stereo_motorcycle()[0]
    return Scene(
        empty=encode_jpeg(background),
        cat=encode_jpeg(_paste(background, data.chelsea(), PORCH_BOX)),
        moped=encode_jpeg(_paste(background, moped, DRIVEWAY_BOX)),
        cup=encode_jpeg(_paste(background, data.coffee(), PORCH_BOX)),
    )


def frame_content(index: int) -> str:
    step = index % LOOP
    for first, last, what in SCRIPT:
        if first <= step < last:
            return what
    return "empty"


class DemoCamera(CameraSource):
    def __init__(self, config: CameraConfig) -> None:
        self._scene: Scene | None = None
        self._index = 0

    async def fetch(self) -> JpegFrame:
        if self._scene is None:
            self._scene = await asyncio.to_thread(build_scene)
        data = getattr(self._scene, frame_content(self._index))
        self._index += 1
        return JpegFrame(data, datetime.now().astimezone())
