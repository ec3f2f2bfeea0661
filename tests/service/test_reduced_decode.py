"""Classification crops come from the smallest JPEG decode that still gives each ROI the
model's input size; the labels stay those of a full-size decode (real model, real photos)."""

from __future__ import annotations

from datetime import datetime

import pytest

from clevercam_mqtt.classifier import Classifier
from clevercam_mqtt.frame import JpegFrame, box_to_pixels, decode_scale
from clevercam_mqtt.heap import limit_heap_growth
from clevercam_mqtt.monitor import roi_crops
from tests.helpers.paths import MODEL_DIR, require
from tests.helpers.scenes import driveway, jpeg, paste, photo

FULL_HD = (1920, 1080)
DRIVE_BOX = (18.0, 35.0, 55.0, 100.0)  # 711 x 702 pixels at 1080p
STREET_BOX = (36.0, 0.0, 56.0, 30.0)  # 384 x 324 pixels at 1080p


@pytest.fixture(scope="module")
def model() -> Classifier:
    return Classifier(require(MODEL_DIR), threads=2)


def test_decode_scale_keeps_every_box_at_the_model_size() -> None:
    assert decode_scale(FULL_HD, [DRIVE_BOX], (224, 224)) == 2
    assert decode_scale(FULL_HD, [STREET_BOX], (224, 224)) == 1
    assert decode_scale(FULL_HD, [DRIVE_BOX, STREET_BOX], (224, 224)) == 1
    assert decode_scale((3840, 2160), [(0, 0, 100, 100)], (224, 224)) == 8
    assert decode_scale(FULL_HD, [(0, 0, 100, 100)], (224, 224)) == 4


def test_reduced_decode_gives_the_labels_of_a_full_decode(model: Classifier) -> None:
    scene = paste(driveway().resize(FULL_HD), photo("moped"), DRIVE_BOX, fill=0.7)
    data = jpeg(scene)
    frame = JpegFrame(data, datetime.now().astimezone())

    reduced = roi_crops(frame, [DRIVE_BOX], model)
    full_image = JpegFrame(data, datetime.now().astimezone()).rgb()
    full = [model.preprocess(full_image, box_to_pixels(DRIVE_BOX, *full_image.size))]

    assert frame.reduced_rgb(2).size == (960, 540)
    assert reduced[0].shape == (224, 224, 3)
    small, large = model.classify(reduced)[0], model.classify(full)[0]
    assert small[0].label == large[0].label == "moped"


def test_reduced_decode_reuses_a_full_decode() -> None:
    frame = JpegFrame(jpeg(driveway()), datetime.now().astimezone())
    assert frame.reduced_rgb(2).size == (510, 422)
    full = frame.rgb()
    assert frame.reduced_rgb(2) is full


def test_heap_threshold_is_set_unless_the_user_chose_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert limit_heap_growth() is True
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1048576")
    assert limit_heap_growth() is False
