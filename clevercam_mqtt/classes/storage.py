"""Class sets on disk as plain data: `set.json` + `data.npz` + example thumbnails.

Nothing is ever pickled: numpy loads with `allow_pickle=False`, and the JSON is validated
with pydantic. A file from elsewhere (an import) is checked whole before it replaces
anything, and the swap is a rename, so a bad file never costs the running set.

    <root>/<slug>/set.json      definition, examples, last training's figures
    <root>/<slug>/data.npz      ids, vectors (and centroids, thresholds once trained)
    <root>/<slug>/thumbs/ID.jpg what each example looked like (to spot bad ones)

An export is one .npz holding all three (`meta` is the JSON text).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import format_validation_error
from .spec import ClassSetSpec
from .training import Centroids

_LOGGER = logging.getLogger(__name__)
SET_FILE, DATA_FILE, THUMBS = "set.json", "data.npz", "thumbs"
MAX_EXAMPLES = 5000


class ClassFileError(Exception):
    """A class-set file (an import, or one on disk) is corrupt or does not fit this model."""


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExampleRecord(Record):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    label: str
    source: Literal["event", "capture"]
    event_id: str | None = None
    camera: str | None = None
    roi: str | None = None
    created: str


class TrainingRecord(Record):
    trained_at: str
    examples: int
    seconds: float
    accuracy: float | None
    folds: int
    labels: list[str]
    confusion: list[list[int]]
    thresholds: dict[str, float]


class SetRecord(Record):
    format: Literal[1] = 1
    spec: ClassSetSpec
    model: str
    dim: int = Field(ge=1)
    examples: list[ExampleRecord] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    training: TrainingRecord | None = None


@dataclass
class ClassSet:
    """A class set in memory: its record, the example vectors (rows follow `examples`)."""

    record: SetRecord
    vectors: np.ndarray
    trained: Centroids | None = None
    thumbs: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def spec(self) -> ClassSetSpec:
        return self.record.spec

    @property
    def slug(self) -> str:
        return self.record.spec.slug

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.spec.classes, 0)
        for example in self.record.examples:
            counts[example.label] = counts.get(example.label, 0) + 1
        return counts


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _arrays(class_set: ClassSet) -> dict[str, np.ndarray]:
    arrays = {
        "ids": np.asarray([e.id for e in class_set.record.examples], dtype=np.str_),
        "vectors": np.asarray(class_set.vectors, dtype="<f4"),
    }
    if class_set.trained is not None:
        arrays["classes"] = np.asarray(class_set.trained.classes, dtype=np.str_)
        arrays["centroids"] = np.asarray(class_set.trained.centroids, dtype="<f4")
        arrays["thresholds"] = np.asarray(class_set.trained.thresholds, dtype="<f4")
    return arrays


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    out = io.BytesIO()
    np.savez(out, allow_pickle=False, **arrays)
    return out.getvalue()


def save(root: Path, class_set: ClassSet) -> None:
    """Write the set's data, then its JSON (the JSON names what the data must hold)."""
    _save_into(root / class_set.slug, class_set)


def _save_into(folder: Path, class_set: ClassSet) -> None:
    (folder / THUMBS).mkdir(parents=True, exist_ok=True)
    for example_id, data in class_set.thumbs.items():
        path = folder / THUMBS / f"{example_id}.jpg"
        if data and not path.exists():
            _write_atomic(path, data)
    _write_atomic(folder / DATA_FILE, _npz(_arrays(class_set)))
    _write_atomic(folder / SET_FILE, class_set.record.model_dump_json(indent=1).encode())
    known = {f"{e.id}.jpg" for e in class_set.record.examples}
    for path in (folder / THUMBS).iterdir():
        if path.name not in known:
            path.unlink(missing_ok=True)
    class_set.thumbs.clear()


def thumb_path(root: Path, slug: str, example_id: str) -> Path:
    return root / slug / THUMBS / f"{example_id}.jpg"


def remove(root: Path, slug: str) -> None:
    shutil.rmtree(root / slug, ignore_errors=True)


