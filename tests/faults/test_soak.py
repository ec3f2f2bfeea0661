"""Soak: one hour of a camera at 10 frames/s, replayed on an accelerated clock through the
real service (monitor, classifier, store, web push), with a cat every five seconds.

The replay drives the service's own CameraMonitor with `check_once`, so the hour takes
as long as the work itself, not as long as the clock. Memory, file handles and tasks are
sampled after a warm-up and at the end; every published event must be stored exactly once.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import tempfile
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import psutil
import pytest

from clevercam_mqtt.cameras import CameraSource
from clevercam_mqtt.events import Event, Message, SequenceEnded
from clevercam_mqtt.frame import Frame, JpegFrame
from tests.helpers.history_check import check_history
from tests.helpers.scenes import driveway, jpeg, paste, photo
from tests.helpers.service import camera_config, running_service, service_config

FPS = 10
HOUR = 3600 * FPS
LOOP = 5 * FPS  # a cat every five seconds ...
CAT = range(20, 25)  # ... for half a second
SIZE = (320, 265)  # a sub-stream snapshot: decoding stays a small part of the run
MB = 1024 * 1024
SHM = Path("/dev/shm")


@cache
def scenes() -> dict[str, bytes]:
    base = driveway()
    return {
        "empty": jpeg(base.resize(SIZE)),
        "cat": jpeg(paste(base, photo("cat")).resize(SIZE)),
        "espresso": jpeg(paste(base, photo("espresso")).resize(SIZE)),
    }


class ReplayCamera(CameraSource):
    """Real JPEGs on a script, stamped with the accelerated clock."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.index = 0

    def now(self) -> float:
        return self.index / FPS

    def scene(self, index: int) -> str:
        if index % LOOP not in CAT:
            return "empty"
        return "espresso" if index // LOOP % 10 == 9 else "cat"  # every 10th: motion, no cat

    async def fetch(self) -> Frame:
        frame = JpegFrame(
            scenes()[self.scene(self.index)], self.start + timedelta(seconds=self.now())
        )
        self.index += 1
        return frame


class Counter:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.sequences = 0

    async def __call__(self, message: Message) -> None:
        if isinstance(message, Event):
            self.events.append(message.id)
        elif isinstance(message, SequenceEnded):
            self.sequences += 1


def sample() -> tuple[int, int, int, int]:
    gc.collect()
    process = psutil.Process()
    traced, _ = tracemalloc.get_traced_memory()
    return traced, process.memory_info().rss, process.num_fds(), len(asyncio.all_tasks())


@pytest.fixture
def memory_disk(tmp_path: Path) -> Iterator[Path]:
    """The history in RAM (/dev/shm): the soak is about leaks, not about fsync latency."""
    if not SHM.is_dir():
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="clevercam-soak-", dir=SHM))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_one_hour_at_ten_frames_a_second(tmp_path: Path, memory_disk: Path) -> None:
    camera = camera_config(f"file://{tmp_path}", id="soak", monitoring=False, check_period=0.1)
    config = service_config(tmp_path, [camera], storage={"path": str(memory_disk / "data")})
    async with running_service(tmp_path, config) as service:
        monitor = service.monitors["soak"]  # its own loop sleeps: monitoring is off
        replay = ReplayCamera(datetime.now().astimezone() - timedelta(hours=1))
        monitor.source, monitor.clock = replay, replay.now
        counter = Counter()
        service.bus.subscribe("counter", counter)

        warm_up = HOUR // 10
        tracemalloc.start()
        try:
            for _ in range(warm_up):
                await monitor.check_once()
            before = sample()
            for _ in range(HOUR - warm_up):
                await monitor.check_once()
            after = sample()
        finally:
            tracemalloc.stop()

        state = service.states["soak"]
        assert state.frames_checked == HOUR and state.ok is True
        loops = HOUR // LOOP
        assert len(counter.events) == loops - loops // 10  # one per cat, none for the cup
        assert counter.sequences == len(counter.events) - 1  # each cat its own sequence
        history = check_history(service.config.storage.path)

    history.assert_consistent()
    assert sorted(history.ids) == sorted(counter.events)  # every event stored once
    traced, rss, fds, tasks = (b - a for a, b in zip(before, after, strict=True))
    print(f"growth over 54 replayed minutes: traced {traced / MB:.2f} MB, RSS {rss / MB:.1f} MB, "
          f"fds {fds}, tasks {tasks}")  # fmt: skip
    assert traced < 1 * MB, f"Python memory grew by {traced / MB:.2f} MB"
    assert rss < 16 * MB, f"RSS grew by {rss / MB:.1f} MB"
    assert fds == 0 and tasks == 0
