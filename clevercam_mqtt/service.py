"""The running service: one state object that owns the parts and wires them together.

Camera monitors publish on the bus; sinks (store first, then MQTT, notifier, web socket)
subscribe. The web API and MQTT commands change settings through the methods here, which
apply at once and are written back to the config file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from .cameras import open_camera
from .classes import ClassSets
from .classifier import Classifier
from .config import CameraConfig, Config, ModelConfig, resolve_model_path
from .config_file import ConfigFile, raw_camera, raw_roi
from .events import Event, EventBus, Message, SettingsChanged
from .frame import Frame
from .monitor import CameraMonitor, CameraState
from .store import HistoryStore, StoreError
from .system import system_info

_LOGGER = logging.getLogger(__name__)
RETENTION_PERIOD = 3600.0
STOP_GRACE = 5.0  # seconds a camera gets, beyond its timeout, to finish its check at stop


class Sink(Protocol):
    """A consumer of the bus with a lifecycle of its own (MQTT, notifier, web socket)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


# Builds a sink for a service; returns None when its part is switched off in the config.
SinkFactory = Callable[["Service"], Sink | None]


@dataclass
class ModelHolder:
    """The loaded classifier; replaced as a whole when the user picks another model."""

    config: ModelConfig
    classifier: Classifier