def _parse(meta: Any, arrays: dict[str, np.ndarray]) -> ClassSet:
    """A ClassSet from JSON and arrays, or ClassFileError naming what is wrong."""
    try:
        record = SetRecord.model_validate(meta)
    except ValidationError as error:
        raise ClassFileError(format_validation_error(error)) from None
    ids, vectors = arrays.get("ids"), arrays.get("vectors")
    if ids is None or vectors is None:
        raise ClassFileError("data: 'ids' and 'vectors' are missing")
    count = len(record.examples)
    if vectors.ndim != 2 or vectors.shape != (count, record.dim) or vectors.dtype.kind != "f":
        raise ClassFileError(
            f"data: vectors must be {count} x {record.dim} numbers, got {vectors.shape}"
        )
    if [str(i) for i in ids] != [e.id for e in record.examples]:
        raise ClassFileError("data: the vectors do not belong to the listed examples")
    if not np.all(np.isfinite(vectors)):
        raise ClassFileError("data: vectors hold values that are not numbers")
    if len({e.id for e in record.examples}) != count:
        raise ClassFileError("examples: two examples share an id")
    for example in record.examples:
        if example.label not in record.spec.classes:
            raise ClassFileError(f"examples: {example.id} has the unknown class {example.label!r}")
    return ClassSet(record, vectors.astype(np.float32), _trained(record, arrays))


def _trained(record: SetRecord, arrays: dict[str, np.ndarray]) -> Centroids | None:
    if "centroids" not in arrays:
        return None
    classes = [str(name) for name in arrays.get("classes", [])]
    centroids, thresholds = arrays["centroids"], arrays.get("thresholds")
    if (
        classes != record.spec.classes
        or thresholds is None
        or centroids.shape != (len(classes), record.dim)
        or thresholds.shape != (len(classes),)
        or not np.all(np.isfinite(centroids))
    ):
        raise ClassFileError("data: the trained centroids do not match the class set")
    return Centroids(classes, centroids.astype(np.float32), thresholds.astype(np.float32))


def _load_npz(data: bytes | Path) -> dict[str, np.ndarray]:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with np.load(source, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ClassFileError(f"not a class-set file: {error}") from None


def load(folder: Path) -> ClassSet:
    try:
        meta = json.loads((folder / SET_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ClassFileError(f"{folder / SET_FILE}: {error}") from None
    class_set = _parse(meta, _load_npz(folder / DATA_FILE))
    if class_set.slug != folder.name:
        raise ClassFileError(f"{folder}: holds the set {class_set.spec.name!r}")
    return class_set


def load_all(root: Path) -> list[ClassSet]:
    """Every readable set; a broken one is logged and left on disk untouched."""
    root.mkdir(parents=True, exist_ok=True)
    sets = []
    for folder in sorted(root.iterdir()):
        if folder.name.endswith((".new", ".old")):
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.is_dir():
            try:
                sets.append(load(folder))
            except ClassFileError as error:
                _LOGGER.error("Class set %s not loaded: %s", folder.name, error)
    return sets


def export_bytes(root: Path, class_set: ClassSet) -> bytes:
    """One .npz with the JSON, the vectors, the trained centroids and the thumbnails."""
    arrays = _arrays(class_set)
    arrays["meta"] = np.asarray(class_set.record.model_dump_json())
    thumbs = []
    for example in class_set.record.examples:
        path = thumb_path(root, class_set.slug, example.id)
        thumbs.append(path.read_bytes() if path.is_file() else b"")
    arrays["thumb_sizes"] = np.asarray([len(t) for t in thumbs], dtype="<i8")
    arrays["thumbs"] = np.frombuffer(b"".join(thumbs), dtype=np.uint8)
    return _npz(arrays)


def parse_export(data: bytes, model: str, dim: int) -> ClassSet:
    """Validate a whole exported file against the running model; ClassFileError if not fit."""
    arrays = _load_npz(data)
    if "meta" not in arrays or arrays["meta"].dtype.kind != "U" or arrays["meta"].ndim != 0:
        raise ClassFileError("not a class-set file: it has no 'meta' text")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as error:
        raise ClassFileError(f"meta: not JSON ({error})") from None
    class_set = _parse(meta, arrays)
    if class_set.record.model != model or class_set.record.dim != dim:
        raise ClassFileError(
            f"the file was made with model {class_set.record.model} ({class_set.record.dim} "
            f"values), but this service runs {model} ({dim} values)"
        )
    sizes, blob = arrays.get("thumb_sizes"), arrays.get("thumbs")
    if sizes is not None and blob is not None:
        if sizes.shape != (len(class_set.record.examples),) or int(sizes.sum()) != blob.size:
            raise ClassFileError("data: the thumbnails do not match the examples")
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        for example, start, end in zip(
            class_set.record.examples, offsets, offsets[1:], strict=False
        ):
            if end > start:
                class_set.thumbs[example.id] = blob[start:end].tobytes()
    return class_set


def install(root: Path, class_set: ClassSet) -> None:
    """Write an imported set beside any old one, then swap the folders by rename."""
    final = root / class_set.slug
    staging = root / f"{class_set.slug}.new"
    shutil.rmtree(staging, ignore_errors=True)
    _save_into(staging, class_set)
    old = root / f"{class_set.slug}.old"
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(old)
