"""A real server program started by a test on a loopback port, and stopped again."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from pathlib import Path

from .waiting import wait_for_sync


class Daemon:
    """Runs `command()` with its output in `root/<name>.log`; ready once the port accepts."""

    name = "daemon"
    start_timeout = 10.0

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(self.command(), stdout=log, stderr=log)
        wait_for_sync(self._listening, self.start_timeout, f"{self.name} to listen")

    def _listening(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            output = self.log.read_text(errors="replace")
            raise RuntimeError(f"{self.name} exited with {self._process.returncode}: {output}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def signal(self, number: int) -> None:
        assert self._process is not None
        self._process.send_signal(number)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)  # a frozen process cannot terminate
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
