"""Classifier on real models and real photos: the shared uint8 MobileNet and a float32 model
built in the test, so both the quantized and the float paths of `_to_input`/`_scores` run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from clevercam_mqtt.classifier import Classifier, ModelError
from tests.helpers.float_model import COLOURS, SHARPNESS, colour_weights, write_colour_model
from tests.helpers.paths import DRIVEWAY, MODEL_DIR, require

CAT_LABELS = {"Egyptian cat", "tabby", "tiger cat"}
REPO = Path(__file__).resolve().parents[2]


def shared_model_dir() -> Path:
    """The pretrained MobileNet V3 in ../shared; missing, the test fails."""
    return require(MODEL_DIR)


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)()[..., :3])


@pytest.fixture(scope="module")
def mobilenet() -> Classifier:
    return Classifier(shared_model_dir())


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory: pytest.TempPathFactory) -> Classifier:
    return Classifier(write_colour_model(tmp_path_factory.mktemp("colour")))


# --- the quantized MobileNet -------------------------------------------------------------


def test_uint8_mobilenet_reads_its_quantization(mobilenet: Classifier) -> None:
    assert mobilenet.input_size == (224, 224)
    assert mobilenet._input["dtype"] == np.uint8
    assert len(mobilenet.labels) == 1001
    assert mobilenet.labels[0] == "background"


def test_uint8_mobilenet_sees_a_cat(mobilenet: Classifier) -> None:
    top = mobilenet.classify_image(photo("chelsea"), top_k=3)
    assert top[0].label in CAT_LABELS
    assert top[0].score > 0.5


def test_uint8_mobilenet_sees_an_espresso(mobilenet: Classifier) -> None:
    top = mobilenet.classify_image(photo("coffee"), top_k=3)
    assert top[0].label == "espresso"
    assert top[0].score > 0.5


def test_uint8_mobilenet_scores_are_probabilities(mobilenet: Classifier) -> None:
    top = mobilenet.classify_image(photo("chelsea"), top_k=5)
    scores = [prediction.score for prediction in top]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert sum(scores) <= 1.01
    assert "background" not in {prediction.label for prediction in top}


def test_uint8_mobilenet_classifies_a_box_of_a_scene(mobilenet: Classifier) -> None:
    """The crop box path: a cat pasted into the driveway is found in its box, not elsewhere."""
    scene = Image.open(require(DRIVEWAY)).convert("RGB")
    cat = photo("chelsea")
    scene.paste(cat, (50, 50))
    box = (50, 50, 50 + cat.width, 50 + cat.height)
    assert mobilenet.classify_image(scene, box, top_k=1)[0].label in CAT_LABELS
    elsewhere = (scene.width // 2, scene.height // 2, scene.width, scene.height - 100)
    assert mobilenet.classify_image(scene, elsewhere, top_k=1)[0].label not in CAT_LABELS


# --- the float32 model built by the test -------------------------------------------------


def test_float_model_loads_as_float(colour_model: Classifier) -> None:
    assert colour_model._input["dtype"] == np.float32
    assert colour_model._output["dtype"] == np.float32
    assert colour_model.input_size == (224, 224)
    assert colour_model.labels == list(COLOURS)


@pytest.mark.parametrize(
    ("rgb", "label"),
    [
        ((230, 20, 20), "red"),
        ((20, 190, 40), "green"),
        ((10, 30, 240), "blue"),
        ((128, 128, 128), "grey"),
        ((0, 0, 0), "black"),
    ],
)
def test_float_model_names_plain_colours(
    colour_model: Classifier, rgb: tuple[int, int, int], label: str
) -> None:
    top = colour_model.classify_image(Image.new("RGB", (320, 240), rgb), top_k=2)
    assert top[0].label == label
    assert top[0].score > 0.9


@pytest.mark.parametrize(
    ("name", "label"),
    [("coffee", "red"), ("retina", "red"), ("rocket", "blue"), ("hubble_deep_field", "black")],
)
def test_float_model_names_the_colour_of_real_photos(
    colour_model: Classifier, name: str, label: str
) -> None:
    assert colour_model.classify_image(photo(name), top_k=1)[0].label == label


def test_float_model_names_the_driveway_grey(colour_model: Classifier) -> None:
    scene = Image.open(require(DRIVEWAY)).convert("RGB")
    assert colour_model.classify_image(scene, top_k=1)[0].label == "grey"


def test_float_scores_match_a_numpy_reference(colour_model: Classifier) -> None:
    """The float input is scaled to [-1, 1] exactly as the model's weights assume."""
    image = photo("coffee")
    crop = colour_model.preprocess(image, (0, 0, image.width, image.height))
    mean = (crop.astype(np.float64) / 127.5 - 1.0).reshape(-1, 3).mean(axis=0)
    weights, bias = colour_weights(COLOURS, SHARPNESS)
    logits = weights.astype(np.float64) @ mean + bias
    expected = np.exp(logits - logits.max())
    expected /= expected.sum()
    top = colour_model.classify([crop], top_k=len(COLOURS))[0]
    got = {prediction.label: prediction.score for prediction in top}
    for index, label in enumerate(COLOURS):
        assert got[label] == pytest.approx(expected[index], abs=2e-3)


def test_float_model_without_softmax_gets_probabilities(tmp_path: Path) -> None:
    """A model that ends in logits: _scores applies the softmax itself."""
    with_softmax = Classifier(write_colour_model(tmp_path / "probabilities"))
    logits_only = Classifier(write_colour_model(tmp_path / "logits", softmax=False))
    image = photo("rocket")
    expected = with_softmax.classify_image(image, top_k=len(COLOURS))
    got = logits_only.classify_image(image, top_k=len(COLOURS))
    assert [p.label for p in got] == [p.label for p in expected]
    for mine, reference in zip(got, expected, strict=True):
        assert mine.score == pytest.approx(reference.score, abs=2e-3)
    assert sum(p.score for p in got) == pytest.approx(1.0, abs=2e-3)


def test_float_model_of_another_input_size(tmp_path: Path) -> None:
    classifier = Classifier(write_colour_model(tmp_path / "small", size=96))
    assert classifier.input_size == (96, 96)
    assert classifier.classify_image(photo("coffee"), top_k=1)[0].label == "red"


# --- folders that are not usable models --------------------------------------------------


def test_missing_folder_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"has no model\.tflite"):
        Classifier(tmp_path / "nowhere")


def test_corrupt_model_is_a_model_error(tmp_path: Path) -> None:
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / "model.tflite").write_bytes(np.random.default_rng(7).bytes(4096))
    (folder / "labels.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(ModelError, match="is not a usable TFLite model"):
        Classifier(folder)


def test_label_count_mismatch_is_a_model_error(tmp_path: Path) -> None:
    folder = write_colour_model(tmp_path / "mismatch")
    (folder / "labels.txt").write_text("red\ngreen\n", encoding="utf-8")
    with pytest.raises(ModelError, match="has 2 labels but the model has 5 outputs"):
        Classifier(folder)


def test_missing_labels_is_a_model_error(tmp_path: Path) -> None:
    folder = write_colour_model(tmp_path / "unlabelled")
    (folder / "labels.txt").unlink()
    with pytest.raises(ModelError, match=r"cannot read .*labels\.txt"):
        Classifier(folder)


def test_grey_input_model_is_refused(tmp_path: Path) -> None:
    folder = write_colour_model(tmp_path / "grey", {"dark": (20,), "light": (230,)})
    with pytest.raises(ModelError, match=r"does not take one RGB image"):
        Classifier(folder)
