"""A tiny float32 TFLite colour classifier, written from scratch for the tests.

No TensorFlow is needed: the model is packed with the flatbuffers schema module that
ai-edge-litert ships (`schema_py_generated`). The graph is the smallest one that still
looks like a MobileNet to `Classifier`: float32 [1, H, W, 3] in, MEAN over H and W,
FULLY_CONNECTED to one logit per class, SOFTMAX out (or the raw logits).

Each class has a prototype colour, and the weights make the logits the (scaled)
negative squared distance between the image's mean colour and each prototype, so the
winning label is the colour nearest to the image's average: a real photo of espresso
comes out "red", a night sky "black", a grey driveway "grey".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import flatbuffers
import numpy as np

try:
    from ai_edge_litert import schema_py_generated as schema
except ImportError:  # pragma: no cover - only with tflite_runtime installed instead
    schema = None

# Prototype colours (RGB 0..255) of the default model, chosen for skimage's photos.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (170, 70, 50),
    "green": (60, 150, 60),
    "blue": (50, 60, 120),
    "grey": (150, 150, 150),
    "black": (15, 15, 15),
}
SHARPNESS = 20.0  # logit = -SHARPNESS * squared distance in the model's [-1, 1] units


def _normalized(rgb: tuple[int, ...]) -> np.ndarray:
    """The same mapping as Classifier._to_input for float models: 0..255 -> -1..1."""
    return np.asarray(rgb, dtype=np.float32) / 127.5 - 1.0


def colour_weights(
    colours: Mapping[str, tuple[int, ...]], sharpness: float = SHARPNESS
) -> tuple[np.ndarray, np.ndarray]:
    """FULLY_CONNECTED weights [N, C] and bias [N] of a nearest-prototype classifier.

    -k * |m - p|^2 = k * (2 m.p - |p|^2) - k * |m|^2; the last term is the same for every
    class, so a linear layer gives the same ranking (and, after softmax, the same scores).
    """
    prototypes = np.stack([_normalized(rgb) for rgb in colours.values()])
    weights = (2.0 * sharpness * prototypes).astype(np.float32)
    bias = (-sharpness * (prototypes**2).sum(axis=1)).astype(np.float32)
    return weights, bias


def build_colour_model(
    colours: Mapping[str, tuple[int, ...]] = COLOURS,
    *,
    size: int = 224,
    softmax: bool = True,
) -> bytes:
    """The .tflite bytes; channels follow the prototypes (3 for RGB, 1 for a grey model)."""
    if schema is None:
        raise RuntimeError("ai_edge_litert.schema_py_generated is needed to build a model")
    channels = len(next(iter(colours.values())))
    classes = len(colours)
    weights, bias = colour_weights(colours)

    buffers = [schema.BufferT()]  # buffer 0: the empty sentinel every tensor without data uses

    def constant(values: np.ndarray) -> int:
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(np.ascontiguousarray(values).tobytes(), dtype=np.uint8)
        buffers.append(buffer)
        return len(buffers) - 1

    def tensor(name: str, shape: list[int], dtype: int, buffer: int = 0) -> schema.TensorT:
        result = schema.TensorT()
        result.name = name
        result.shape = np.asarray(shape, dtype=np.int32)
        result.type = dtype
        result.buffer = buffer
        return result

    f32, i32 = schema.TensorType.FLOAT32, schema.TensorType.INT32
    tensors = [
        tensor("image", [1, size, size, channels], f32),
        tensor("mean_axes", [2], i32, constant(np.asarray([1, 2], dtype=np.int32))),
        tensor("mean_colour", [1, channels], f32),
        tensor("weights", [classes, channels], f32, constant(weights)),
        tensor("bias", [classes], f32, constant(bias)),
        tensor("logits", [1, classes], f32),
    ]
    if softmax:
        tensors.append(tensor("scores", [1, classes], f32))

    codes = [schema.BuiltinOperator.MEAN, schema.BuiltinOperator.FULLY_CONNECTED]
    if softmax:
        codes.append(schema.BuiltinOperator.SOFTMAX)
    operator_codes = []
    for code in codes:
        operator_code = schema.OperatorCodeT()
        operator_code.builtinCode = code
        operator_code.deprecatedBuiltinCode = min(code, 127)
        operator_code.version = 1
        operator_codes.append(operator_code)

    mean = schema.OperatorT()
    mean.opcodeIndex, mean.inputs, mean.outputs = 0, [0, 1], [2]
    mean.builtinOptionsType = schema.BuiltinOptions.ReducerOptions
    mean.builtinOptions = schema.ReducerOptionsT()
    mean.builtinOptions.keepDims = False

    dense = schema.OperatorT()
    dense.opcodeIndex, dense.inputs, dense.outputs = 1, [2, 3, 4], [5]
    dense.builtinOptionsType = schema.BuiltinOptions.FullyConnectedOptions
    dense.builtinOptions = schema.FullyConnectedOptionsT()
    operators = [mean, dense]

    if softmax:
        probabilities = schema.OperatorT()
        probabilities.opcodeIndex, probabilities.inputs, probabilities.outputs = 2, [5], [6]
        probabilities.builtinOptionsType = schema.BuiltinOptions.SoftmaxOptions
        probabilities.builtinOptions = schema.SoftmaxOptionsT()
        probabilities.builtinOptions.beta = 1.0  # the schema's default is 0: all-equal scores
        operators.append(probabilities)

    subgraph = schema.SubGraphT()
    subgraph.tensors = tensors
    subgraph.inputs = [0]
    subgraph.outputs = [len(tensors) - 1]
    subgraph.operators = operators
    subgraph.name = "main"

    model = schema.ModelT()
    model.version = 3
    model.description = "clevercam test colour classifier"
    model.operatorCodes = operator_codes
    model.subgraphs = [subgraph]
    model.buffers = buffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def write_colour_model(
    folder: Path,
    colours: Mapping[str, tuple[int, ...]] = COLOURS,
    *,
    size: int = 224,
    softmax: bool = True,
) -> Path:
    """A model folder (model.tflite + labels.txt) as Classifier expects it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.tflite").write_bytes(build_colour_model(colours, size=size, softmax=softmax))
    (folder / "labels.txt").write_text("".join(f"{name}\n" for name in colours), encoding="utf-8")
    return folder
