"""Learned classes: what the embeddings cost, and which classifier to train on them.

1. Inference per crop with the shared MobileNet V3: the plain interpreter, the one that
   keeps every tensor (`experimental_preserve_all_tensors=True`), and the one loaded with
   the embedding tensor added to the model's outputs (what `Classifier` does). Interleaved
   rounds, median and range.
2. Nearest centroids with a rejection threshold (`clevercam_mqtt.classes.training`, what
   the service keeps) against scikit-learn's LogisticRegression, on the tests' real images
   (tests/helpers/variations.py): held-out accuracy of "cup / empty" and of two visitors,
   5-fold cross-validated accuracy, what each makes of things it never saw (a moped, the
   empty lawn, shown to the visitor set), and training time for 500 examples.
   scikit-learn is not a dependency of clevercam: `pip install scikit-learn` to compare.

    python -m bench.classes [--rounds 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from clevercam_mqtt.classes.training import UNKNOWN, cross_validate, folds_of, normalized, train
from clevercam_mqtt.classifier import (
    Classifier,
    find_embedding_tensor,
    interpreter_class,
    with_extra_output,
)
from tests.helpers.paths import MODEL_DIR, require
from tests.helpers.variations import (
    VISITOR_SPOT,
    Variation,
    cup_held_out,
    cup_training,
    embed,
    embed_all,
    visitor_held_out,
    visitor_training,
    visitors,
)

PLAIN = "plain (no embedding)"
# (C, threshold): a probability below the threshold is 'unknown'; C is the inverse of the
# regularisation, scikit-learn's default 1.0, or 10 for sharper probabilities.
LR_VARIANTS = ((1.0, 0.5), (1.0, 0.8), (10.0, 0.8))


def spread(values: Sequence[float], unit: str, digits: int = 2) -> str:
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


# --- 1. inference cost --------------------------------------------------------------------


def interpreters(threads: int) -> dict[str, tuple[Any, int | None]]:
    """name -> (interpreter, embedding tensor index or None)."""
    model_file = require(MODEL_DIR) / "model.tflite"
    make = interpreter_class()
    plain = make(model_path=str(model_file), num_threads=threads)
    plain.allocate_tensors()
    tensor = find_embedding_tensor(plain)
    assert isinstance(tensor, int), tensor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LiteRT warns that preserving is for debugging
        preserve = make(
            model_path=str(model_file), num_threads=threads, experimental_preserve_all_tensors=True
        )
    patched_model = with_extra_output(model_file.read_bytes(), tensor)
    assert patched_model is not None
    patched = make(model_content=patched_model, num_threads=threads)
    for interpreter in (preserve, patched):
        interpreter.allocate_tensors()
    return {
        PLAIN: (plain, None),
        "preserve_all_tensors": (preserve, tensor),
        "embedding as an output": (patched, tensor),
    }


def inference_cost(rounds: int, calls: int = 50, threads: int = 2) -> None:
    model = Classifier(require(MODEL_DIR), threads)
    crops = [
        model.preprocess(image, (0, 0, image.width, image.height))
        for image in (Variation(name, VISITOR_SPOT).frame() for name in ("cat", "astronaut"))
    ]
    inputs = [model._to_input(crop) for crop in crops]
    candidates = interpreters(threads)
    times: dict[str, list[float]] = {name: [] for name in candidates}
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, (interpreter, tensor) in candidates.items():
            input_index = interpreter.get_input_details()[0]["index"]
            output_index = interpreter.get_output_details()[0]["index"]
            started, started_cpu = time.perf_counter(), time.process_time()
            for call in range(calls):
                interpreter.set_tensor(input_index, inputs[call % len(inputs)])
                interpreter.invoke()
                interpreter.get_tensor(output_index)
                if tensor is not None:
                    interpreter.get_tensor(tensor)
            times[name].append((time.perf_counter() - started) / calls * 1000)
            cpu[name].append((time.process_time() - started_cpu) / calls * 1000)
    print(f"Inference per crop, {threads} threads, {rounds} rounds of {calls} (wall, CPU):")
    for name in candidates:
        extra = [
            (statistics.median(series[name]) / statistics.median(series[PLAIN]) - 1) * 100
            for series in (times, cpu)
        ]
        print(
            f"  {name:24s} wall {spread(times[name], 'ms', 3)} {extra[0]:+.1f} %, "
            f"CPU {spread(cpu[name], 'ms', 3)} {extra[1]:+.1f} %"
        )


# --- 2. classifiers -----------------------------------------------------------------------

Trainer = Callable[[np.ndarray, Sequence[str], Sequence[str]], Callable[[np.ndarray], list[str]]]


def centroids(vectors: np.ndarray, labels: Sequence[str], classes: Sequence[str]):
    model = train(vectors, labels, classes)
    return lambda x: [label for label, _ in model.predict(x)]


def logistic(strength: float, threshold: float) -> Trainer:
    def fit(vectors: np.ndarray, labels: Sequence[str], classes: Sequence[str]):
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=strength, max_iter=1000)
        model.fit(normalized(vectors), list(labels))

        def predict(x: np.ndarray) -> list[str]:
            probabilities = model.predict_proba(normalized(np.atleast_2d(x)))
            best = probabilities.argmax(axis=1)
            return [
                str(model.classes_[i]) if p[i] >= threshold else UNKNOWN
                for i, p in zip(best, probabilities, strict=True)
            ]

        return predict

    return fit


def accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    return float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))


def cv_accuracy(trainer: Trainer, vectors: np.ndarray, labels: list[str], classes: list[str]):
    folds = folds_of(labels, classes, 5)
    truth = np.asarray(labels)
    right = 0
    for held in range(5):
        predict = trainer(vectors[folds != held], truth[folds != held], classes)
        right += sum(
            p == t
            for p, t in zip(predict(vectors[folds == held]), truth[folds == held], strict=True)
        )
    return right / len(labels)


def compare(model: Classifier, rounds: int) -> None:
    trainers: dict[str, Trainer] = {"nearest centroids": centroids}
    if importlib.util.find_spec("sklearn") is not None:
        for strength, threshold in LR_VARIANTS:
            name = f"LogisticRegression C={strength:g} p>={threshold}"
            trainers[name] = logistic(strength, threshold)
    else:
        print("scikit-learn is not installed: comparing nothing (pip install scikit-learn)")
    data = {
        "cup / empty": (cup_training(), cup_held_out(), ["cup", "empty"]),
        "cat / astronaut": (visitor_training(), visitor_held_out(), ["cat", "astronaut"]),
    }
    embedded = {
        name: (embed_all(model, train_items), embed_all(model, test_items), classes)
        for name, (train_items, test_items, classes) in data.items()
    }
    strangers = {
        "moped": embed(model, Variation("moped", VISITOR_SPOT).jpeg()).vector,
        "empty lawn": embed(model, Variation(None).jpeg()).vector,
        "espresso": embed(model, Variation("espresso", VISITOR_SPOT).jpeg()).vector,
    }
    for name, ((train_x, train_y), (test_x, test_y), classes) in embedded.items():
        print(f"{name}: {len(train_y)} training examples, {len(test_y)} held-out variations")
        for method, trainer in trainers.items():
            predict = trainer(train_x, train_y, classes)
            print(
                f"  {method:34s} held-out accuracy {accuracy(predict(test_x), test_y):.3f}, "
                f"5-fold CV {cv_accuracy(trainer, train_x, train_y, classes):.3f}"
            )
    train_x, train_y = embedded["cat / astronaut"][0]
    print("Never-seen things shown to the cat / astronaut set (want: unknown):")
    for method, trainer in trainers.items():
        predict = trainer(train_x, train_y, ["cat", "astronaut"])
        verdicts = predict(np.stack(list(strangers.values())))
        print(
            f"  {method:34s} "
            + ", ".join(f"{k}: {v}" for k, v in zip(strangers, verdicts, strict=True))
        )
    ours = cross_validate(train_x, train_y, ["cat", "astronaut"])
    print(f"  (the service's own CV report on that set: {ours.accuracy}, {ours.confusion})")

    vectors, labels = five_hundred(model)
    print(f"Training on {len(labels)} examples ({rounds} runs):")
    for method, trainer in trainers.items():
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            trainer(vectors, labels, ["cat", "astronaut"])
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {method:34s} {spread(times, 'ms', 1)}")
    times = []
    for _ in range(max(3, rounds // 4)):
        started = time.perf_counter()
        train(vectors, labels, ["cat", "astronaut"])
        cross_validate(vectors, labels, ["cat", "astronaut"])
        times.append((time.perf_counter() - started) * 1000)
    print(f"  the service's training (centroids + 5-fold CV) {spread(times, 'ms', 1)}")


def five_hundred(model: Classifier) -> tuple[np.ndarray, list[str]]:
    """500 real examples: every crop and light of both visitors, more lights than the tests."""
    from tests.helpers.variations import PHOTO_CROPS

    light = tuple(np.linspace(0.5, 1.4, 42))
    items = visitors(PHOTO_CROPS, light)[:500]
    return embed_all(model, items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    inference_cost(args.rounds, threads=args.threads)
    compare(Classifier(require(MODEL_DIR)), args.rounds)


if __name__ == "__main__":
    main()
