"""MobileNet-style image classification with LiteRT (TFLite).

Works with float32 and quantized (uint8/int8) models, reading the input and output
quantization from the tensors themselves. The interpreter is not thread-safe, so every
call holds one lock; callers run `classify` in a worker thread, never on the event loop.

The same inference also yields an embedding: the activations that feed the model's last
(logits) layer, pooled to one vector. The model is loaded with that tensor added to its
outputs, which costs nothing measurable per crop (keeping every tensor alive instead,
`experimental_preserve_all_tensors`, costs 4-6 %); that is only the fallback when the
flatbuffers schema module is missing (tflite_runtime).
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
# Ops between the logits layer and the model's output that do not change what it means.
_PASSTHROUGH_OPS = {"SOFTMAX", "RESHAPE", "SQUEEZE", "DEQUANTIZE", "QUANTIZE", "LOGISTIC"}
_LOGITS_OPS = {"FULLY_CONNECTED", "CONV_2D"}
MIN_EMBEDDING_SIZE = 32


class ModelError(Exception):
    """The model folder is missing, incomplete or not a usable TFLite classifier."""


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Embedding:
    """A crop's penultimate activations; `model` says which model made them (they never mix)."""

    model: str
    vector: np.ndarray


@dataclass(frozen=True, slots=True)
class CropResult:
    predictions: list[Prediction]
    embedding: Embedding | None


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


def find_embedding_tensor(interpreter: Any) -> int | str:
    """Index of the tensor that feeds the logits layer, or why the model has none.

    Walks back from the output through ops that keep the meaning (softmax, reshape...) to
    the first fully-connected or 1x1-conv layer: its data input is the embedding.
    """
    try:
        ops = [op for op in interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
    except AttributeError:
        return "this TFLite runtime cannot list the model's layers"
    producer = {int(out): op for op in ops for out in op["outputs"]}
    tensor = int(interpreter.get_output_details()[0]["index"])
    while (op := producer.get(tensor)) is not None and op["op_name"] in _PASSTHROUGH_OPS:
        tensor = int(op["inputs"][0])
    if op is None or op["op_name"] not in _LOGITS_OPS:
        return "its output does not come from a fully-connected or 1x1 convolution layer"
    features = int(op["inputs"][0])
    if features in {int(d["index"]) for d in interpreter.get_input_details()}:
        return "its logits layer reads the image itself"
    details = {int(d["index"]): d for d in interpreter.get_tensor_details()}
    shape = details[features]["shape"]
    if int(shape[-1]) < MIN_EMBEDDING_SIZE:
        return f"the layer before its logits has only {int(shape[-1])} values"
    return features


def with_extra_output(model: bytes, tensor: int) -> bytes | None:
    """The model with `tensor` added to its outputs, or None without the schema module."""
    try:
        import flatbuffers  # type: ignore[import-untyped,unused-ignore]
        from ai_edge_litert import schema_py_generated as schema  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    subgraph = parsed.subgraphs[0]
    subgraph.outputs = [*list(subgraph.outputs), tensor]
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(parsed.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class Classifier:
    """A loaded model folder (`model.tflite` + `labels.txt`)."""

    def __init__(self, folder: Path, threads: int = 2) -> None:
        self.folder = folder
        model_file = folder / "model.tflite"
        if not model_file.is_file():
            raise ModelError(f"model folder {folder} has no model.tflite")
        self._interpreter = self._load(model_file, threads)
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

    def _load(self, model_file: Path, threads: int) -> Any:
        """The interpreter, loaded so that the embedding tensor stays readable after invoke()."""
        self._embedding: dict[str, Any] | None = None
        self.embedding_error: str | None = None
        try:
            interpreter = interpreter_class()(model_path=str(model_file), num_threads=threads)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{model_file} is not a usable TFLite model: {error}") from None
        try:
            found = find_embedding_tensor(interpreter)
            if isinstance(found, str):
                self.embedding_error = f"model {self.name} gives no embedding: {found}"
                return interpreter
            with_embedding = self._with_embedding(model_file, threads, found)
        except Exception as error:  # an unusual model must still classify, without embeddings
            self.embedding_error = f"model {self.name} gives no embedding: {error}"
            _LOGGER.warning("%s", self.embedding_error)
            return interpreter
        self._embedding = next(
            d for d in with_embedding.get_tensor_details() if d["index"] == found
        )
        return with_embedding

    @staticmethod
    def _with_embedding(model_file: Path, threads: int, tensor: int) -> Any:
        patched = with_extra_output(model_file.read_bytes(), tensor)
        if patched is not None:
            interpreter = interpreter_class()(model_content=patched, num_threads=threads)
        else:
            interpreter = interpreter_class()(
                model_path=str(model_file),
                num_threads=threads,
                experimental_preserve_all_tensors=True,
            )
        interpreter.allocate_tensors()
        return interpreter

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def embedding_size(self) -> int | None:
        """Length of the embedding vectors, or None when the model gives none."""
        return int(self._embedding["shape"][-1]) if self._embedding else None

    def require_embeddings(self) -> int:
        """The embedding size; a clear ModelError for models that have no such layer."""
        if self._embedding is None:
            raise ModelError(self.embedding_error or f"model {self.name} gives no embedding")
        return int(self._embedding["shape"][-1])

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

    def _pooled(self) -> np.ndarray:
        """The embedding tensor after invoke(): dequantized, averaged over any spatial axes."""
        assert self._embedding is not None
        raw = self._interpreter.get_tensor(self._embedding["index"])
        values = raw.reshape(-1, raw.shape[-1]).astype(np.float32)
        scale, zero = self._embedding["quantization"]
        if raw.dtype != np.float32 and scale:
            values = (values - zero) * scale
        return values.mean(axis=0)

    def analyze(
        self, crops: Sequence[np.ndarray], top_k: int = 5, embed: bool = True
    ) -> list[CropResult]:
        """Top-k predictions and (when the model has one) the embedding, one inference a crop."""
        results = []
        embed = embed and self._embedding is not None
        with self._lock:
            for crop in crops:
                self._interpreter.set_tensor(self._input["index"], self._to_input(crop))
                self._interpreter.invoke()
                raw = self._interpreter.get_tensor(self._output["index"])[0]
                embedding = Embedding(self.name, self._pooled()) if embed else None
                results.append(CropResult(self._top(self._scores(raw), top_k), embedding))
        return results

    def classify(self, crops: Sequence[np.ndarray], top_k: int = 5) -> list[list[Prediction]]:
        """Top-k predictions for each crop (uint8 RGB arrays of the model's input size)."""
        return [result.predictions for result in self.analyze(crops, top_k, embed=False)]

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
