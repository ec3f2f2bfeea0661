"""The monitoring loop of one camera: schedule, fetch, motion gate, classify, filter, events.

It composes the parts (camera source, motion detector, classifier, decisions) and hands
what it finds to the bus. It knows no sink. CPU work leaves the event loop through
`asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import numpy as np

from .cameras import CameraError, CameraSource
from .classifier import Classifier, CropResult, Embedding, Prediction
from .config import CameraConfig, ModelConfig, Roi
from .decisions import SequenceTracker, in_schedule, matching_labels
from .events import CameraStatus, Event, EventBus, SequenceEnded, new_event_id
from .frame import Box, Frame, FrameError, box_to_pixels, decode_scale
from .motion import MotionDetector

_LOGGER = logging.getLogger(__name__)
MAX_BACKOFF = 60.0
OUT_OF_SCHEDULE_CHECK = 30.0


class CameraLogger(logging.LoggerAdapter):  # type: ignore[type-arg,unused-ignore]
    """Puts the camera id in front of every line."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return f"[{self.extra['camera'] if self.extra else '?'}] {msg}", kwargs


@dataclass
class CameraState:
    """Runtime facts of one camera (System page, MQTT, HA)."""

    camera: str
    ok: bool | None = None
    error: str | None = None
    last_frame: datetime | None = None
    frames_checked: int = 0
    frames_with_motion: int = 0
    events_today: int = 0
    today: date = field(default_factory=date.today)
    width: int = 0
    height: int = 0
    latency_ms: float | None = None
    in_schedule: bool = True
    last_event: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error,
            "last_frame": self.last_frame.isoformat(timespec="seconds")
            if self.last_frame
            else None,
            "frames_checked": self.frames_checked,
            "frames_with_motion": self.frames_with_motion,
            "events_today": self.events_today,
            "width": self.width,
            "height": self.height,
            "latency_ms": self.latency_ms,
            "in_schedule": self.in_schedule,
            "last_event": self.last_event,
        }


@dataclass
class Detection:
    roi: Roi
    motion: float
    matched: list[Prediction]
    embedding: Embedding | None = None


@dataclass
class Crop:
    """One ROI of one frame as the model saw it; `custom` holds labels of learned classes."""

    roi: Roi
    motion: float
    moving: bool
    result: CropResult
    custom: list[Prediction] = field(default_factory=list)


class CropObserver(Protocol):
    """Learned classes looking at the loop's crops (the classes package); optional."""

    def due(self, camera: str) -> set[str]:
        """ROIs (slugs) to classify on this frame even when nothing moved there."""
        ...

    async def observe(self, camera: str, crops: list[Crop]) -> list[Detection]:
        """Fill each crop's `custom` labels; return detections of states that changed."""
        ...


def roi_crops(frame: Frame, boxes: Sequence[Box], classifier: Classifier) -> list[np.ndarray]:
    """Model-sized crops of the boxes from one decode of the frame, at the smallest JPEG
    scale that still gives every box the model's input size: a 1080p frame with large ROIs
    decodes at 1/2 or 1/4, which saves most of the decode and of the resizing."""
    scale = decode_scale(frame.size, boxes, classifier.input_size)
    image = frame.reduced_rgb(scale)
    return [
        classifier.preprocess(image, box_to_pixels(box, image.width, image.height)) for box in boxes
    ]


