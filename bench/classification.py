"""Item 2: classification of ROI crops with the shared MobileNet V3 uint8 model.

On a frame where all four ROIs hold a real photo, with 1 and 2 interpreter threads:
- preparing the crops as `CameraMonitor` does (`roi_crops`: one RGB decode at the smallest
  JPEG scale that still gives each changed ROI 224x224 pixels, then crop + resize), against
  the original's way (full-size RGB decode, then crop + resize) in the same run;
- crop + resize alone (`Classifier.preprocess`) vs inference, per crop;
- crops per second from JPEG bytes to predictions, with one changed ROI a frame
  ("batch of 1", each ROI in turn) and with all four ROIs of a frame in one call.
  `Classifier.classify` invokes the interpreter once per crop (this model's XNNPACK
  delegate refuses a batch resize), so a larger batch only shares the decode.

    python -m bench.classification [--runs 5] [--frames 10] [--quick]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from clevercam_mqtt.classifier import Classifier
from clevercam_mqtt.frame import Box, Frame, JpegFrame, box_to_pixels, decode_scale
from clevercam_mqtt.monitor import roi_crops
from tests.helpers.paths import MODEL_DIR, require

from .scene import ROI_PHOTOS, ROIS, SIZES, camera_jpeg, scene
from .stats import OtherLoad, Series, banner, parser, per_call_ms, ratio, report

BOXES: list[Box] = [roi.box for roi in ROIS]
CropFunction = Callable[[Frame, Sequence[Box], Classifier], list[np.ndarray]]


def full_decode_crops(frame: Frame, boxes: Sequence[Box], model: Classifier) -> list[np.ndarray]:
    """The baseline: a full-size RGB decode, then crop + resize each box."""
    image = frame.rgb()
    return [model.preprocess(image, box_to_pixels(box, image.width, image.height)) for box in boxes]


class Bench:
    def __init__(self, data: bytes, threads: int) -> None:
        self.data = data
        self.model = Classifier(require(MODEL_DIR), threads)
        self._position = 0

    def frame(self) -> JpegFrame:
        return JpegFrame(self.data, datetime.now().astimezone())

    def _next_box(self) -> list[Box]:
        box = BOXES[self._position % len(BOXES)]
        self._position += 1
        return [box]

    def prepare_one(self, crops: CropFunction) -> Callable[[], object]:
        """Crops for a frame with one changed ROI, each ROI in turn."""
        return lambda: crops(self.frame(), self._next_box(), self.model)

    def classify_one(self, crops: CropFunction) -> Callable[[], object]:
        return lambda: self.model.classify(crops(self.frame(), self._next_box(), self.model))

    def classify_all(self, crops: CropFunction) -> Callable[[], object]:
        return lambda: self.model.classify(crops(self.frame(), BOXES, self.model))

    def resize_only(self) -> Callable[[], object]:
        """Crop + resize of every ROI from the image `roi_crops` decodes for that ROI."""
        images = []
        for box in BOXES:
            frame = self.frame()
            image = frame.reduced_rgb(decode_scale(frame.size, [box], self.model.input_size))
            images.append((image, box_to_pixels(box, image.width, image.height)))
        return lambda: [self.model.preprocess(image, pixels) for image, pixels in images]


class Figures:
    """Every figure of one interpreter setup; `measure` adds one run's value to each."""

    def __init__(self, data: bytes, threads: int) -> None:
        self.bench = Bench(data, threads)
        self.crops = roi_crops(self.bench.frame(), BOXES, self.bench.model)
        self.old_prep = Series("decode + crop + resize, full decode (original)", "ms/frame")
        self.new_prep = Series("decode + crop + resize, clevercam", "ms/frame")
        self.resize = Series("crop + resize alone, clevercam", "ms/crop")
        self.infer = Series("inference", "ms/crop")
        self.old_one = Series("1 changed ROI a frame, full decode (original)", "crops/s")
        self.new_one = Series("1 changed ROI a frame, clevercam", "crops/s")
        self.old_all = Series("4 changed ROIs a frame, full decode (original)", "crops/s")
        self.new_all = Series("4 changed ROIs a frame, clevercam", "crops/s")
        self.batch_one = Series("inference only, batch of 1", "crops/s")
        self.batch_all = Series("inference only, batch of 4 (one classify call)", "crops/s")

    def measure(self, frames: int) -> None:
        bench, crops, calls = self.bench, self.crops, frames * len(BOXES)
        self.old_prep.values.append(per_call_ms(bench.prepare_one(full_decode_crops), calls))
        self.new_prep.values.append(per_call_ms(bench.prepare_one(roi_crops), calls))
        self.resize.values.append(per_call_ms(bench.resize_only(), frames) / len(BOXES))
        one_by_one = per_call_ms(lambda: [bench.model.classify([c]) for c in crops], frames)
        self.infer.values.append(one_by_one / len(crops))
        self.old_one.values.append(1000 / per_call_ms(bench.classify_one(full_decode_crops), calls))
        self.new_one.values.append(1000 / per_call_ms(bench.classify_one(roi_crops), calls))
        self.old_all.values.append(
            4000 / per_call_ms(bench.classify_all(full_decode_crops), frames)
        )
        self.new_all.values.append(4000 / per_call_ms(bench.classify_all(roi_crops), frames))
        self.batch_one.values.append(1000 / self.infer.values[-1])
        self.batch_all.values.append(
            4000 / per_call_ms(lambda: bench.model.classify(crops), frames)
        )

    def sections(self) -> list[tuple[str, list[Series]]]:
        return [
            (
                "preparing the crops of a frame with 1 changed ROI (each ROI in turn)",
                [self.old_prep, self.new_prep, ratio(self.old_prep, self.new_prep, "speed-up")],
            ),
            (
                "per crop",
                [
                    self.resize,
                    self.infer,
                    ratio(self.infer, self.resize, "inference / crop + resize"),
                    ratio(self.infer, self.new_prep, "inference / (decode + crop + resize), 1 ROI"),
                ],
            ),
            (
                "crops per second, JPEG bytes to predictions",
                [
                    self.old_one,
                    self.new_one,
                    ratio(self.new_one, self.old_one, "speed-up, 1 ROI a frame"),
                    self.old_all,
                    self.new_all,
                    ratio(self.new_all, self.old_all, "speed-up, 4 ROIs a frame"),
                    ratio(self.new_all, self.new_one, "4 ROIs a frame vs 1, clevercam"),
                    self.batch_one,
                    self.batch_all,
                    ratio(self.batch_all, self.batch_one, "batch of 4 vs batch of 1"),
                ],
            ),
        ]

    def rates(self) -> list[Series]:
        return [row for _, rows in self.sections() for row in rows if row.unit == "crops/s"]


