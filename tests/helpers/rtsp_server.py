"""A real RTSP camera for tests: GStreamer's RTSP server (Debian packages) in a subprocess.

The scene is a JPEG file the test replaces (`set_image`), encoded live to H.264 or H.265;
the server can be stopped and started again on the same port, with optional credentials.
Needs Debian's python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0
gstreamer1.0-plugins-{base,good,ugly} (x264enc) and -bad (x265enc).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from .daemon import Daemon
from .net import free_port

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


class RtspServer(Daemon):
    name = "rtsp-server"
    start_timeout = 15.0

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
        super().__init__(Path(tempfile.mkdtemp(prefix="clevercam-rtsp-")), free_port())
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

    def url(self, path: str | None = None) -> str:
        return f"rtsp://127.0.0.1:{self.port}{path or self.path}"

    def set_image(self, data: bytes) -> None:
        """Replace the scene atomically; the next encoded frame shows it."""
        tmp = self.image.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.image)

    def command(self) -> list[str]:
        return [SYSTEM_PYTHON, str(SCRIPT), *self._args]

    def freeze(self, frozen: bool = True) -> None:
        """Stall the stream without closing it (SIGSTOP), or let it flow again (SIGCONT)."""
        self.signal(signal.SIGSTOP if frozen else signal.SIGCONT)
