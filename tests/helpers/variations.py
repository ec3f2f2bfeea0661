"""Variations of real scenes for teaching classes: positions, crops and light.

Each variation is a whole driveway frame (JPEG bytes), so it goes through the same path as
a camera image: decode, crop of the ROI, the real model. Training and held-out sets are
built from different parameters, so a test never scores a class set on what it learned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image, ImageEnhance

from clevercam_mqtt.classifier import Classifier, Embedding
from clevercam_mqtt.frame import JpegFrame, box_to_pixels

from .scenes import GATE_BOX, darker, driveway, jpeg, paste, photo

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Variation:
    """One frame of a class: which photo (None = empty ROI), where, how bright."""

    what: str | None
    spot: Box = (0.0, 0.0, 1.0, 1.0)  # the part of the ROI the photo fills (fractions)
    brightness: float = 1.0
    crop: Box = (0.0, 0.0, 1.0, 1.0)  # the part of the photo that is shown (fractions)
    contrast: float = 1.0

    def frame(self, roi: Box = GATE_BOX) -> Image.Image:
        scene = driveway()
        if self.what is not None:
            picture = photo(self.what)
            width, height = picture.size
            x0, y0, x1, y1 = self.crop
            picture = picture.crop(
                (int(x0 * width), int(y0 * height), int(x1 * width), int(y1 * height))
            )
            scene = paste(scene, picture, _inside(roi, self.spot), fill=1.0)
        if self.contrast != 1.0:
            scene = ImageEnhance.Contrast(scene).enhance(self.contrast)
        return darker(scene, self.brightness) if self.brightness != 1.0 else scene

    def jpeg(self, roi: Box = GATE_BOX) -> bytes:
        return jpeg(self.frame(roi))


def _inside(roi: Box, spot: Box) -> Box:
    """A spot given in fractions of the ROI, as percent of the whole image."""
    x0, y0, x1, y1 = roi
    width, height = x1 - x0, y1 - y0
    return (
        x0 + spot[0] * width,
        y0 + spot[1] * height,
        x0 + spot[2] * width,
        y0 + spot[3] * height,
    )


# The espresso cup at a few places and sizes within the ROI.
CUP_SPOTS: tuple[Box, ...] = (
    (0.1, 0.1, 0.9, 0.9),
    (0.0, 0.0, 0.6, 0.6),
    (0.4, 0.4, 1.0, 1.0),
    (0.0, 0.35, 0.55, 0.95),
    (0.45, 0.0, 1.0, 0.55),
    (0.2, 0.25, 0.75, 0.8),
)
PHOTO_CROPS: tuple[Box, ...] = (
    (0.0, 0.0, 1.0, 1.0),
    (0.1, 0.0, 0.9, 0.85),
    (0.0, 0.15, 0.8, 1.0),
    (0.2, 0.1, 1.0, 0.9),
    (0.05, 0.05, 0.75, 0.75),
    (0.25, 0.2, 0.95, 0.95),
)
TRAIN_LIGHT = (0.7, 1.0, 1.25)
HELD_OUT_LIGHT = (0.55, 0.85, 1.15)
VISITOR_SPOT: Box = (0.05, 0.05, 0.95, 0.95)


def cup_or_empty(spots: Sequence[Box], light: Sequence[float]) -> Iterator[tuple[str, Variation]]:
    """The state "cup" (espresso pasted at each spot) and "empty", under each light."""
    for brightness in light:
        for spot in spots:
            yield "cup", Variation("espresso", spot, brightness)
        for contrast in (0.8, 1.0, 1.2):
            yield "empty", Variation(None, brightness=brightness, contrast=contrast)


def cup_training() -> list[tuple[str, Variation]]:
    return list(cup_or_empty(CUP_SPOTS[:4], TRAIN_LIGHT))


def cup_held_out() -> list[tuple[str, Variation]]:
    return list(cup_or_empty(CUP_SPOTS[4:], HELD_OUT_LIGHT))


def visitors(
    crops: Sequence[Box], light: Sequence[float], classes: Sequence[str] = ("cat", "astronaut")
) -> list[tuple[str, Variation]]:
    """Two kinds of visitor, each a real photo shown cropped and lit in several ways.

    The visitors take turns, so each frame differs from the one before enough to move.
    """
    return [
        (name, Variation(name, VISITOR_SPOT, brightness, crop))
        for brightness in light
        for crop in crops
        for name in classes
    ]


def visitor_training() -> list[tuple[str, Variation]]:
    return visitors(PHOTO_CROPS[:4], TRAIN_LIGHT)


def visitor_held_out() -> list[tuple[str, Variation]]:
    return visitors(PHOTO_CROPS[4:], HELD_OUT_LIGHT)


def embed(classifier: Classifier, frame_jpeg: bytes, roi: Box = GATE_BOX) -> Embedding:
    """The ROI's embedding as the loop computes it: JPEG frame, ROI crop, one inference."""
    image = JpegFrame(frame_jpeg, datetime.now().astimezone()).rgb()
    crop = classifier.preprocess(image, box_to_pixels(roi, image.width, image.height))
    embedding = classifier.analyze([crop])[0].embedding
    assert embedding is not None, "the model gives no embedding"
    return embedding


def embed_all(
    classifier: Classifier, items: Sequence[tuple[str, Variation]], roi: Box = GATE_BOX
) -> tuple[np.ndarray, list[str]]:
    vectors = [embed(classifier, variation.jpeg(roi), roi).vector for _, variation in items]
    return np.stack(vectors), [label for label, _ in items]
