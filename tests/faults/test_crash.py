"""`kill -9` of the real service while it writes events, then restart: nothing half-done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from clevercam_mqtt.store import INDEX_FILE
from tests.helpers.history_check import check_history, count_events
from tests.helpers.paths import ROOT
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import camera_config, service_config, write_config
from tests.helpers.waiting import wait_for_sync


class ServiceProcess:
    """`python -m clevercam_mqtt --config FILE` as a user runs it, output in a log file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "clevercam_mqtt", "--config", str(self.config)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def signal(self, sig: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(20)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(20)
            self.process = None


def new_events(history: Path, before: set[str], count: int) -> bool:
    return bool(count_events(history)) and len(set(check_history(history).ids) - before) >= count


def kill_while_writing(service: ServiceProcess, history: Path, patience: float = 10) -> None:
    """SIGKILL the moment an image is half-written (a .tmp file exists), if that is seen."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if any(history.glob("20*/*.tmp")):
            break
    service.kill()


def test_kill_9_while_writing_then_restart(tmp_path: Path) -> None:
    scenes = tmp_path / "scenes"  # the camera alternates: an event every other frame
    scenes.mkdir()
    (scenes / "a_empty.jpg").write_bytes(scene_jpeg("empty"))
    (scenes / "b_cat.jpg").write_bytes(scene_jpeg("cat"))
    camera = camera_config(f"file://{scenes}", check_period=0.05, sequence_gap=0.5)
    # 10 MB holds about 50 events: retention deletes while new events are written.
    config = service_config(tmp_path, [camera], storage={"max_disk_mb": 10})
    history = Path(config["storage"]["path"])
    service = ServiceProcess(write_config(tmp_path, config), tmp_path / "service.log")
    leftovers = 0
    try:
        for round_ in range(4):
            before = set(check_history(history).ids) if round_ else set()
            service.start()
            wait_for_sync(partial(new_events, history, before, 12), 60, f"events, round {round_}")
            kill_while_writing(service, history)
            crashed = check_history(history)
            assert crashed.integrity == "ok"
            assert not crashed.missing, "the index points at files that were never written"
            leftovers += len(crashed.orphans) + len(crashed.temporary)

        service.start()  # the restart cleans what the last kill left
        wait_for_sync(
            lambda: service.log.read_text().count("running with 1 camera") == 5, 60, "the restart"
        )
        assert service.signal(signal.SIGTERM) == 0
    finally:
        service.kill()
    report = check_history(history)
    report.assert_consistent()
    assert report.ids
    log = service.log.read_text()
    assert "Traceback" not in log, log[-3000:]
    print(f"files left by the kills and cleaned at start: {leftovers}")


def test_a_history_that_cannot_open_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    config = service_config(tmp_path, [])
    history = Path(config["storage"]["path"])
    (history / INDEX_FILE).mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "clevercam_mqtt", "--config", str(write_config(tmp_path, config))],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot start: cannot open the history index" in result.stderr
    assert "Traceback" not in result.stderr
