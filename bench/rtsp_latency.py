"""Latency from a change in the scene to the event on the bus: RTSP keyframes vs HTTP snapshots.

The real service watches one camera: either GStreamer's RTSP server (H.264, 15 fps, a
keyframe every GOP frames, `decode: keyframes`) or lighttpd serving a snapshot polled
every `check_period`. Each trial waits a random part of the period (so changes come out of
step with the checks and keyframes), pastes the cat into the watched ROI and times the Event
on the service's bus, then clears the scene again and waits until the service has seen it.
Run from the repository: `python -m bench.rtsp_latency [--trials 10]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from clevercam_mqtt.events import Event
from tests.helpers.camera import LocalCamera
from tests.helpers.rtsp_server import RtspServer
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import camera_config, running_service, service_config
from tests.helpers.waiting import wait_for

FPS = 15


async def trials(
    url: str, set_image: Callable[[bytes], None], count: int, spread: float, **camera
) -> list[float]:
    """Seconds from each scene change to its event; changes come at random phases."""
    cat, empty = scene_jpeg("cat"), scene_jpeg("empty")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = service_config(tmp, [camera_config(url, sequence_gap=1, **camera)])
        async with running_service(tmp, config) as service:
            arrived: list[float] = []

            async def on_message(message: object) -> None:
                if isinstance(message, Event):
                    arrived.append(time.monotonic())

            service.bus.subscribe("latency", on_message)
            state = service.states["driveway"]
            await wait_for(lambda: state.frames_checked >= 2, 30, "the first frames")
            latencies = []
            rng = random.Random(1)
            for _ in range(count):
                # Out of step with the checks and keyframes, as a real cat is.
                await asyncio.sleep(rng.uniform(0, spread))
                before = len(arrived)
                set_image(cat)
                changed = time.monotonic()
                await wait_for(lambda b=before: len(arrived) > b, 30, "the cat event")
                latencies.append(arrived[before] - changed)
                moving = state.frames_with_motion
                set_image(empty)
                await wait_for(lambda m=moving: state.frames_with_motion > m, 30, "the empty scene")
            return latencies


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    return (
        f"{name:<44} median {statistics.median(values):5.2f} s   "
        f"min {values[0]:5.2f} s   max {values[-1]:5.2f} s   (n={len(values)})"
    )


async def main(count: int, gops: list[int], periods: list[float]) -> None:
    lines = []
    for gop in gops:
        server = RtspServer(fps=FPS, keyint=gop)
        server.set_image(scene_jpeg("empty"))
        server.start()
        try:
            values = await trials(server.url(), server.set_image, count, gop / FPS, check_period=1)
        finally:
            server.close()
        lines.append(summary(f"RTSP keyframes, keyframe every {gop / FPS:g} s", values))
    for period in periods:
        camera = LocalCamera()
        camera.set_image(scene_jpeg("empty"))
        camera.start()
        try:
            values = await trials(
                camera.url(), camera.set_image, count, period, check_period=period
            )
        finally:
            camera.close()
        lines.append(summary(f"HTTP snapshot, check_period {period:g} s", values))
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--gop", type=int, nargs="+", default=[15, 30], help="frames")
    parser.add_argument("--period", type=float, nargs="+", default=[1.0, 2.0], help="seconds")
    args = parser.parse_args()
    asyncio.run(main(args.trials, args.gop, args.period))
