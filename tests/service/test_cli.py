"""The command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers.paths import MODEL_DIR, ROOT
from tests.helpers.scenes import GATE_BOX, photo, scene_jpeg
from tests.helpers.waiting import wait_for_sync


def clevercam(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clevercam_mqtt", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip


def test_check_config_accepts_the_example() -> None:
    result = clevercam("check-config", "config.example.yaml")
    assert result.returncode == 0, result.stderr
    assert "OK (1 camera(s))" in result.stdout


def test_check_config_names_the_bad_key_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"cameras": [
        {"id": "x", "url": "http://127.0.0.1:9/a.jpg", "rois": [{"name": "r", "box": [5, 0, 1, 9]}]}
    ]}))  # fmt: skip
    result = clevercam("check-config", str(path))
    assert result.returncode == 1
    assert "cameras[0].rois[0].box: x_min must be < x_max" in result.stderr


def test_check_config_warns_about_missing_model_and_dead_camera(tmp_path: Path) -> None:
    path = tmp_path / "warn.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"path": "models/not_fetched_yet"},
        "cameras": [{"id": "x", "url": "http://127.0.0.1:9/a.jpg", "timeout": 1}],
    }))  # fmt: skip
    result = clevercam("check-config", str(path))
    assert result.returncode == 0
    assert "warning: model.path" in result.stderr and "not_fetched_yet" in result.stderr
    assert "warning: cameras[0] (x): cannot connect" in result.stderr


def test_test_classifier_prints_top_labels(tmp_path: Path) -> None:
    cat = tmp_path / "cat.jpg"
    photo("cat").save(cat)
    result = clevercam("test-classifier", str(cat), "--model", str(MODEL_DIR), "--top-k", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[0].endswith("Egyptian cat")
    scene = tmp_path / "scene.jpg"
    scene.write_bytes(scene_jpeg("cat"))
    boxed = clevercam("test-classifier", str(scene), "--box", *map(str, GATE_BOX))
    assert boxed.returncode == 0 and "cat" in boxed.stdout.splitlines()[0]
    bad = clevercam("test-classifier", str(scene), "--box", "50", "0", "10", "10")
    assert bad.returncode == 1 and "--box" in bad.stderr


def test_check_camera_saves_a_frame(tmp_path: Path, camera) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"cameras": [{"id": "gate", "url": camera.url("open")}]}))
    target = tmp_path / "frame.jpg"
    result = clevercam("--config", str(path), "check-camera", "gate", "--save", str(target))
    assert result.returncode == 0, result.stderr
    assert "gate: 1019x844" in result.stdout
    assert target.read_bytes()[:2] == b"\xff\xd8"
    unknown = clevercam("--config", str(path), "check-camera", "nope")
    assert unknown.returncode == 1 and "no camera 'nope'" in unknown.stderr


def test_service_runs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "1.jpg").write_bytes(scene_jpeg("empty"))
    (frames / "2.jpg").write_bytes(scene_jpeg("cat"))
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"path": str(tmp_path / "data")},
        "web": {"host": "127.0.0.1", "port": 0},
        "mqtt": {"enabled": False},
        "model": {"path": str(MODEL_DIR)},
        "cameras": [{"id": "replay", "url": f"file://{frames}", "check_period": 0.2,
                     "rois": [{"name": "gate", "box": list(GATE_BOX),
                               "labels": ["Egyptian cat", "tabby", "tiger cat"]}]}],
    }))  # fmt: skip
    log = tmp_path / "log.txt"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "clevercam_mqtt", "--config", str(path)],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ},
        )  # fmt: skip
        try:
            wait_for_sync(lambda: "in gate: Egyptian cat" in log.read_text(), 60, "a cat event")
            assert "[replay] Event" in log.read_text()  # the camera id is in the line
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert "Monitoring stopped" in log.read_text()
    assert any((tmp_path / "data").glob("*/*.thumb.jpg"))