class CameraMonitor:
    def __init__(
        self,
        config: CameraConfig,
        source: CameraSource,
        classifier: Callable[[], Classifier],
        model: Callable[[], ModelConfig],
        bus: EventBus,
        state: CameraState | None = None,
        observer: CropObserver | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self._classifier = classifier
        self._model = model
        self._bus = bus
        self._observer = observer
        self.state = state or CameraState(config.id)
        self.log = CameraLogger(_LOGGER, {"camera": config.id})
        self._wake = asyncio.Event()
        self._sequence = SequenceTracker(config.sequence_gap, config.max_sequence_length)
        self._sequence_rois: set[str] = set()
        self._first_frame = True
        self._motion = MotionDetector(config.motion.pixel_threshold)
        self._failures = 0
        self.last_frame: Frame | None = None
        self._fetch_lock = asyncio.Lock()
        # Sequence timing; a replay (soak test) swaps in its own accelerated clock.
        self.clock: Callable[[], float] = time.monotonic
        self._stopping = False

    def request_stop(self) -> None:
        """Finish the check under way (its events get stored), then leave the loop."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Re-read the settings now (monitoring switched, ROI changed)."""
        self._motion.pixel_threshold = self.config.motion.pixel_threshold
        self._sequence.gap = self.config.sequence_gap
        self._sequence.max_length = self.config.max_sequence_length
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but return early when woken."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def run(self) -> None:
        self.log.info("Monitoring started (%s)", "on" if self.config.monitoring else "paused")
        try:
            while not self._stopping:
                await self._end_quiet_sequence()
                if not self.config.monitoring:
                    await self._sleep(OUT_OF_SCHEDULE_CHECK)
                    continue
                now = datetime.now().astimezone()
                self.state.in_schedule = in_schedule(self.config.schedule, now)
                if not self.state.in_schedule:
                    await self._sleep(min(OUT_OF_SCHEDULE_CHECK, self.config.check_period))
                    continue
                started = time.monotonic()
                try:
                    delay = await self.check_once()
                except Exception as error:  # a bug must not end this camera's monitoring
                    message = f"internal error: {type(error).__name__}: {error}"
                    delay = await self._failed(message, exc_info=True)
                await self._sleep(
                    max(delay, self.config.check_period) - (time.monotonic() - started)
                )
        finally:
            await self.source.close()
            self.log.info("Monitoring stopped")

    async def check_once(self) -> float:
        """One pass of the loop; returns the minimum delay before the next one."""
        try:
            frame, grey = await self._fetch_decoded()
        except CameraError:
            return self._backoff()

        rois = [roi for roi in self.config.rois if roi.enabled]
        changes = self._motion.measure(grey, rois)
        if getattr(frame, "baseline", False) and not self._first_frame:
            changes = None  # a reconnected stream starts a new baseline
        elif changes is None and self._first_frame:
            changes = {roi.slug: 1.0 for roi in rois}
        self._first_frame = False
        moving = [
            roi
            for roi in rois
            if changes and changes.get(roi.slug, 0.0) > self.config.motion.min_changed_fraction
        ]
        due = self._observer.due(self.config.id) if self._observer else set()
        if not moving and not due:
            return 0.0
        if moving:
            self.state.frames_with_motion += 1
        model = self._model()
        targets = moving + [roi for roi in rois if roi.slug in due and roi not in moving]
        try:
            results = await asyncio.to_thread(self.analyze, frame, targets, model.top_k)
        except FrameError as error:
            return await self._failed(str(error))
        crops = [
            Crop(roi, (changes or {}).get(roi.slug, 0.0), roi in moving, result)
            for roi, result in zip(targets, results, strict=True)
        ]
        detections = await self._observe(crops)
        for crop in crops:
            detection = self._detection(crop, model) if crop.moving else None
            if detection:
                detections.append(detection)
        for detection in detections:
            await self._emit(frame, detection)
        return 0.0

    async def _observe(self, crops: list[Crop]) -> list[Detection]:
        """The observer's labels and state changes; its failure never stops monitoring."""
        if self._observer is None:
            return []
        try:
            return await self._observer.observe(self.config.id, crops)
        except Exception:
            self.log.exception("Learned classes failed on this frame")
            return []

    def analyze(self, frame: Frame, rois: list[Roi], top_k: int) -> list[CropResult]:
        """One reduced decode, one crop per ROI, one classifier call (labels, embeddings)."""
        classifier = self._classifier()
        crops = roi_crops(frame, [roi.box for roi in rois], classifier)
        return classifier.analyze(crops, top_k)

    def _detection(self, crop: Crop, model: ModelConfig) -> Detection | None:
        """The labels the ROI asks for: learned classes first, then the model's own."""
        predictions = crop.result.predictions
        self.log.debug("ROI %s: %s %s", crop.roi.slug, crop.custom, predictions[:3])
        matched = matching_labels(crop.custom, crop.roi.labels, 0.0, len(crop.custom))
        matched += matching_labels(predictions, crop.roi.labels, model.min_score, model.top_k)
        if not matched:
            return None
        return Detection(crop.roi, crop.motion, matched, crop.result.embedding)

    async def fetch(self) -> Frame:
        """One frame, recorded in the camera's state (also used by 'Refresh camera')."""
        frame, _ = await self._fetch_decoded()
        return frame

    async def _fetch_decoded(self) -> tuple[Frame, np.ndarray]:
        """A frame and its small grey picture; raises CameraError.

        The camera only counts as working once its image decodes: a camera sending garbage
        or truncated JPEGs is one failure per attempt, not a success followed by a failure.
        """
        async with self._fetch_lock:
            started = time.monotonic()
            try:
                frame = await self.source.fetch()
                grey = await asyncio.to_thread(frame.grey, self.config.motion.scale)
            except (CameraError, FrameError) as error:
                await self._failed(str(error))
                raise CameraError(str(error)) from None
            await self._succeeded(frame, (time.monotonic() - started) * 1000)
            return frame, grey

    def test_classifier(self, frame: Frame) -> dict[str, list[Prediction]]:
        """Top labels of every ROI (enabled or not) on a frame, for the 'test' buttons."""
        classifier, model = self._classifier(), self._model()
        rois = self.config.rois or [Roi(name="whole image", box=(0, 0, 100, 100))]
        crops = roi_crops(frame, [roi.box for roi in rois], classifier)
        results = classifier.classify(crops, model.top_k)
        return {roi.slug: predictions for roi, predictions in zip(rois, results, strict=True)}

    async def _emit(self, frame: Frame, detection: Detection) -> None:
        timestamp = frame.timestamp
        event_id = new_event_id(timestamp)
        sequence_id, ended = self._sequence.assign(self.clock(), event_id)
        if ended:
            await self._publish_sequence_end(ended)
        self._sequence_rois.add(detection.roi.slug)
        image, (width, height) = await self.source.event_image(frame)
        event = Event(
            id=event_id,
            camera=self.config.id,
            roi=detection.roi.slug,
            roi_name=detection.roi.name,
            labels=[p.label for p in detection.matched],
            scores=[p.score for p in detection.matched],
            motion=detection.motion,
            timestamp=timestamp,
            sequence_id=sequence_id,
            image=image,
            width=width,
            height=height,
            embedding=detection.embedding,
        )
        if self.state.today != date.today():
            self.state.today, self.state.events_today = date.today(), 0
        self.state.events_today += 1
        self.state.last_event = event.to_dict()
        self.log.info("Event %s in %s: %s", event.id, event.roi, ", ".join(event.labels))
        await self._bus.publish(event)

    async def _end_quiet_sequence(self) -> None:
        ended = self._sequence.expire(self.clock())
        if ended:
            await self._publish_sequence_end(ended)

    async def _publish_sequence_end(self, sequence_id: str) -> None:
        rois, self._sequence_rois = tuple(sorted(self._sequence_rois)), set()
        await self._bus.publish(
            SequenceEnded(self.config.id, sequence_id, rois, datetime.now().astimezone())
        )

    async def _succeeded(self, frame: Frame, latency_ms: float) -> None:
        self.last_frame = frame
        self._failures = 0
        self.state.frames_checked += 1
        self.state.last_frame = frame.timestamp
        self.state.latency_ms = round(latency_ms, 1)
        size = frame.size
        if self.state.width and size != (self.state.width, self.state.height):
            self.log.info(
                "Image size changed from %dx%d to %dx%d: new motion baseline",
                self.state.width, self.state.height, *size,
            )  # fmt: skip
        self.state.width, self.state.height = size
        if self.state.ok is not True:
            if self.state.ok is False:
                self.log.info("Camera is back online")
            self.state.ok, self.state.error = True, None
            await self._bus.publish(CameraStatus(self.config.id, True, None, frame.timestamp))

    async def _failed(self, message: str, exc_info: bool = False) -> float:
        """Record the error (logged and published once) and return the backoff delay."""
        self._failures += 1
        if self.state.ok is not False or self.state.error != message:
            self.log.warning("Camera problem: %s", message, exc_info=exc_info)
            self.state.ok, self.state.error = False, message
            await self._bus.publish(
                CameraStatus(self.config.id, False, message, datetime.now().astimezone())
            )
        return self._backoff()

    def _backoff(self) -> float:
        """The delay after the latest failure: the check period, doubled per failure in a row."""
        if not self._failures:
            return 0.0
        return min(MAX_BACKOFF, self.config.check_period * 2 ** min(self._failures - 1, 6))

    @property
    def failures(self) -> int:
        """Failed attempts in a row (0 while the camera works)."""
        return self._failures
