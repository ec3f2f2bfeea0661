"""A real HTTP camera for tests: Debian's lighttpd serving a JPEG that the test replaces.

Paths: /open/snapshot.jpg (no auth), /basic/snapshot.jpg (basic auth),
/digest/snapshot.jpg (digest auth), /open/page.html (an HTML answer).
The access log tells how many requests reached the camera.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .net import free_port
from .waiting import wait_for_sync

USER, PASSWORD = "admin", "s3cret-cam"
REALM = "camera"
LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"

CONFIG = """
server.modules = ("mod_auth", "mod_authn_file", "mod_accesslog")
server.document-root = "{root}/www"
server.bind = "127.0.0.1"
server.port = {port}
server.pid-file = "{root}/lighttpd.pid"
server.errorlog = "{root}/error.log"
accesslog.filename = "{root}/access.log"
mimetype.assign = (".jpg" => "image/jpeg", ".html" => "text/html")
auth.backend = "plain"
auth.backend.plain.userfile = "{root}/users"
auth.require = (
  "/basic/" => ("method" => "basic", "realm" => "{realm}", "require" => "valid-user"),
  "/digest/" => ("method" => "digest", "realm" => "{realm}", "require" => "valid-user"),
)
"""


class LocalCamera:
    def __init__(self) -> None:
        if not Path(LIGHTTPD).exists():
            raise FileNotFoundError("lighttpd is not installed (apt-get install lighttpd)")
        self.root = Path(tempfile.mkdtemp(prefix="clevercam-camera-"))
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        for folder in ("open", "basic", "digest"):
            (self.root / "www" / folder).mkdir(parents=True)
        (self.root / "www" / "open" / "page.html").write_text("<html>login</html>")
        (self.root / "users").write_text(f"{USER}:{PASSWORD}\n")
        (self.root / "lighttpd.conf").write_text(
            CONFIG.format(root=self.root, port=self.port, realm=REALM)
        )

    def url(self, auth: str = "open", name: str = "snapshot.jpg") -> str:
        return f"http://127.0.0.1:{self.port}/{auth}/{name}"

    def set_image(self, data: bytes) -> None:
        """Replace the served snapshot atomically (every auth path serves the same scene)."""
        for folder in ("open", "basic", "digest"):
            target = self.root / "www" / folder / "snapshot.jpg"
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)

    def start(self) -> None:
        self._process = subprocess.Popen(
            [LIGHTTPD, "-D", "-f", str(self.root / "lighttpd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for_sync(self._listening, 10, "lighttpd to listen")

    def _listening(self) -> bool:
        import socket

        assert self._process is not None
        if self._process.poll() is not None:
            error = self._process.stderr.read().decode() if self._process.stderr else ""
            raise RuntimeError(f"lighttpd exited: {error}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def requests(self, path_part: str = "snapshot.jpg") -> int:
        """Requests that reached the camera (lighttpd's access log; complete after stop())."""
        log = self.root / "access.log"
        if not log.exists():
            return 0
        return sum(1 for line in log.read_text().splitlines() if path_part in line)

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
