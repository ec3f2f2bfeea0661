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
from typing import Any

import numpy as np

from .cameras import CameraError, CameraSource
from .classifier import Classifier, Prediction
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
    ) -> None:
        self.config = config
        self.source = source
        self._classifier = classifier
        self._model = model
        self._bus = bus
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
                delay = await self.check_once()
                await self._sleep(
                    max(delay, self.config.check_period) - (time.monotonic() - started)
                )
        finally:
            await self.source.close()
            self.log.info("Monitoring stopped")

    async def check_once(self) -> float:
        """One pass of the loop; returns the minimum delay before the next one."""
        try:
            frame = await self.fetch()
            grey = await asyncio.to_thread(frame.grey, self.config.motion.scale)
        except (CameraError, FrameError) as error:
            return await self._failed(str(error))

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
        if not moving:
            return 0.0
        self.state.frames_with_motion += 1
        model = self._model()
        try:
            detections = await asyncio.to_thread(
                self._classify, frame, moving, changes or {}, model
            )
        except FrameError as error:
            return await self._failed(str(error))
        for detection in detections:
            await self._emit(frame, detection)
        return 0.0

    def _classify(
        self, frame: Frame, rois: list[Roi], changes: dict[str, float], model: ModelConfig
    ) -> list[Detection]:
        """One reduced decode, one crop per changed ROI, one classifier call."""
        classifier = self._classifier()
        crops = roi_crops(frame, [roi.box for roi in rois], classifier)
        results = classifier.classify(crops, model.top_k)
        detections = []
        for roi, predictions in zip(rois, results, strict=True):
            matched = matching_labels(predictions, roi.labels, model.min_score, model.top_k)
            self.log.debug("ROI %s: %s", roi.slug, predictions[:3])
            if matched:
                detections.append(Detection(roi, changes.get(roi.slug, 1.0), matched))
        return detections

    async def fetch(self) -> Frame:
        """One frame, recorded in the camera's state (also used by 'Refresh camera')."""
        async with self._fetch_lock:
            started = time.monotonic()
            try:
                frame = await self.source.fetch()
            except CameraError as error:
                await self._failed(str(error))
                raise
            await self._succeeded(frame, (time.monotonic() - started) * 1000)
            return frame

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
        sequence_id, ended = self._sequence.assign(time.monotonic(), event_id)
        if ended:
            await self._publish_sequence_end(ended)
        self._sequence_rois.add(detection.roi.slug)
        image = await asyncio.to_thread(frame.jpeg)
        width, height = frame.size
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
        )
        if self.state.today != date.today():
            self.state.today, self.state.events_today = date.today(), 0
        self.state.events_today += 1
        self.state.last_event = event.to_dict()
        self.log.info("Event %s in %s: %s", event.id, event.roi, ", ".join(event.labels))
        await self._bus.publish(event)

    async def _end_quiet_sequence(self) -> None:
        ended = self._sequence.expire(time.monotonic())
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
        self.state.width, self.state.height = frame.size
        if self.state.ok is not True:
            if self.state.ok is False:
                self.log.info("Camera is back online")
            self.state.ok, self.state.error = True, None
            await self._bus.publish(CameraStatus(self.config.id, True, None, frame.timestamp))

    async def _failed(self, message: str) -> float:
        """Record the error (logged and published once) and return the backoff delay."""
        self._failures += 1
        if self.state.ok is not False or self.state.error != message:
            self.log.warning("Camera problem: %s", message)
            self.state.ok, self.state.error = False, message
            await self._bus.publish(
                CameraStatus(self.config.id, False, message, datetime.now().astimezone())
            )
        return min(MAX_BACKOFF, self.config.check_period * 2 ** min(self._failures - 1, 6))
