"""The real service as a separate process (`python -m clevercam_mqtt --config FILE`),
watched from outside the way an operator would: psutil for CPU time and RSS, the JSON API
for the cameras' counters. The bench reads the API only at the edges of a measurement, so
its own requests do not show up in the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import yaml

from clevercam_mqtt.config import Roi
from tests.helpers.net import free_port
from tests.helpers.service import service_config
from tests.helpers.waiting import wait_for_sync

from .scene import ROIS

ROOT = Path(__file__).resolve().parents[1]


def bench_camera(camera_id: str, url: str, check_period: float, **overrides: Any) -> dict[str, Any]:
    """One camera of the bench scene: its four ROIs, any label (every labelled motion
    becomes an event, the most work a frame with motion can cost)."""
    camera: dict[str, Any] = {
        "id": camera_id,
        "url": url,
        "check_period": check_period,
        "timeout": 5,
        "rois": [roi_dict(roi) for roi in ROIS],
    }
    camera.update(overrides)
    return camera


def roi_dict(roi: Roi, labels: list[str] | None = None) -> dict[str, Any]:
    return {"name": roi.name, "box": list(roi.box), "labels": labels or ["*"]}


class ServiceProcess:
    """One run of the service in its own folder (config, history, log)."""

    def __init__(self, cameras: list[dict[str, Any]], **sections: Any) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="clevercam-bench-"))
        self.port = free_port()
        sections.setdefault("web", {})["port"] = self.port
        self.config = service_config(self.root, cameras, **sections)
        self.config["log_level"] = "warning"
        self.config_path = self.root / "clevercam.yaml"
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        self._popen: subprocess.Popen[bytes] | None = None
        self.process: psutil.Process | None = None

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.root / "service.log", "wb") as log:
            self._popen = subprocess.Popen(
                [sys.executable, "-m", "clevercam_mqtt", "--config", str(self.config_path)],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.process = psutil.Process(self._popen.pid)
        wait_for_sync(self._healthy, 60, "the service to answer /api/health")

    def _healthy(self) -> bool:
        assert self._popen is not None
        if self._popen.poll() is not None:
            raise RuntimeError(f"the service exited:\n{self.log()}")
        try:
            self.get("/api/health")
        except OSError:
            return False
        return True

    def get(self, path: str) -> Any:
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)

    def cameras(self) -> dict[str, dict[str, Any]]:
        """Each camera's runtime state (frames_checked, frames_with_motion, ok...)."""
        return dict(self.get("/api/system")["cameras"])

    def frames_checked(self) -> int:
        return sum(int(state["frames_checked"]) for state in self.cameras().values())

    def wait_frames(self, frames: int, timeout: float = 120) -> None:
        """Every camera has looked at `frames` frames (model loaded, cameras answering)."""

        def ready() -> bool:
            states = self.cameras().values()
            return all(int(state["frames_checked"]) >= frames for state in states)

        wait_for_sync(ready, timeout, f"every camera to check {frames} frames")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        assert self.process is not None
        return float(self.process.memory_info().rss) / 2**20

    def log(self) -> str:
        path = self.root / "service.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self._popen is not None:
            self._popen.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(20)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
            self._popen = None
        shutil.rmtree(self.root, ignore_errors=True)


def measure_cpu(service: ServiceProcess, seconds: float) -> tuple[float, int]:
    """CPU % of one core used by the service over `seconds`, and the frames it checked."""
    frames_before = service.frames_checked()
    cpu_before, started = service.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu_after, elapsed = service.cpu_seconds(), time.monotonic() - started
    frames = service.frames_checked() - frames_before
    return (cpu_after - cpu_before) / elapsed * 100, frames


@dataclass
class Throughput:
    cpu_percent: float
    frames_per_second: float
    motion_share: float


def measure_throughput(service: ServiceProcess, seconds: float, every: float = 2.0) -> Throughput:
    """CPU % of one core, and the frame rate as the slope of the frames counted every
    `every` seconds: cameras polled in step would make two counts off by one frame each."""
    times, counts, motion = [], [], []
    cpu_before, started = service.cpu_seconds(), time.monotonic()
    while (now := time.monotonic()) - started <= seconds:
        states = service.cameras().values()
        times.append(now)
        counts.append(sum(int(state["frames_checked"]) for state in states))
        motion.append(sum(int(state["frames_with_motion"]) for state in states))
        time.sleep(max(0.0, started + len(times) * every - time.monotonic()))
    cpu = (service.cpu_seconds() - cpu_before) / (time.monotonic() - started) * 100
    rate = float(np.polyfit(times, counts, 1)[0])
    share = (motion[-1] - motion[0]) / max(1, counts[-1] - counts[0])
    return Throughput(cpu, rate, share)
