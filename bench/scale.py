"""Item 6: how many cameras one service keeps on schedule on this machine.

Simulated cameras are `file://` folder cameras (the real FolderCamera source) replaying
20 real 1080p JPEGs of the bench scene at check_period 1 s: every frame carries its own
sensor noise, and 10 % of the frames show motion (a photo appears in one ROI, and
disappears ten frames later). Each camera's motion lands in another ROI and at another
time. All four ROIs take any label, so every classified motion becomes a stored event.

The real service runs as a subprocess. For each camera count, after a warm-up, the bench
reads the cameras' frame counters every 2 s over the window; the slope of their sum is the
frame rate. A service is on schedule while it checks at least 95 % of the frames the
schedule asks for (N cameras x 1 frame/s). Each run goes up the counts and stops at the
first one that falls behind.

    python -m bench.scale [--counts 20 50 100 200 300 400 500] [--window 40] [--runs 3] [--quick]
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from .harness import ServiceProcess, Throughput, bench_camera, measure_cpu, measure_throughput
from .scene import ROIS, frame_cycle
from .stats import OtherLoad, Series, banner, parser, report

CHECK_PERIOD = 1.0
CYCLE = 20  # frames per camera folder: motion at 2 of them
ON_SCHEDULE = 0.95


def frame_sets(root: Path, count: int, cycle: int) -> list[Path]:
    """Up to four folders of `cycle` frames, the motion of each in another ROI."""
    sets = []
    for index in range(min(count, len(ROIS))):
        folder = root / f"set{index}"
        folder.mkdir(parents=True)
        for position, data in enumerate(frame_cycle("1080p", cycle, start=index)):
            (folder / f"{position:03d}.jpg").write_bytes(data)
        sets.append(folder)
    return sets


def camera_folders(root: Path, sets: list[Path], cameras: int) -> list[Path]:
    """One folder per camera, linking to a frame set from its own offset, so the cameras'
    motion does not arrive all at once."""
    folders = []
    for camera in range(cameras):
        frames = sorted(sets[camera % len(sets)].iterdir())
        folder = root / f"cam{camera}"
        folder.mkdir(parents=True)
        offset = (camera * 7) % len(frames)
        for position in range(len(frames)):
            source = frames[(position + offset) % len(frames)]
            (folder / f"{position:03d}.jpg").symlink_to(source)
        folders.append(folder)
    return folders


def measure(folders: list[Path], warm_up: float, window: float) -> Throughput:
    """One service with a camera per folder, measured after a warm-up."""
    cameras = [
        bench_camera(f"cam{index}", folder.as_uri(), CHECK_PERIOD)
        for index, folder in enumerate(folders)
    ]
    with ServiceProcess(cameras) as service:
        # The first frame of every camera classifies all its ROIs: let that burst pass.
        with contextlib.suppress(TimeoutError):
            service.wait_frames(3, timeout=180)
        measure_cpu(service, warm_up)
        return measure_throughput(service, window)


def main(argv: list[str] | None = None) -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument(
        "--counts", type=int, nargs="+", default=[20, 50, 100, 200, 300, 400, 500]
    )
    args_parser.add_argument("--window", type=float, default=40.0, help="seconds measured")
    args_parser.add_argument("--warm-up", type=float, default=10.0)
    args_parser.add_argument("--runs", type=int, default=3)
    args = args_parser.parse_args(argv)
    counts, window, warm_up, runs, cycle = (
        ([2], 3.0, 1.0, 1, 2)
        if args.quick
        else (args.counts, args.window, args.warm_up, args.runs, CYCLE)
    )
    banner(" ".join(["python -m bench.scale", *(argv or sys.argv[1:])]))
    schedule = {n: Series(f"{n} cameras: frames checked / scheduled", "x") for n in counts}
    cpu = {n: Series(f"{n} cameras: service CPU", "% of a core") for n in counts}
    motion = {n: Series(f"{n} cameras: frames with motion", "%") for n in counts}
    with tempfile.TemporaryDirectory(prefix="clevercam-bench-") as folder, OtherLoad():
        root = Path(folder)
        sets = frame_sets(root / "sets", max(counts), cycle)
        for run in range(runs):
            for count in sorted(counts):
                folders = camera_folders(root / f"run{run}-{count}", sets, count)
                result = measure(folders, warm_up, window)
                kept = result.frames_per_second * CHECK_PERIOD / count
                schedule[count].values.append(kept)
                cpu[count].values.append(result.cpu_percent)
                motion[count].values.append(result.motion_share * 100)
                shutil.rmtree(root / f"run{run}-{count}")
                if kept < ON_SCHEDULE:
                    break  # more cameras would only fall further behind
    measured = [n for n in sorted(counts) if schedule[n].values]
    report(
        f"scale, 1920x1080 folder cameras at check_period {CHECK_PERIOD:g} s, 10 % of frames "
        f"with motion, {runs} runs x {window:g} s after {warm_up:g} s warm-up",
        [row for count in measured for row in (schedule[count], cpu[count], motion[count])],
    )
    every = [
        n
        for n in measured
        if len(schedule[n].values) == runs and min(schedule[n].values) >= ON_SCHEDULE
    ]
    median = [n for n in measured if statistics.median(schedule[n].values) >= ON_SCHEDULE]
    print(
        f"  on schedule (>= {ON_SCHEDULE:.0%} of the frames) in every run: up to "
        f"{max(every, default=0)} cameras; in the median run: up to {max(median, default=0)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
