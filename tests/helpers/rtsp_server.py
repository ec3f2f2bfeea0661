"""A real RTSP camera for tests: GStreamer's RTSP server (Debian packages) in a subprocess.

The scene is a JPEG file the test replaces (`set_image`), encoded live to H.264 or H.265;
the server can be stopped and started again on the same port, with optional credentials.
Needs Debian's python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0
gstreamer1.0-plugins-{base,good,ugly} (x264enc) and -bad (x265enc).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from .net import free_port
from .waiting import wait_for_sync

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
USER, PASSWORD = "viewer", "p@ss:w/rd%"


def has_encoder(name: str) -> bool:
    """Whether Debian's GStreamer has an element (x265enc comes with plugins-bad)."""
    check = (
        "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; "
        f"Gst.init(None); raise SystemExit(Gst.ElementFactory.find({name!r}) is None)"
    )
    return subprocess.run([SYSTEM_PYTHON, "-c", check], capture_output=True).returncode == 0


class RtspServer:
    def __init__(
        self,
        *,
        codec: str = "h264",
        fps: int = 10,
        keyint: int = 10,
        path: str = "/stream",
        credentials: tuple[str, str] | None = None,
        clip: Path | None = None,
        extra: list[str] | None = None,
    ) -> None:
        if not Path(SYSTEM_PYTHON).exists():
            raise FileNotFoundError(f"{SYSTEM_PYTHON} (Debian's python3 with python3-gi) missing")
        self.root = Path(tempfile.mkdtemp(prefix="clevercam-rtsp-"))
        self.port = free_port()
        self.path = path
        self.image = self.root / "scene.jpg"
        self._args = [
            "--port", str(self.port), "--path", path, "--codec", codec,
            "--fps", str(fps), "--keyint", str(keyint), *(extra or []),
        ]  # fmt: skip
        if clip is not None:
            self._args += ["--clip", str(clip)]
        else:
            self._args += ["--image", str(self.image)]
        if credentials is not None:
            self._args += ["--user", credentials[0], "--password", credentials[1]]
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, path: str | None = None) -> str:
        return f"rtsp://127.0.0.1:{self.port}{path or self.path}"

    def set_image(self, data: bytes) -> None:
        """Replace the scene atomically; the next encoded frame shows it."""
        tmp = self.image.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.image)

    def start(self) -> None:
        with (self.root / "server.log").open("ab") as log:
            self._process = subprocess.Popen(
                [SYSTEM_PYTHON, str(SCRIPT), *self._args], stdout=log, stderr=log
            )
        wait_for_sync(self._listening, 15, "the RTSP server to listen")

    def _listening(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            log = (self.root / "server.log").read_text(errors="replace")
            raise RuntimeError(f"RTSP server exited with {self._process.returncode}: {log}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def freeze(self, frozen: bool = True) -> None:
        """Stall the stream without closing it (SIGSTOP), or let it flow again (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)
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
