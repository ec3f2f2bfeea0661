"""Learned classes without a running service: embeddings of real photos through the real
model, their storage in the history, training, states and the class-set files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from clevercam_mqtt import classifier as classifier_module
from clevercam_mqtt.classes.spec import ClassSetSpec
from clevercam_mqtt.classes.state import RoiState
from clevercam_mqtt.classes.storage import (
    ClassFileError,
    ClassSet,
    ExampleRecord,
    SetRecord,
    export_bytes,
    install,
    load_all,
    parse_export,
    save,
)
from clevercam_mqtt.classes.training import UNKNOWN, cross_validate, train
from clevercam_mqtt.classifier import Classifier, ModelError
from clevercam_mqtt.events import Event
from clevercam_mqtt.store import HistoryStore
from tests.helpers.classes import rewritten_export
from tests.helpers.float_model import write_colour_model
from tests.helpers.paths import MODEL_DIR, require
from tests.helpers.scenes import GATE_BOX, scene_jpeg
from tests.helpers.variations import (
    VISITOR_SPOT,
    Variation,
    cup_held_out,
    cup_training,
    embed,
    embed_all,
    visitor_held_out,
    visitor_training,
)


@pytest.fixture(scope="module")
def mobilenet() -> Classifier:
    return Classifier(require(MODEL_DIR))


@pytest.fixture(scope="module")
def cup_data(mobilenet: Classifier) -> dict[str, tuple[np.ndarray, list[str]]]:
    return {
        "train": embed_all(mobilenet, cup_training()),
        "held_out": embed_all(mobilenet, cup_held_out()),
    }


@pytest.fixture(scope="module")
def visitor_data(mobilenet: Classifier) -> dict[str, tuple[np.ndarray, list[str]]]:
    return {
        "train": embed_all(mobilenet, visitor_training()),
        "held_out": embed_all(mobilenet, visitor_held_out()),
    }


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


# --- embeddings ----------------------------------------------------------------------------


def test_one_inference_gives_labels_and_the_penultimate_vector(mobilenet: Classifier):
    cat, cup = scene_jpeg("cat"), scene_jpeg("espresso")
    assert mobilenet.embedding_size == 1280
    result = mobilenet.analyze([mobilenet.preprocess(*_crop(cat))])[0]
    plain = mobilenet.classify([mobilenet.preprocess(*_crop(cat))])[0]
    assert result.predictions == plain  # the labels are those of the plain path
    assert result.embedding is not None
    assert result.embedding.model == mobilenet.name
    vector = result.embedding.vector
    assert vector.shape == (1280,) and vector.dtype == np.float32 and vector.min() >= 0
    same_cat_darker = embed(mobilenet, Variation("cat", brightness=0.8).jpeg()).vector
    other = embed(mobilenet, cup).vector
    assert cosine(vector, same_cat_darker) > cosine(vector, other) + 0.2


def _crop(jpeg: bytes):
    from clevercam_mqtt.frame import JpegFrame, box_to_pixels

    image = JpegFrame(jpeg, datetime.now().astimezone()).rgb()
    return image, box_to_pixels(GATE_BOX, image.width, image.height)


def test_keeping_all_tensors_gives_the_same_embedding(
    mobilenet: Classifier, monkeypatch: pytest.MonkeyPatch
):
    """The fallback for runtimes without the schema module reads the very same tensor."""
    monkeypatch.setattr(classifier_module, "with_extra_output", lambda model, tensor: None)
    fallback = Classifier(require(MODEL_DIR))
    frame = scene_jpeg("espresso")
    expected = embed(mobilenet, frame)
    assert np.allclose(embed(fallback, frame).vector, expected.vector)


def test_a_model_without_such_a_layer_is_refused_clearly(tmp_path: Path):
    colour = Classifier(write_colour_model(tmp_path / "colour"))
    assert colour.embedding_size is None
    with pytest.raises(ModelError, match="gives no embedding: the layer before its logits"):
        colour.require_embeddings()
    image, box = _crop(scene_jpeg("cat"))
    result = colour.analyze([colour.preprocess(image, box)])[0]
    assert result.embedding is None and result.predictions  # labels still work


def test_the_history_keeps_each_events_embedding_and_drops_it_with_the_event(
    tmp_path: Path, mobilenet: Classifier
):
    store = HistoryStore(tmp_path / "history")
    store.open()
    frame = scene_jpeg("cat")
    embedding = embed(mobilenet, frame)
    now = datetime.now().astimezone()
    with_vector = Event("e1", "cam", "gate", ["tabby"], [0.5], 0.1, now, "e1", frame,
                        embedding=embedding)  # fmt: skip
    without = Event("e2", "cam", "gate", ["tabby"], [0.5], 0.1, now, "e1", frame)
    store.add(with_vector)
    store.add(without)
    found = store.embeddings(["e1", "e2", "nope"])
    assert set(found) == {"e1"}
    assert found["e1"].model == mobilenet.name
    assert np.array_equal(found["e1"].vector, embedding.vector)
    store.delete(["e1"])
    assert store.embeddings(["e1"]) == {}
    count = store.db.execute("SELECT COUNT(*) FROM event_embeddings").fetchone()[0]
    assert count == 0
    store.close()


# --- training ------------------------------------------------------------------------------


def accuracy(vectors: np.ndarray, labels: list[str], model) -> float:
    predicted = [label for label, _ in model.predict(vectors)]
    return float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)]))


def test_cup_or_empty_on_variations_not_used_for_training(cup_data):
    vectors, labels = cup_data["train"]
    model = train(vectors, labels, ["cup", "empty"])
    assert accuracy(*cup_data["held_out"], model) >= 0.95
    evaluation = cross_validate(vectors, labels, ["cup", "empty"])
    assert evaluation.folds == 5 and evaluation.accuracy is not None
    assert evaluation.accuracy >= 0.95
    matrix = np.asarray(evaluation.confusion)
    assert matrix.shape == (2, 3) and matrix.sum() == len(labels)
    assert matrix.sum(axis=1).tolist() == [labels.count("cup"), labels.count("empty")]


def test_two_visitors_apart_and_a_stranger_is_unknown(visitor_data, mobilenet: Classifier):
    vectors, labels = visitor_data["train"]
    model = train(vectors, labels, ["cat", "astronaut"])
    assert accuracy(*visitor_data["held_out"], model) >= 0.95
    moped = embed(mobilenet, Variation("moped", VISITOR_SPOT).jpeg()).vector
    empty = embed(mobilenet, scene_jpeg("empty")).vector
    assert [label for label, _ in model.predict(np.stack([moped, empty]))] == [UNKNOWN] * 2


def test_training_on_500_examples(mobilenet: Classifier):
    """500 real crops: ROI-sized windows sliding over the cat and the astronaut scenes."""
    vectors, labels = [], []
    for name in ("cat", "astronaut"):
        image, (x0, y0, x1, y1) = _crop(Variation(name, VISITOR_SPOT).jpeg())
        width, height = x1 - x0, y1 - y0
        boxes = [
            (x0 + dx, y0 + dy, x0 + dx + int(width * scale), y0 + dy + int(height * scale))
            for scale in (0.8, 0.9, 1.0)
            for dx in range(0, 50, 5)
            for dy in range(0, 45, 5)
        ][:250]
        crops = [mobilenet.preprocess(image, box) for box in boxes]
        vectors += [r.embedding.vector for r in mobilenet.analyze(crops)]  # type: ignore[union-attr]
        labels += [name] * len(crops)
    assert len(labels) == 500
    model = train(np.stack(vectors), labels, ["cat", "astronaut"])
    evaluation = cross_validate(np.stack(vectors), labels, ["cat", "astronaut"])
    assert evaluation.accuracy is not None and evaluation.accuracy >= 0.95
    assert accuracy(np.stack(vectors), labels, model) >= 0.95


def test_a_state_needs_two_verdicts_in_a_row_and_ignores_unknown():
    roi = RoiState()
    assert roi.update("empty", 0.9) and roi.state == "empty"  # the first verdict counts
    assert not roi.update("cup", 0.8) and roi.candidate == "cup"
    assert roi.due(now=0.0, interval=60)  # the confirmation is asked for at once
    assert not roi.update("empty", 0.9) and roi.candidate is None  # one odd frame
    assert not roi.update("cup", 0.8)
    assert not roi.update(UNKNOWN, 0.2) and roi.candidate is None and roi.state == "empty"
    assert not roi.update("cup", 0.8)
    assert roi.update("cup", 0.85) and roi.state == "cup" and roi.score == 0.85


def test_a_class_set_needs_two_classes_and_state_mode_rois():
    with pytest.raises(ValueError, match="at least 2"):
        ClassSetSpec(name="x", classes=["one"])
    with pytest.raises(ValueError, match="needs at least one ROI"):
        ClassSetSpec(name="x", classes=["open", "closed"], mode="state")
    with pytest.raises(ValueError, match="reserved"):
        ClassSetSpec(name="x", classes=["unknown", "b"])
    with pytest.raises(ValueError, match="listed twice"):
        ClassSetSpec(name="x", classes=["Mia", "mia"])
    spec = ClassSetSpec(name="Bins out", classes=["out", "none"], rois=["drive/bins"])
    assert spec.slug == "bins_out" and spec.applies_to("drive", "bins")
    assert not spec.applies_to("drive", "gate")


# --- files ---------------------------------------------------------------------------------


def trained_set(cup_data, model_name: str) -> ClassSet:
    vectors, labels = cup_data["train"]
    spec = ClassSetSpec(name="Cup", classes=["cup", "empty"], rois=["cam/gate"], mode="state")
    examples = [
        ExampleRecord(id=f"x{i}", label=label, source="capture", created="2026-11-25T10:00:00")
        for i, label in enumerate(labels)
    ]
    record = SetRecord(spec=spec, model=model_name, dim=vectors.shape[1], examples=examples)
    thumbs = {e.id: b"\xff\xd8jpeg" + e.id.encode() for e in examples}
    return ClassSet(record, vectors, train(vectors, labels, spec.classes), thumbs)


def test_export_and_import_give_the_same_set(tmp_path: Path, cup_data, mobilenet: Classifier):
    original = trained_set(cup_data, mobilenet.name)
    save(tmp_path / "a", original)
    data = export_bytes(tmp_path / "a", original)
    assert b"pickle" not in data[:200]
    copy = parse_export(data, mobilenet.name, 1280)
    install(tmp_path / "b", copy)
    (loaded,) = load_all(tmp_path / "b")
    assert loaded.record == original.record
    assert np.array_equal(loaded.vectors, original.vectors)
    assert loaded.trained is not None and original.trained is not None
    assert np.allclose(loaded.trained.centroids, original.trained.centroids)
    held_out, _ = cup_data["held_out"]
    assert loaded.trained.predict(held_out) == original.trained.predict(held_out)
    thumb = tmp_path / "b" / "cup" / "thumbs" / "x3.jpg"
    assert thumb.read_bytes() == b"\xff\xd8jpegx3"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[: len(d) // 2], "not a class-set file"),
        (lambda d: b"PK\x03\x04" + bytes(100), "not a class-set file"),
        (lambda d: rewritten_export(d, model="mobilenet_v2_1.0"), "made with model mobilenet_v2"),
        (lambda d: rewritten_export(d, dim=1024), "vectors must be 21 x 1024"),
        (lambda d: rewritten_export(d, vectors=np.zeros((21, 3), np.float32)), "vectors must be"),
        (lambda d: rewritten_export(d, format=7), "format"),
        (lambda d: rewritten_export(d, spec={"name": "Cup", "classes": ["cup"]}), "spec.classes"),
        (lambda d: rewritten_export(d, ids=np.asarray(["a"] * 21)), "do not belong"),
    ],
)
def test_a_corrupt_or_mismatched_file_is_refused(
    tmp_path: Path, cup_data, mobilenet: Classifier, mutate, message: str
):
    original = trained_set(cup_data, mobilenet.name)
    save(tmp_path, original)
    with pytest.raises(ClassFileError, match=message):
        parse_export(mutate(export_bytes(tmp_path, original)), mobilenet.name, 1280)


def test_a_pickled_array_is_never_loaded(tmp_path: Path, cup_data, mobilenet: Classifier):
    original = trained_set(cup_data, mobilenet.name)
    save(tmp_path, original)
    data = export_bytes(tmp_path, original)
    evil = rewritten_export(data, vectors=np.asarray([{"x": 1}] * 21, dtype=object))
    with pytest.raises(ClassFileError, match="not a class-set file"):
        parse_export(evil, mobilenet.name, 1280)
