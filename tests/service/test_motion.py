"""ROI change on reduced greyscale decodes of real frames."""

from __future__ import annotations

from datetime import datetime

from clevercam_mqtt.config import Roi
from clevercam_mqtt.frame import JpegFrame
from clevercam_mqtt.motion import MotionDetector
from tests.helpers.scenes import GATE_BOX, scene_jpeg

GATE = Roi(name="gate", box=GATE_BOX)
SKY = Roi(name="right side", box=(60, 5, 98, 30))


def grey(what: str):
    return JpegFrame(scene_jpeg(what), datetime.now()).grey(8)


def test_scaled_decode_is_small_and_grey() -> None:
    small = grey("empty")
    assert small.ndim == 2
    assert small.shape == (106, 128)  # 1019x844 at 1/8


def test_first_frame_has_no_baseline_then_change_stays_in_its_roi() -> None:
    detector = MotionDetector(pixel_threshold=0.2)
    assert detector.measure(grey("empty"), [GATE, SKY]) is None
    same = detector.measure(grey("empty"), [GATE, SKY])
    assert same == {"gate": 0.0, "right_side": 0.0}
    cat = detector.measure(grey("cat"), [GATE, SKY])
    assert cat is not None and cat["gate"] > 0.2 and cat["right_side"] == 0.0


def test_size_change_and_reset_start_a_new_baseline() -> None:
    detector = MotionDetector(pixel_threshold=0.2)
    detector.measure(grey("empty"), [GATE])
    assert detector.measure(JpegFrame(scene_jpeg("empty"), datetime.now()).grey(4), [GATE]) is None
    detector.reset()
    assert detector.measure(grey("empty"), [GATE]) is None
