"""MobileNet-style image classification with LiteRT (TFLite).

Works with float32 and quantized (uint8/int8) models, reading the input and output
quantization from the tensors themselves. The interpreter is not thread-safe, so every
call holds one lock; callers run `classify` in a worker thread, never on the event loop.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

_LOGGER = logging.getLogger(__name__)

_BACKENDS = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")


class ModelError(Exception):
    """The model folder is missing, incomplete or not a usable TFLite classifier."""


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    score: float


def interpreter_class() -> Any:
    """LiteRT's Interpreter, or tflite_runtime's when only the older package is installed.

    find_spec first, so a missing backend is never half-imported (a broken native import
    can take a Raspberry Pi process down).
    """
    for module_name in _BACKENDS:
        top = module_name.split(".", 1)[0]
        if importlib.util.find_spec(top) is None:
            continue
        return importlib.import_module(module_name).Interpreter
    raise ModelError("no TFLite runtime: install ai-edge-litert (or tflite-runtime)")


def read_labels(path: Path, outputs: int) -> list[str]:
    """labels.txt, one per line; a 1000-label file for a 1001-output model gains 'background'."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ModelError(f"cannot read {path}: {error.strerror}") from None
    labels = [line.split(":", 1)[-1].strip() if ":" in line else line.strip() for line in lines]
    while labels and not labels[-1]:
        labels.pop()
    if len(labels) == outputs - 1:
        labels.insert(0, "background")
    if len(labels) != outputs:
        raise ModelError(f"{path} has {len(labels)} labels but the model has {outputs} outputs")
    return labels


class Classifier:
    """A loaded model folder (`model.tflite` + `labels.txt`)."""

    def __init__(self, folder: Path, threads: int = 2) -> None:
        self.folder = folder
        model_file = folder / "model.tflite"
        if not model_file.is_file():
            raise ModelError(f"model folder {folder} has no model.tflite")
        try:
            self._interpreter = interpreter_class()(model_path=str(model_file), num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{model_file} is not a usable TFLite model: {error}") from None
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4 or inputs[0]["shape"][3] != 3:
            raise ModelError(f"{model_file} does not take one RGB image [1, H, W, 3]")
        self._input = inputs[0]
        self._output = outputs[0]
        self.input_size: tuple[int, int] = (int(inputs[0]["shape"][2]), int(inputs[0]["shape"][1]))
        self.labels = read_labels(folder / "labels.txt", int(outputs[0]["shape"][-1]))
        self._background = [i for i, label in enumerate(self.labels) if label == "background"]
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.folder.name

    def preprocess(self, image: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
        """Crop and resize in one resampling pass (PIL's resize with a source box)."""
        resized = image.resize(self.input_size, Image.Resampling.BILINEAR, box=box)
        return np.asarray(resized, dtype=np.uint8)

    def _to_input(self, crop: np.ndarray) -> np.ndarray:
        dtype = self._input["dtype"]
        scale, zero = self._input["quantization"]
        if dtype == np.float32:
            return (crop.astype(np.float32) / 127.5 - 1.0)[np.newaxis]
        if scale == 0:
            return crop.astype(dtype)[np.newaxis]
        real = crop.astype(np.float32) / 127.5 - 1.0
        info = np.iinfo(dtype)
        quantized = np.clip(np.round(real / scale + zero), info.min, info.max)
        return quantized.astype(dtype)[np.newaxis]

    def _scores(self, raw: np.ndarray) -> np.ndarray:
        scale, zero = self._output["quantization"]
        scores = raw.astype(np.float32)
        if raw.dtype != np.float32 and scale:
            scores = (scores - zero) * scale
        if scores.min() < 0 or scores.max() > 1.0001:  # logits, not probabilities
            exp = np.exp(scores - scores.max())
            scores = exp / exp.sum()
        return scores

    def classify(self, crops: Sequence[np.ndarray], top_k: int = 5) -> list[list[Prediction]]:
        """Top-k predictions for each crop (uint8 RGB arrays of the model's input size)."""
        results = []
        with self._lock:
            for crop in crops:
                self._interpreter.set_tensor(self._input["index"], self._to_input(crop))
                self._interpreter.invoke()
                raw = self._interpreter.get_tensor(self._output["index"])[0]
                results.append(self._top(self._scores(raw), top_k))
        return results

    def _top(self, scores: np.ndarray, top_k: int) -> list[Prediction]:
        scores[self._background] = -1.0
        count = min(top_k, scores.size)
        best = np.argpartition(scores, -count)[-count:]
        best = best[np.argsort(scores[best])[::-1]]
        return [Prediction(self.labels[i], round(float(scores[i]), 4)) for i in best]

    def classify_image(
        self, image: Image.Image, box: tuple[int, int, int, int] | None = None, top_k: int = 5
    ) -> list[Prediction]:
        box = box or (0, 0, image.width, image.height)
        return self.classify([self.preprocess(image, box)], top_k)[0]


def check_model_folder(folder: Path) -> str | None:
    """A warning when a model folder is not there yet (check-config), else None."""
    if not (folder / "model.tflite").is_file():
        return f"model folder {folder} has no model.tflite yet (run: clevercam models fetch NAME)"
    if not (folder / "labels.txt").is_file():
        return f"model folder {folder} has no labels.txt"
    return None
