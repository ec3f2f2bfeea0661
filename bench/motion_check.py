"""Item 1: the motion check per frame (JPEG decode + change of all ROIs), clevercam vs the
naive method of the original clever-camera, timed alternately in the same process.

clevercam: `JpegFrame.grey(scale)` (libjpeg decodes luma only, at 1/8 size) and
`MotionDetector.measure` over the four ROIs.
naive: full RGB decode, then for each ROI both frames cropped and resized to 200x200
(bilinear), grey as the channel mean, |diff| > threshold, mean.

    python -m bench.motion_check [--runs 7] [--frames 40] [--quick]
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from datetime import datetime

import numpy as np
from PIL import Image

from clevercam_mqtt.frame import JpegFrame, box_to_pixels
from clevercam_mqtt.motion import MotionDetector

from .scene import ROIS, SIZES, frame_cycle
from .stats import OtherLoad, Series, banner, parser, per_call_ms, ratio, report

PIXEL_THRESHOLD = 0.2
NAIVE_CROP = (200, 200)


class NaiveMotion:
    """The original's method: full decode, each ROI resized twice per frame."""

    def __init__(self) -> None:
        self.previous: Image.Image | None = None

    def measure(self, data: bytes) -> dict[str, float] | None:
        current = Image.open(io.BytesIO(data)).convert("RGB")
        previous, self.previous = self.previous, current
        if previous is None:
            return None
        result = {}
        for roi in ROIS:
            box = box_to_pixels(roi.box, current.width, current.height)
            now = np.asarray(current.crop(box).resize(NAIVE_CROP, Image.Resampling.BILINEAR))
            before = np.asarray(previous.crop(box).resize(NAIVE_CROP, Image.Resampling.BILINEAR))
            diff = np.abs(now.mean(-1) / 255.0 - before.mean(-1) / 255.0)
            result[roi.slug] = float((diff > PIXEL_THRESHOLD).mean())
        return result


class CleverMotion:
    """What CameraMonitor.check_once does with a frame before any classification."""

    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.detector = MotionDetector(PIXEL_THRESHOLD)

    def measure(self, data: bytes) -> dict[str, float] | None:
        grey = JpegFrame(data, datetime.now().astimezone()).grey(self.scale)
        return self.detector.measure(grey, ROIS)


def _player(method: CleverMotion | NaiveMotion, frames: list[bytes]) -> Callable[[], None]:
    position = 0

    def step() -> None:
        nonlocal position
        method.measure(frames[position % len(frames)])
        position += 1

    return step


def bench_size(frames: list[bytes], runs: int, frames_per_run: int, scale: int) -> list[Series]:
    clever, naive = CleverMotion(scale), NaiveMotion()
    clever_step, naive_step = _player(clever, frames), _player(naive, frames)
    clever_step(), naive_step()  # a first frame is the baseline of each method
    fast = Series(f"clevercam (1/{scale} luma decode)", "ms/frame")
    slow = Series("naive (RGB decode, 2x resize per ROI)", "ms/frame")
    for _ in range(runs):
        slow.values.append(per_call_ms(naive_step, frames_per_run))
        fast.values.append(per_call_ms(clever_step, frames_per_run))
    return [fast, slow, ratio(slow, fast, "clevercam speed-up")]


def main(argv: list[str] | None = None) -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--runs", type=int, default=7)
    args_parser.add_argument("--frames", type=int, default=40, help="frames per run and method")
    args_parser.add_argument("--scale", type=int, default=8, choices=(1, 2, 4, 8))
    args = args_parser.parse_args(argv)
    runs, count, cycle = (2, 3, 2) if args.quick else (args.runs, args.frames, 20)
    banner(" ".join(["python -m bench.motion_check", *(argv or sys.argv[1:])]))
    with OtherLoad():
        for size, (width, height) in SIZES.items():
            frames = frame_cycle(size, cycle)
            kilobytes = len(frames[-1]) // 1024
            title = (
                f"motion check per frame, {width}x{height} (~{kilobytes} KB JPEG), "
                f"{len(ROIS)} ROIs, {runs} runs x {count} frames (10 % with motion)"
            )
            report(title, bench_size(frames, runs, count, args.scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
