"""Item 4: resident memory (RSS) of the running service with the model loaded and one
camera, and its growth over a long run at 5 frames/s.

The real service runs as a subprocess against a real HTTP camera (lighttpd) serving
1080p frames of the bench scene. Every few seconds the bench puts a photo into another
ROI or takes it away, so the run goes through motion, classification, events, history
writes and sequences, not only the idle path. A service without cameras runs beside it
as the baseline (the interpreter, the libraries, the model and the web server).
RSS is sampled with psutil; growth is the change between the first and the last minute
after a one-minute warm-up, and the slope of a least-squares line through the samples.

    python -m bench.memory [--minutes 10] [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from tests.helpers.camera import LocalCamera

from .harness import ServiceProcess, bench_camera
from .scene import ROIS, camera_jpeg, scene
from .stats import OtherLoad, Series, banner, parser, report

CHECK_PERIOD = 0.2
SCENE_CHANGE = 3.0


def scene_cycle() -> list[bytes]:
    """Empty, photo in ROI 1, empty, photo in ROI 2, ... (each with its own noise)."""
    frames = []
    for index, roi in enumerate(ROIS):
        frames.append(camera_jpeg(scene("1080p"), seed=2 * index))
        frames.append(camera_jpeg(scene("1080p", (roi.name,)), seed=2 * index + 1))
    return frames


def main(argv: list[str] | None = None) -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--minutes", type=float, default=10.0)
    args_parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    args = args_parser.parse_args(argv)
    minutes, sample, warm_up = (0.1, 1.0, 2.0) if args.quick else (args.minutes, args.sample, 60.0)
    banner(" ".join(["python -m bench.memory", *(argv or sys.argv[1:])]))
    frames = scene_cycle()
    camera = LocalCamera()
    camera.set_image(frames[0])
    camera.start()
    samples: list[tuple[float, float, float]] = []
    try:
        with (
            OtherLoad(),
            ServiceProcess([]) as baseline,
            ServiceProcess([bench_camera("driveway", camera.url(), CHECK_PERIOD)]) as service,
        ):
            service.wait_frames(3)
            started = time.monotonic()
            checked_before = service.frames_checked()
            next_sample, next_scene, index = started, started + SCENE_CHANGE, 0
            while (now := time.monotonic()) < started + warm_up + minutes * 60:
                if now >= next_scene:
                    index += 1
                    camera.set_image(frames[index % len(frames)])
                    next_scene += SCENE_CHANGE
                if now >= next_sample:
                    samples.append((now - started, service.rss_mb(), baseline.rss_mb()))
                    next_sample += sample
                time.sleep(max(0.0, min(next_scene, next_sample) - time.monotonic()))
            elapsed = time.monotonic() - started
            states = service.cameras()["driveway"]
            checked = service.frames_checked() - checked_before
            events = service.get("/api/system")["history_count"]
    finally:
        camera.close()

    steady = [s for s in samples if s[0] >= warm_up]
    minute = max(1, round(min(60.0, (elapsed - warm_up) / 4) / sample))
    first = statistics.median(s[1] for s in steady[:minute])
    last = statistics.median(s[1] for s in steady[-minute:])
    slope = np.polyfit([s[0] for s in steady], [s[1] for s in steady], 1)[0] * 3600
    report(
        f"memory, 1920x1080, 4 ROIs, check_period {CHECK_PERIOD:g} s, scene change every "
        f"{SCENE_CHANGE:g} s, {minutes:g} min after {warm_up:g} s warm-up, "
        f"{len(steady)} samples",
        [
            Series("RSS, service with model + 1 camera", "MB", [s[1] for s in steady]),
            Series("RSS, service with model, no camera", "MB", [s[2] for s in steady]),
            Series("the camera's share", "MB", [s[1] - s[2] for s in steady]),
        ],
        digits=1,
    )
    print(f"  growth, first vs last {minute * sample:g} s (medians)  {last - first:+.1f} MB")
    print(f"  least-squares slope                  {slope:+.1f} MB/hour")
    print(
        f"  frames checked  {checked / elapsed:.2f}/s, with motion {states['frames_with_motion']}, "
        f"events stored {events}"
    )
    every = max(1, round(min(60.0, minutes * 60 / 4) / sample))
    timeline = ", ".join(f"{t:.0f}: {rss:.1f}" for t, rss, _ in samples[::every])
    print(f"  RSS timeline (s: MB)  {timeline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
