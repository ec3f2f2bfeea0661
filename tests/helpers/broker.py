"""A real mosquitto broker on a free loopback port, restartable on the same port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from .net import free_port
from .waiting import wait_for_sync

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    def __init__(self, port: int | None = None, password_file: Path | None = None) -> None:
        if not Path(MOSQUITTO).exists():
            raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="clevercam-mqtt-"))
        auth = (
            f"allow_anonymous false\npassword_file {password_file}\n"
            if password_file
            else "allow_anonymous true\n"
        )
        (self.root / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\n{auth}persistence false\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.root / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_sync(self._listening, 10, "mosquitto to listen")

    def _listening(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {self._process.returncode}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
