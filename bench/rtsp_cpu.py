"""CPU per RTSP camera: clevercam's keyframe mode vs every frame vs an ffmpeg process.

One 1080p 15 fps H.264 stream (a camera-like clip: the driveway photo with sensor noise
and a cat walking across, about 4 Mbit/s, no B-frames) is served by GStreamer's RTSP
server, and four readers watch it side by side, in one run:

- clevercam `decode: keyframes` checked every 5 s (the default check period): the newest
  keyframe is decoded only when a check asks for it;
- clevercam `decode: keyframes` checking every keyframe (a check period shorter than the
  keyframe interval);
- clevercam `decode: all`, checking every frame;
- `ffmpeg -i rtsp://... -f rawvideo -pix_fmt yuv420p pipe:`, the way NVRs decode.

Each clevercam reader fetches like the monitor and computes the 1/8 grey motion picture.
Each reader's CPU time (all threads) over the same window is reported as % of one core.
Run from the repository: `python -m bench.rtsp_cpu [--seconds 30] [--gop 30]`.
Needs ffmpeg (with libx264, to make the clip and as the NVR reference) and the RTSP test
server's Debian packages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

WIDTH, HEIGHT, FPS = 1920, 1080, 15


def make_clip(folder: Path, seconds: float, gop: int, kbps: int, noise: int) -> Path:
    """A camera-like clip: static scene, temporal noise, one moving object."""
    from tests.helpers.scenes import driveway, photo

    background, cat = folder / "background.png", folder / "cat.png"
    driveway().resize((WIDTH, HEIGHT)).save(background)
    photo("cat").resize((360, 270)).save(cat)
    clip = folder / "clip.mkv"
    walk = f"x='mod(t*120,{WIDTH + 360})-360':y={HEIGHT // 2}"
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
            "-loop", "1", "-framerate", str(FPS), "-i", str(background),
            "-loop", "1", "-framerate", str(FPS), "-i", str(cat),
            "-filter_complex", f"[0][1]overlay={walk},noise=alls={noise}:allf=t,format=yuv420p",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "superfast", "-profile:v", "main",
            "-bf", "0", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
            "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k",
            str(clip),
        ],
        check=True,
    )  # fmt: skip
    return clip


async def read(url: str, decode: str, period: float, warmup: float, seconds: float) -> dict:
    """One clevercam reader, paced like the monitor: fetch, 1/8 grey picture, sleep."""
    from clevercam_mqtt.cameras.rtsp import RtspCamera
    from clevercam_mqtt.config import CameraConfig

    config = CameraConfig(id="bench", url=url, decode=decode, check_period=max(period, 0.05))
    camera = RtspCamera(config)

    async def check() -> None:
        started = time.monotonic()
        frame = await camera.fetch()
        await asyncio.to_thread(frame.grey, 8)
        await asyncio.sleep(period - (time.monotonic() - started))

    try:
        started = time.monotonic()
        while time.monotonic() - started < warmup:
            await check()
        cpu_start, window_start, frames = time.process_time(), time.monotonic(), 0
        while time.monotonic() - window_start < seconds:
            await check()
            frames += 1
        return {
            "cpu": time.process_time() - cpu_start,
            "wall": time.monotonic() - window_start,
            "frames": frames,
        }
    finally:
        await camera.close()


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def compare(
    seconds: float, warmup: float, gop: int, kbps: int, noise: int
) -> dict[str, dict[str, float]]:
    from tests.helpers.rtsp_server import RtspServer

    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is missing (apt-get install ffmpeg)")
    folder = Path(tempfile.mkdtemp(prefix="clevercam-bench-"))
    try:
        clip = make_clip(folder, warmup + seconds + 15, gop, kbps, noise)
        server = RtspServer(clip=clip)
        server.start()
        try:
            return _run_readers(server.url(), seconds, warmup)
        finally:
            server.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


READERS = {
    # name: (decode, check period in seconds; 0 = every frame the mode offers)
    "keyframes, check_period 5 s": ("keyframes", 5.0),
    "keyframes, every keyframe": ("keyframes", 0.0),
    "every frame": ("all", 0.0),
}


def _run_readers(url: str, seconds: float, warmup: float) -> dict[str, dict[str, float]]:
    readers = {
        name: subprocess.Popen(
            [sys.executable, "-m", "bench.rtsp_cpu", "--reader", decode, "--period", str(period),
             "--url", url, "--warmup", str(warmup), "--seconds", str(seconds)],
            stdout=subprocess.PIPE,
        )
        for name, (decode, period) in READERS.items()
    }  # fmt: skip
    ffmpeg = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
         "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    probe = psutil.Process(ffmpeg.pid)
    time.sleep(warmup)
    cpu_start, wall_start = cpu_seconds(probe), time.monotonic()
    time.sleep(seconds)
    ffmpeg_cpu, wall = cpu_seconds(probe) - cpu_start, time.monotonic() - wall_start
    ffmpeg.terminate()
    ffmpeg.wait()
    results = {"ffmpeg": {"cpu": ffmpeg_cpu, "wall": wall, "frames": round(wall * FPS)}}
    for name, process in readers.items():
        out, _ = process.communicate(timeout=warmup + seconds + 60)
        results[name] = json.loads(out)
    return results


def report(results: dict[str, dict[str, float]], gop: int, kbps: int, noise: int) -> str:
    rows = [(f"clevercam, {name}", results[name]) for name in READERS]
    rows.append(("ffmpeg to raw frames (NVR style)", results["ffmpeg"]))
    lines = [
        f"1080p {FPS} fps H.264, keyframe every {gop} frames ({gop / FPS:g} s), {kbps} kbit/s, "
        f"sensor noise {noise}, "
        f"{psutil.cpu_count()} cores ({_cpu_name()})",
        f"{'reader':<44} {'CPU % of one core':>18} {'frames/s':>9}",
    ]
    for name, result in rows:
        share = 100 * result["cpu"] / result["wall"]
        lines.append(f"{name:<44} {share:>17.1f}% {result['frames'] / result['wall']:>9.2f}")
    every = results["every frame"]["cpu"] / results["every frame"]["wall"]
    for name in list(READERS)[:2]:
        ratio = results[name]["cpu"] / results[name]["wall"] / every
        lines.append(f"{name} / every frame = {ratio:.3f} (1/{1 / ratio:.1f})")
    return "\n".join(lines)


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--gop", type=int, default=30, help="frames between keyframes")
    parser.add_argument("--kbps", type=int, default=4000)
    parser.add_argument("--noise", type=int, default=5, help="temporal noise (ffmpeg alls)")
    parser.add_argument("--reader", choices=["keyframes", "all"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--period", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        result = asyncio.run(read(args.url, args.reader, args.period, args.warmup, args.seconds))
        print(json.dumps(result))
        return
    results = compare(args.seconds, args.warmup, args.gop, args.kbps, args.noise)
    print(report(results, args.gop, args.kbps, args.noise))


if __name__ == "__main__":
    main()
