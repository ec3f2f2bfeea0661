"""The bench scripts still run: each in its smallest mode (`--quick`), as a user would start
it. No figure is checked here; speed is measured by running bench/ on demand."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.paths import ROOT

# script -> a line its report always prints
SCRIPTS = {
    "motion_check": "clevercam speed-up",
    "classification": "inference / crop + resize",
    "idle_cpu": "per camera, from 1 camera(s)",
    "memory": "RSS, service with model + 1 camera",
    "latency": "camera change -> event at an MQTT subscriber",
    "scale": "in every run: up to",
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_bench_script_runs(script: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{script}", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert SCRIPTS[script] in result.stdout, result.stdout
    assert "machine:" in result.stdout
