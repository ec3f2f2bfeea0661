"""ROI rectangles drawn on a camera frame (preview and the `?rois=1` snapshot)."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import ImageDraw

from ..config import Roi
from ..frame import Frame, box_to_pixels, encode_jpeg


def snapshot_jpeg(frame: Frame, rois: Sequence[Roi]) -> bytes:
    if not rois:
        return frame.jpeg()
    image = frame.rgb().copy()
    draw = ImageDraw.Draw(image)
    width = max(2, image.width // 400)
    for roi in rois:
        box = box_to_pixels(roi.box, image.width, image.height)
        colour = (0, 200, 80) if roi.enabled else (160, 160, 160)
        draw.rectangle(box, outline=colour, width=width)
        draw.text((box[0] + 2 * width, box[1] + 2 * width), roi.name, fill=colour)
    return encode_jpeg(image)
