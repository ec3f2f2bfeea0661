"""Item 5: latency from the camera serving a changed frame to the event arriving.

The real service runs in this process (tests.helpers.service.running_service: web server,
MQTT and every sink the config enables) against a real HTTP camera (lighttpd) serving
1080p frames of the bench scene, with check_period 1 s, and a real mosquitto. Each trial
waits a random part of a period (so the change lands anywhere in the polling cycle), puts
a cat on the lawn and takes the time when the event
- reaches a subscriber of the service's bus; it subscribes after the history store, so
  the event is already written to disk by then;
- arrives at an MQTT client subscribed to `clevercam/<camera>/events` (paho, QoS 1).
"Processing" is the part after the frame was fetched (the event's own timestamp).

    python -m bench.latency [--trials 20] [--check-period 1] [--quick]
"""

from __future__ import annotations

import asyncio
import queue
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from clevercam_mqtt.events import Event, Message
from clevercam_mqtt.monitor import CameraState
from tests.helpers.broker import Broker
from tests.helpers.camera import LocalCamera
from tests.helpers.mqtt import Recorder
from tests.helpers.scenes import CAT_LABELS
from tests.helpers.service import running_service, service_config
from tests.helpers.waiting import wait_for

from .harness import bench_camera, roi_dict
from .scene import ROIS, camera_jpeg, scene
from .stats import OtherLoad, Series, banner, parser, report

LAWN = ROIS[0]


async def settled(state: CameraState, frames: int) -> None:
    """The service has looked at `frames` more frames of the current scene."""
    target = state.frames_checked + frames
    await wait_for(lambda: state.frames_checked >= target, 30, f"{frames} more frames")


class TimedRecorder(Recorder):
    """Notes when each message arrived, in this process's monotonic clock."""

    def __init__(self, port: int, topic: str) -> None:
        super().__init__(port, topic)
        self.arrivals: queue.Queue[float] = queue.Queue()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self.arrivals.put(time.monotonic())


async def measure(trials: int, check_period: float) -> list[Series]:
    empty = [camera_jpeg(scene("1080p"), seed=2 * i) for i in range(trials)]
    cat = [camera_jpeg(scene("1080p", (LAWN.name,)), seed=2 * i + 1) for i in range(trials)]
    camera = LocalCamera()
    camera.set_image(empty[0])
    camera.start()
    rois = [roi_dict(LAWN, CAT_LABELS), *(roi_dict(roi) for roi in ROIS[1:])]
    config = bench_camera("driveway", camera.url(), check_period, rois=rois, sequence_gap=1)
    total = Series("camera change -> event on the bus (stored)", "ms")
    to_mqtt = Series("camera change -> event at an MQTT subscriber", "ms")
    processing = Series("frame fetched -> event on the bus (stored)", "ms")
    arrivals: asyncio.Queue[tuple[float, datetime, Event]] = asyncio.Queue()

    async def on_message(message: Message) -> None:
        if isinstance(message, Event):
            arrivals.put_nowait((time.monotonic(), datetime.now().astimezone(), message))

    broker = Broker()
    broker.start()
    recorder = TimedRecorder(broker.port, f"clevercam/{config['id']}/events")
    recorder.start()
    mqtt = {"enabled": True, "host": "127.0.0.1", "port": broker.port}
    try:
        with tempfile.TemporaryDirectory(prefix="clevercam-bench-") as folder:
            tmp = Path(folder)
            async with running_service(tmp, service_config(tmp, [config], mqtt=mqtt)) as service:
                service.bus.subscribe("bench", on_message)
                state = service.states["driveway"]
                for trial in range(trials):
                    camera.set_image(empty[trial])
                    await settled(state, 3)
                    while not arrivals.empty():
                        arrivals.get_nowait()
                    while not recorder.arrivals.empty():
                        recorder.arrivals.get_nowait()
                    await asyncio.sleep(random.uniform(0, check_period))
                    camera.set_image(cat[trial])
                    changed = time.monotonic()
                    arrived, wall, event = await asyncio.wait_for(arrivals.get(), 30)
                    total.values.append((arrived - changed) * 1000)
                    processing.values.append((wall - event.timestamp).total_seconds() * 1000)
                    received = await asyncio.to_thread(recorder.arrivals.get, True, 30)
                    to_mqtt.values.append((received - changed) * 1000)
    finally:
        recorder.stop()
        broker.close()
        camera.close()
    return [total, to_mqtt, processing]


def main(argv: list[str] | None = None) -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--trials", type=int, default=20)
    args_parser.add_argument("--check-period", type=float, default=1.0)
    args = args_parser.parse_args(argv)
    trials = 2 if args.quick else args.trials
    banner(" ".join(["python -m bench.latency", *(argv or sys.argv[1:])]))
    with OtherLoad():
        rows = asyncio.run(measure(trials, args.check_period))
    target = args.check_period * 1000 + 300
    report(
        f"latency, 1920x1080, 4 ROIs, check_period {args.check_period:g} s, {trials} trials "
        f"(target: max <= {target:.0f} ms)",
        rows,
        digits=0,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