@dataclass
class Service:
    config: Config
    config_path: Path | None = None
    bus: EventBus = field(default_factory=EventBus)
    monitors: dict[str, CameraMonitor] = field(default_factory=dict)
    states: dict[str, CameraState] = field(default_factory=dict)
    sink_factories: list[SinkFactory] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    web_port: int | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _model: ModelHolder | None = None
    _store: HistoryStore | None = None
    _classes: ClassSets | None = None
    instance_id: str = ""

    def __post_init__(self) -> None:
        self.config_file = ConfigFile(self.config_path)

    @property
    def config_dir(self) -> Path | None:
        return self.config_path.resolve().parent if self.config_path else None

    @property
    def store(self) -> HistoryStore:
        assert self._store is not None, "service not started"
        return self._store

    @property
    def classes(self) -> ClassSets:
        assert self._classes is not None, "service not started"
        return self._classes

    @property
    def model(self) -> ModelHolder:
        assert self._model is not None, "service not started"
        return self._model

    def load_model(self, config: ModelConfig) -> ModelHolder:
        """Load a model folder (in a worker thread: it reads megabytes)."""
        path = resolve_model_path(config.path, self.config_dir)
        return ModelHolder(config, Classifier(path, config.threads))

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        storage = self.config.storage
        self._store = HistoryStore(
            storage.path, storage.retain_days, storage.max_disk_mb, storage.thumbnail_size
        )
        await asyncio.to_thread(self._store.open)
        self.instance_id = await asyncio.to_thread(self._instance_id)
        self._model = await asyncio.to_thread(self.load_model, self.config.model)
        _LOGGER.info("Model %s loaded", self._model.classifier.name)
        self._classes = ClassSets(
            storage.path / "classes", self.bus, lambda: self.model.classifier,
            lambda: self.config.cameras,
        )  # fmt: skip
        await self._classes.start()
        self.bus.subscribe("store", self._store_event)
        for factory in self.sink_factories:
            sink = factory(self)
            if sink is not None:
                await sink.start()
                self.sinks.append(sink)
        for camera in self.config.cameras:
            await self._start_camera(camera)
        self._tasks["retention"] = asyncio.create_task(self._retention(), name="retention")

    async def stop(self) -> None:
        for camera_id in list(self.monitors):
            await self._stop_camera(camera_id)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        for sink in reversed(self.sinks):
            try:
                await sink.stop()
            except Exception:
                _LOGGER.exception("Stopping %s failed", type(sink).__name__)
        self.sinks.clear()
        if self._store is not None:
            await asyncio.to_thread(self._store.close)

    def _instance_id(self) -> str:
        """A stable id of this installation (Home Assistant's unique id for the service)."""
        path = self.config.storage.path / "instance_id"
        with contextlib.suppress(OSError):
            value = path.read_text().strip()
            if value:
                return value
        value = uuid.uuid4().hex
        path.write_text(value + "\n")
        return value

    async def _start_camera(self, camera: CameraConfig) -> None:
        state = self.states.get(camera.id) or CameraState(camera.id)
        today = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        state.events_today = await asyncio.to_thread(self.store.count_since, camera.id, today)
        self.states[camera.id] = state
        monitor = CameraMonitor(
            camera, open_camera(camera), lambda: self.model.classifier,
            lambda: self.model.config, self.bus, state, self.classes,
        )  # fmt: skip
        self.monitors[camera.id] = monitor
        self._tasks[f"camera:{camera.id}"] = asyncio.create_task(
            monitor.run(), name=f"camera:{camera.id}"
        )

    async def _stop_camera(self, camera_id: str) -> None:
        """Let the camera finish its current check (no detected event is lost), then end it."""
        task = self._tasks.pop(f"camera:{camera_id}", None)
        monitor = self.monitors.pop(camera_id, None)
        if task is None or monitor is None:
            return
        monitor.request_stop()
        await asyncio.wait([task], timeout=monitor.config.timeout + STOP_GRACE)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _store_event(self, message: Message) -> None:
        if isinstance(message, Event):
            try:
                await asyncio.to_thread(self.store.add, message)
            except StoreError as error:
                _LOGGER.error("[%s] %s", message.camera, error)

    async def _retention(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.store.enforce_retention)
            except (OSError, StoreError) as error:
                _LOGGER.error("Retention failed: %s", error)
            await asyncio.sleep(RETENTION_PERIOD)

    # -- controls (web API, MQTT commands) -------------------------------------------------

    async def set_monitoring(self, camera_id: str, on: bool) -> None:
        camera = self.config.camera(camera_id)

        def mutate(raw: dict[str, Any]) -> None:
            raw_camera(raw, camera_id)["monitoring"] = on

        # The file first: when it refuses (ConfigError), the running settings stay as they are.
        await self.config_file.update(mutate)
        camera.monitoring = on
        self.monitors[camera_id].wake()
        await self.bus.publish(SettingsChanged(camera_id))

    async def set_roi_enabled(self, camera_id: str, roi_slug: str, on: bool) -> None:
        await self.update_roi(camera_id, roi_slug, {"enabled": on})

    async def set_roi_labels(self, camera_id: str, roi_slug: str, labels: list[str]) -> None:
        await self.update_roi(camera_id, roi_slug, {"labels": labels})

    async def update_roi(self, camera_id: str, roi_slug: str, changes: dict[str, Any]) -> None:
        """Change ROI fields at once: one file write, one SettingsChanged."""
        camera = self.config.camera(camera_id)
        roi = next((r for r in camera.rois if r.slug == roi_slug), None)
        if roi is None:
            raise KeyError(roi_slug)

        def mutate(raw: dict[str, Any]) -> None:
            raw_roi(raw, camera_id, roi_slug).update(changes)

        # The file first: when it refuses (ConfigError), the running settings stay as they are.
        await self.config_file.update(mutate)
        for key, value in changes.items():
            setattr(roi, key, value)
        self.monitors[camera_id].wake()
        await self.bus.publish(SettingsChanged(camera_id, roi_slug))

    async def replace_camera(self, camera: CameraConfig, raw: dict[str, Any]) -> None:
        """Swap a camera's whole settings (web page): validated file first, then restart it."""

        def mutate(file: dict[str, Any]) -> None:
            entry = raw_camera(file, camera.id)  # found by id, so look it up before clearing
            entry.clear()
            entry.update({"id": camera.id, **raw})

        await self.config_file.update(mutate)
        index = next(i for i, c in enumerate(self.config.cameras) if c.id == camera.id)
        self.config.cameras[index] = camera
        await self._stop_camera(camera.id)
        await self._start_camera(camera)
        await self.bus.publish(SettingsChanged(camera.id))

    async def refresh_camera(self, camera_id: str) -> Frame:
        """Fetch a frame now (recorded in the camera's state); raises CameraError."""
        return await self.monitors[camera_id].fetch()

    def system(self) -> dict[str, Any]:
        return system_info(self.config.storage.path, self.store.stats()) | self.parts_status()

    # -- status of optional parts (notifier, ...) on /api/system ---------------------------

    status_providers: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)

    def parts_status(self) -> dict[str, Any]:
        """Each registered part's latest status snapshot (safe to read from any thread)."""
        return {name: provider() for name, provider in list(self.status_providers.items())}

    async def set_model(self, config: ModelConfig) -> None:
        """Use other model settings (web page): loaded and checked first, then written, then
        swapped in; the monitors pick the new classifier up on their next frame."""
        previous = self.model
        holder = previous
        if (config.path, config.threads) != (previous.config.path, previous.config.threads):
            holder = await asyncio.to_thread(self.load_model, config)
        changed = {
            key: value
            for key, value in config.model_dump(mode="json").items()
            if getattr(previous.config, key) != getattr(config, key)
        }

        def mutate(raw: dict[str, Any]) -> None:
            if not isinstance(raw.get("model"), dict):
                raw["model"] = {}
            raw["model"].update(changed)

        await self.config_file.update(mutate)
        self.config.model = config
        self._model = ModelHolder(config, holder.classifier)
        for monitor in self.monitors.values():
            monitor.wake()
        if holder is not previous:
            _LOGGER.info("Model %s loaded", holder.classifier.name)
