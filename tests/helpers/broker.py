"""A real mosquitto broker on a free loopback port, restartable on the same port."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .daemon import Daemon
from .net import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker(Daemon):
    name = "mosquitto"

    def __init__(self, port: int | None = None, password_file: Path | None = None) -> None:
        if not Path(MOSQUITTO).exists():
            raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
        super().__init__(Path(tempfile.mkdtemp(prefix="clevercam-mqtt-")), port or free_port())
        auth = (
            f"allow_anonymous false\npassword_file {password_file}\n"
            if password_file
            else "allow_anonymous true\n"
        )
        (self.root / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\n{auth}persistence false\n"
        )

    def command(self) -> list[str]:
        return [MOSQUITTO, "-c", str(self.root / "mosquitto.conf")]
