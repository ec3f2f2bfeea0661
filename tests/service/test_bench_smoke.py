"""The bench scripts still run: each in its smallest mode, as a user would start it. No
figure is checked here; speed is measured by running bench/ on demand (BENCHMARKS.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.paths import ROOT

# script -> (its smallest run, a line its report always prints)
SCRIPTS = {
    "motion_check": (["--quick"], "clevercam speed-up"),
    "classification": (["--quick"], "inference / crop + resize"),
    "idle_cpu": (["--quick"], "per camera, from 1 camera(s)"),
    "memory": (["--quick"], "RSS, service with model + 1 camera"),
    "latency": (["--quick"], "camera change -> event at an MQTT subscriber"),
    "scale": (["--quick"], "in every run: up to"),
    "classes": (["--rounds", "1"], "nearest centroids"),
    "rtsp_cpu": (["--seconds", "2", "--warmup", "1"], "ffmpeg to raw frames"),
    "rtsp_latency": (["--trials", "1", "--gop", "15", "--period", "1"], "HTTP snapshot"),
}


def test_every_bench_script_is_covered() -> None:
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py")}
    helpers = {"__init__", "harness", "scene", "stats"}
    assert scripts - helpers == set(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_bench_script_runs(script: str) -> None:
    args, expected = SCRIPTS[script]
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout, result.stdout
