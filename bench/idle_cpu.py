"""Item 3: the idle cost of the running service, in % of one core, on a static scene.

The real service runs as a subprocess against a real HTTP camera (lighttpd serving a
1080p frame of the bench scene) with check_period 1 s and four ROIs. Its CPU time (all
threads, from psutil) is read at the start and end of each measurement. In every run,
a service without cameras is measured too: the per-camera figure is the difference,
divided by the number of cameras.

    python -m bench.idle_cpu [--duration 60] [--runs 3] [--cameras 1 4] [--quick]
"""

from __future__ import annotations

import sys

from tests.helpers.camera import LocalCamera

from .harness import ServiceProcess, bench_camera, measure_cpu
from .scene import camera_jpeg, scene
from .stats import OtherLoad, Series, banner, parser, report

CHECK_PERIOD = 1.0


def main(argv: list[str] | None = None) -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--duration", type=float, default=60.0, help="seconds a run")
    args_parser.add_argument("--runs", type=int, default=3)
    args_parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4])
    args = args_parser.parse_args(argv)
    duration, runs = (3.0, 1) if args.quick else (args.duration, args.runs)
    counts = [0, 1] if args.quick else [0, *args.cameras]
    banner(" ".join(["python -m bench.idle_cpu", *(argv or sys.argv[1:])]))
    camera = LocalCamera()
    camera.set_image(camera_jpeg(scene("1080p"), seed=0))
    camera.start()
    total = {n: Series(f"service, {n} camera(s)", "% of a core") for n in counts}
    rate = {n: Series(f"frames/s, {n} camera(s)", "frames/s") for n in counts if n}
    try:
        with OtherLoad():
            for _ in range(runs):
                for n in counts:
                    cameras = [
                        bench_camera(f"cam{i}", camera.url(), CHECK_PERIOD) for i in range(n)
                    ]
                    with ServiceProcess(cameras) as service:
                        service.wait_frames(3)
                        cpu, frames = measure_cpu(service, duration)
                    total[n].values.append(cpu)
                    if n:
                        rate[n].values.append(frames / duration)
    finally:
        camera.close()
    per_camera = [
        Series(
            f"per camera, from {n} camera(s)",
            "% of a core",
            [
                (busy - idle) / n
                for busy, idle in zip(total[n].values, total[0].values, strict=True)
            ],
        )
        for n in counts
        if n
    ]
    report(
        f"idle CPU, 1920x1080 static scene, 4 ROIs, check_period {CHECK_PERIOD:g} s, "
        f"{runs} runs x {duration:g} s",
        [*total.values(), *per_camera, *rate.values()],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
