"""The running class sets: definitions, examples, training, and what the loop asks of them.

The monitor knows this object only as a `CropObserver`: it asks which ROIs are due for a
state check and hands over each frame's classified crops; this object adds learned labels
to them, follows the states and publishes `StateChanged` on the bus. Every change is
written to disk at once; CPU and disk work leave the event loop through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..classifier import Classifier, Embedding, ModelError, Prediction
from ..config import CameraConfig, Roi
from ..events import EventBus, SettingsChanged, StateChanged
from ..frame import Frame, box_to_pixels, encode_jpeg
from ..monitor import CameraMonitor, Crop, Detection
from ..store import HistoryStore
from . import storage
from .spec import NONE, ClassSetSpec
from .state import RoiState
from .storage import ClassFileError, ClassSet, ExampleRecord, SetRecord, TrainingRecord
from .training import UNKNOWN, TrainingError, cross_validate, train

_LOGGER = logging.getLogger(__name__)
THUMB_SIZE = 160


class ClassesError(Exception):
    """A request about class sets cannot be done; the message names the field."""


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def crop_thumbnail(image: Image.Image, box: tuple[int, int, int, int]) -> bytes:
    """What an example looked like: its ROI, small."""
    crop = image.crop(box)
    crop.thumbnail((THUMB_SIZE, THUMB_SIZE))
    return encode_jpeg(crop, quality=85)


def _event_thumbnail(store: HistoryStore, event_id: str, roi: Roi | None) -> bytes:
    """The ROI cut out of a stored event image (the whole image if the ROI is gone)."""
    path = store.file_path(event_id, "image")
    if path is None:
        return b""
    with Image.open(path) as source:
        image = source.convert("RGB")
    box = box_to_pixels(roi.box, *image.size) if roi else (0, 0, *image.size)
    return crop_thumbnail(image, box)


class ClassSets:
    def __init__(
        self,
        root: Path,
        bus: EventBus,
        classifier: Callable[[], Classifier],
        cameras: Callable[[], Sequence[CameraConfig]],
    ) -> None:
        self.root = root
        self._bus = bus
        self._classifier = classifier
        self._cameras = cameras
        self._sets: dict[str, ClassSet] = {}
        self._states: dict[tuple[str, str, str], RoiState] = {}
        self._lock = asyncio.Lock()
        self._warned: set[str] = set()

    async def start(self) -> None:
        for class_set in await asyncio.to_thread(storage.load_all, self.root):
            self._sets[class_set.slug] = class_set
        if self._sets:
            _LOGGER.info("Class sets loaded: %s", ", ".join(sorted(self._sets)))

    # -- reading ---------------------------------------------------------------------------

    def all(self) -> list[ClassSet]:
        return [self._sets[slug] for slug in sorted(self._sets)]

    def get(self, slug: str) -> ClassSet:
        try:
            return self._sets[slug]
        except KeyError:
            raise KeyError(f"no class set {slug!r}") from None

    def problem(self, class_set: ClassSet) -> str | None:
        """Why the set cannot classify now (model changed, never trained), or None."""
        classifier = self._classifier()
        if class_set.record.model != classifier.name:
            return (
                f"its examples come from model {class_set.record.model}, "
                f"but the service runs {classifier.name}"
            )
        if class_set.trained is None:
            return "not trained yet"
        return None

    def describe(self, class_set: ClassSet) -> dict[str, Any]:
        """The JSON form of a set (API, web page)."""
        record = class_set.record
        return {
            "slug": class_set.slug,
            **record.spec.model_dump(mode="json"),
            "model": record.model,
            "embedding_size": record.dim,
            "counts": class_set.counts(),
            "examples": len(record.examples),
            "trained": class_set.trained is not None,
            "training": record.training.model_dump(mode="json") if record.training else None,
            "problem": self.problem(class_set),
            "states": [s for s in self.states() if s["class_set"] == class_set.slug],
        }

    def states(self) -> list[dict[str, Any]]:
        """The current state of every ROI under a state-mode set (MQTT, HA, web page)."""
        return [
            {
                "class_set": slug,
                "camera": camera,
                "roi": roi,
                "state": s.state,
                "score": s.score,
                "checks": s.checks,
            }
            for (slug, camera, roi), s in sorted(self._states.items())
            if s.state is not None and slug in self._sets
        ]

    def roi_states(self, camera: str) -> dict[str, dict[str, Any]]:
        """ROI slug -> its state-mode set (name, options) and current state, for one camera."""
        found = {}
        for (set_camera, roi), class_set in self.state_sets().items():
            if set_camera == camera:
                state = self._states.get((class_set.slug, camera, roi), RoiState())
                found[roi] = {
                    "class_set": class_set.slug,
                    "name": class_set.spec.name,
                    "options": list(class_set.spec.classes),
                    "state": state.state,
                    "score": state.score if state.state is not None else None,
                }
        return found

    def label_names(self) -> list[str]:
        """The classes that label-mode sets can add to events (what a ROI's labels may name)."""
        names: dict[str, None] = {}
        for class_set in self.all():
            if class_set.spec.mode == "label":
                names.update(dict.fromkeys(c for c in class_set.spec.classes if c != NONE))
        return list(names)

    def state_sets(self) -> dict[tuple[str, str], ClassSet]:
        """(camera, roi) -> the state-mode set that watches it."""
        found: dict[tuple[str, str], ClassSet] = {}
        for class_set in self.all():
            if class_set.spec.mode == "state":
                for ref in class_set.spec.rois:
                    camera, _, roi = ref.partition("/")
                    found[(camera, roi)] = class_set
        return found

    # -- definitions -----------------------------------------------------------------------

    def _check_spec(self, spec: ClassSetSpec, replacing: str | None = None) -> None:
        known = {f"{c.id}/{roi.slug}" for c in self._cameras() for roi in c.rois}
        for ref in spec.rois:
            if ref not in known:
                raise ClassesError(f"rois: no ROI {ref!r} (use 'camera/roi' with the ROI's slug)")
        if spec.mode == "state":
            taken = self.state_sets()
            for ref in spec.rois:
                owner = taken.get(tuple(ref.split("/", 1)))  # type: ignore[arg-type]
                if owner is not None and owner.slug != replacing:
                    raise ClassesError(f"rois: {ref} already has the state set {owner.spec.name!r}")

    def _embedding_size(self) -> tuple[str, int]:
        classifier = self._classifier()
        try:
            return classifier.name, classifier.require_embeddings()
        except ModelError as error:
            raise ClassesError(f"model: {error}") from None

    async def create(self, spec: ClassSetSpec) -> ClassSet:
        async with self._lock:
            if spec.slug in self._sets:
                raise ClassesError(f"name: a class set {spec.name!r} exists already")
            self._check_spec(spec)
            model, dim = self._embedding_size()
            class_set = ClassSet(
                SetRecord(spec=spec, model=model, dim=dim), np.zeros((0, dim), np.float32)
            )
            await asyncio.to_thread(storage.save, self.root, class_set)
            self._sets[spec.slug] = class_set
        _LOGGER.info("Class set %s created (%s mode)", spec.slug, spec.mode)
        await self._announce(spec)
        return class_set

    async def update(self, slug: str, spec: ClassSetSpec) -> ClassSet:
        """Change classes, ROIs, mode or interval; a class that still has examples stays."""
        async with self._lock:
            class_set = self.get(slug)
            if spec.slug != slug:
                raise ClassesError("name: renaming a class set is not possible; export it instead")
            self._check_spec(spec, replacing=slug)
            counts = class_set.counts()
            for name, count in counts.items():
                if count and name not in spec.classes:
                    raise ClassesError(f"classes: {name!r} still has {count} examples")
            record = class_set.record.model_copy(update={"spec": spec})
            changed_classes = spec.classes != class_set.spec.classes
            if changed_classes:
                record.training = None
            updated = ClassSet(
                record, class_set.vectors, None if changed_classes else class_set.trained
            )
            await asyncio.to_thread(storage.save, self.root, updated)
            self._sets[slug] = updated
            self._forget_states(slug)
        await self._announce(class_set.spec, spec)
        return updated

    async def delete(self, slug: str) -> None:
        async with self._lock:
            spec = self.get(slug).spec
            await asyncio.to_thread(storage.remove, self.root, slug)
            del self._sets[slug]
            self._forget_states(slug)
        _LOGGER.info("Class set %s deleted", slug)
        await self._announce(spec)

    async def _announce(self, *specs: ClassSetSpec) -> None:
        """Tell the sinks that a camera's state sensors changed (MQTT discovery, web page)."""
        cameras = {
            ref.partition("/")[0] for spec in specs if spec.mode == "state" for ref in spec.rois
        }
        for camera in sorted(cameras):
            await self._bus.publish(SettingsChanged(camera))

    def _forget_states(self, slug: str) -> None:
        for key in [key for key in self._states if key[0] == slug]:
            del self._states[key]

    # -- examples --------------------------------------------------------------------------

    def _check_label(self, class_set: ClassSet, label: str) -> str:
        for name in class_set.spec.classes:
            if name.lower() == label.strip().lower():
                return name
        raise ClassesError(f"class: {label!r} is not one of {', '.join(class_set.spec.classes)}")

    async def _add(
        self, slug: str, records: list[ExampleRecord], vectors: list[np.ndarray],
        thumbs: list[bytes],
    ) -> list[ExampleRecord]:  # fmt: skip
        async with self._lock:
            class_set = self.get(slug)
            if len(class_set.record.examples) + len(records) > storage.MAX_EXAMPLES:
                raise ClassesError(f"examples: a set holds at most {storage.MAX_EXAMPLES}")
            record = class_set.record.model_copy(
                update={"examples": [*class_set.record.examples, *records]}
            )
            updated = ClassSet(
                record,
                np.vstack([class_set.vectors, *[v[np.newaxis] for v in vectors]]),
                class_set.trained,
                {r.id: thumb for r, thumb in zip(records, thumbs, strict=True)},
            )
            await asyncio.to_thread(storage.save, self.root, updated)
            self._sets[slug] = updated
        return records

    def _vector(self, class_set: ClassSet, embedding: Embedding, what: str) -> np.ndarray:
        if (
            embedding.model != class_set.record.model
            or embedding.vector.size != class_set.record.dim
        ):
            raise ClassesError(
                f"{what}: made with model {embedding.model}, but the set uses "
                f"{class_set.record.model}"
            )
        return np.asarray(embedding.vector, dtype=np.float32)

    async def add_events(
        self, slug: str, label: str, event_ids: Sequence[str], store: HistoryStore
    ) -> list[ExampleRecord]:
        """Past events as examples, from their stored embeddings (the model is not re-run)."""
        class_set = self.get(slug)
        label = self._check_label(class_set, label)
        if not event_ids:
            raise ClassesError("events: expected at least one event id")
        embeddings = await asyncio.to_thread(store.embeddings, list(event_ids))
        records, vectors, thumbs = [], [], []
        for event_id in event_ids:
            event = await asyncio.to_thread(store.get, event_id)
            if event is None:
                raise ClassesError(f"events: no event {event_id}")
            embedding = embeddings.get(event_id)
            if embedding is None:
                raise ClassesError(f"events: event {event_id} has no stored embedding")
            vectors.append(self._vector(class_set, embedding, f"events: event {event_id}"))
            roi = self._roi(event["camera"], event["roi"])
            thumbs.append(await asyncio.to_thread(_event_thumbnail, store, event_id, roi))
            records.append(
                ExampleRecord(
                    id=secrets.token_hex(6), label=label, source="event", event_id=event_id,
                    camera=event["camera"], roi=event["roi"], created=_now(),
                )
            )  # fmt: skip
        return await self._add(slug, records, vectors, thumbs)

    def _roi(self, camera_id: str, roi_slug: str) -> Roi | None:
        for camera in self._cameras():
            if camera.id == camera_id:
                return next((roi for roi in camera.rois if roi.slug == roi_slug), None)
        return None

    async def add_capture(
        self, slug: str, label: str, monitor: CameraMonitor, roi_slug: str, frame: Frame
    ) -> ExampleRecord:
        """The ROI of a fresh frame as an example ("capture this ROI now as ...")."""
        class_set = self.get(slug)
        label = self._check_label(class_set, label)
        roi = next((r for r in monitor.config.rois if r.slug == roi_slug), None)
        if roi is None:
            raise ClassesError(f"roi: camera {monitor.config.id} has no ROI {roi_slug!r}")

        def analyze() -> tuple[Embedding | None, bytes]:
            result = monitor.analyze(frame, [roi], 1)[0]
            image = frame.rgb()
            return result.embedding, crop_thumbnail(image, box_to_pixels(roi.box, *image.size))

        embedding, thumb = await asyncio.to_thread(analyze)
        if embedding is None:
            self._embedding_size()
            raise ClassesError("model: gives no embedding")
        vector = self._vector(class_set, embedding, "capture")
        record = ExampleRecord(
            id=secrets.token_hex(6), label=label, source="capture",
            camera=monitor.config.id, roi=roi.slug, created=_now(),
        )  # fmt: skip
        await self._add(slug, [record], [vector], [thumb])
        return record

    async def remove_example(self, slug: str, example_id: str) -> None:
        async with self._lock:
            class_set = self.get(slug)
            keep = [i for i, e in enumerate(class_set.record.examples) if e.id != example_id]
            if len(keep) == len(class_set.record.examples):
                raise KeyError(f"no example {example_id!r}")
            record = class_set.record.model_copy(
                update={"examples": [class_set.record.examples[i] for i in keep]}
            )
            updated = ClassSet(record, class_set.vectors[keep], class_set.trained)
            await asyncio.to_thread(storage.save, self.root, updated)
            self._sets[slug] = updated

    def examples(self, slug: str) -> list[dict[str, Any]]:
        return [
            {**e.model_dump(), "thumbnail_url": f"/api/classes/{slug}/examples/{e.id}/thumbnail"}
            for e in self.get(slug).record.examples
        ]

    def thumbnail(self, slug: str, example_id: str) -> Path | None:
        class_set = self.get(slug)
        if not any(e.id == example_id for e in class_set.record.examples):
            return None
        path = storage.thumb_path(self.root, slug, example_id)
        return path if path.is_file() else None

    # -- training and prediction -----------------------------------------------------------

    async def train(self, slug: str) -> TrainingRecord:
        """Train on every example; cross-validated accuracy and confusion matrix with it."""
        async with self._lock:
            class_set = self.get(slug)
            labels = [e.label for e in class_set.record.examples]
            classes = class_set.spec.classes

            def fit() -> tuple[Any, Any, float]:
                started = time.perf_counter()
                model = train(class_set.vectors, labels, classes)
                evaluation = cross_validate(class_set.vectors, labels, classes)
                return model, evaluation, time.perf_counter() - started

            try:
                model, evaluation, seconds = await asyncio.to_thread(fit)
            except TrainingError as error:
                raise ClassesError(f"examples: {error}") from None
            training = TrainingRecord(
                trained_at=_now(),
                examples=len(labels),
                seconds=round(seconds, 4),
                thresholds={
                    n: round(float(t), 4) for n, t in zip(classes, model.thresholds, strict=True)
                },
                **evaluation.to_dict(),
            )
            record = class_set.record.model_copy(update={"training": training})
            updated = ClassSet(record, class_set.vectors, model)
            await asyncio.to_thread(storage.save, self.root, updated)
            self._sets[slug] = updated
            self._forget_states(slug)
        _LOGGER.info(
            "Class set %s trained on %d examples (cross-validated accuracy %s)",
            slug, len(labels), evaluation.accuracy,
        )  # fmt: skip
        return training

    def predict(self, class_set: ClassSet, embedding: Embedding) -> tuple[str, float]:
        problem = self.problem(class_set)
        if problem:
            raise ClassesError(f"class set {class_set.spec.name!r}: {problem}")
        assert class_set.trained is not None
        vector = self._vector(class_set, embedding, "image")
        return class_set.trained.predict(vector)[0]

    async def predict_events(self, slug: str, ids: Sequence[str], store: HistoryStore) -> list[
        dict[str, Any]
    ]:  # fmt: skip
        class_set = self.get(slug)
        embeddings = await asyncio.to_thread(store.embeddings, list(ids))
        results = []
        for event_id in ids:
            if event_id not in embeddings:
                raise ClassesError(f"events: event {event_id} has no stored embedding")
            label, score = self.predict(class_set, embeddings[event_id])
            results.append({"event_id": event_id, "class": label, "score": score})
        return results

    # -- import and export -----------------------------------------------------------------

    async def export(self, slug: str) -> bytes:
        return await asyncio.to_thread(storage.export_bytes, self.root, self.get(slug))

    async def import_file(self, data: bytes) -> ClassSet:
        """Install a set from an exported file; a bad file leaves everything as it was."""
        model, dim = self._embedding_size()
        try:
            class_set = await asyncio.to_thread(storage.parse_export, data, model, dim)
        except ClassFileError as error:
            raise ClassesError(f"file: {error}") from None
        async with self._lock:
            self._check_spec(class_set.spec, replacing=class_set.slug)
            await asyncio.to_thread(storage.install, self.root, class_set)
            class_set.thumbs.clear()
            old = self._sets.get(class_set.slug)
            self._sets[class_set.slug] = class_set
            self._forget_states(class_set.slug)
        _LOGGER.info("Class set %s imported", class_set.slug)
        await self._announce(class_set.spec, *([old.spec] if old else []))
        return class_set

    # -- the monitor's observer ------------------------------------------------------------

    def _active(self, camera: str, roi: str) -> list[ClassSet]:
        return [
            s
            for s in self._sets.values()
            if s.trained is not None and s.spec.applies_to(camera, roi)
        ]

    def due(self, camera: str) -> set[str]:
        """ROIs under a trained state set whose interval passed or whose new state awaits."""
        now = time.monotonic()
        due = set()
        for class_set in self._sets.values():
            if class_set.spec.mode != "state" or class_set.trained is None:
                continue
            for ref in class_set.spec.rois:
                ref_camera, _, roi = ref.partition("/")
                key = (class_set.slug, ref_camera, roi)
                if ref_camera == camera and self._states.get(key, RoiState()).due(
                    now, class_set.spec.interval
                ):
                    due.add(roi)
        return due

    async def observe(self, camera: str, crops: list[Crop]) -> list[Detection]:
        """Learned labels for each crop; state changes published and returned as detections."""
        detections = []
        now = time.monotonic()
        for crop in crops:
            embedding = crop.result.embedding
            if embedding is None:
                continue
            for class_set in self._active(camera, crop.roi.slug):
                if embedding.model != class_set.record.model:
                    self._warn_once(class_set)
                    continue
                assert class_set.trained is not None
                label, score = class_set.trained.predict(embedding.vector)[0]
                if class_set.spec.mode == "label":
                    if label not in (UNKNOWN, NONE):
                        crop.custom.append(Prediction(label, score))
                    continue
                detection = await self._state(class_set, camera, crop, label, score, now)
                if detection is not None:
                    detections.append(detection)
            crop.custom.sort(key=lambda p: p.score, reverse=True)
        return detections

    async def _state(
        self, class_set: ClassSet, camera: str, crop: Crop, label: str, score: float, now: float
    ) -> Detection | None:
        key = (class_set.slug, camera, crop.roi.slug)
        roi_state = self._states.setdefault(key, RoiState())
        roi_state.last_check = now
        previous = roi_state.state
        if not roi_state.update(label, score):
            return None
        _LOGGER.info(
            "[%s] %s in %s: %s -> %s (%.2f)",
            camera, class_set.slug, crop.roi.slug, previous, label, score,
        )  # fmt: skip
        await self._bus.publish(
            StateChanged(
                camera, crop.roi.slug, class_set.slug, label, score,
                datetime.now().astimezone(), previous,
            )
        )  # fmt: skip
        if previous is None:
            return None  # the first verdict after a start is no change
        return Detection(crop.roi, crop.motion, [Prediction(label, score)], crop.result.embedding)

    def _warn_once(self, class_set: ClassSet) -> None:
        if class_set.slug not in self._warned:
            self._warned.add(class_set.slug)
            _LOGGER.warning("Class set %s not used: %s", class_set.slug, self.problem(class_set))