def main(argv: list[str] | None = None) -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--runs", type=int, default=5)
    args_parser.add_argument("--frames", type=int, default=10, help="frames per run and figure")
    args = args_parser.parse_args(argv)
    runs, frames = (1, 1) if args.quick else (args.runs, args.frames)
    banner(" ".join(["python -m bench.classification", *(argv or sys.argv[1:])]))
    with OtherLoad():
        for size, (width, height) in SIZES.items():
            data = camera_jpeg(scene(size, tuple(ROI_PHOTOS)), seed=1)
            scales = ", ".join(
                f"{roi.name} 1/{decode_scale((width, height), [roi.box], (224, 224))}"
                for roi in ROIS
            )
            setups = {threads: Figures(data, threads) for threads in (1, 2)}
            for _ in range(runs):  # the two setups take turns, so load hits both alike
                for figures in setups.values():
                    figures.measure(frames)
            for threads, figures in setups.items():
                head = f"{width}x{height}, threads={threads}, {runs} runs x {frames} frames"
                for title, rows in figures.sections():
                    digits = 1 if rows[0].unit == "crops/s" else 2
                    report(f"{head}: {title}", rows, digits)
            report(
                f"{width}x{height}: 2 threads vs 1 (decode scale per ROI: {scales})",
                [
                    ratio(two, one, f"{one.name}: 2 threads / 1")
                    for one, two in zip(setups[1].rates(), setups[2].rates(), strict=True)
                ],
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
