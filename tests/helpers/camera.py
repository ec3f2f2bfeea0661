"""A real HTTP camera for tests: Debian's lighttpd serving a JPEG that the test replaces.

Paths: /open/snapshot.jpg (no auth), /basic/snapshot.jpg (basic auth),
/digest/snapshot.jpg (digest auth), /open/page.html (an HTML answer).
The access log tells how many requests reached the camera. The stat cache is off, so a
replaced snapshot is served at once, as a camera serves its current frame.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .daemon import Daemon
from .net import free_port

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
server.stat-cache-engine = "disable"
auth.backend = "plain"
auth.backend.plain.userfile = "{root}/users"
auth.require = (
  "/basic/" => ("method" => "basic", "realm" => "{realm}", "require" => "valid-user"),
  "/digest/" => ("method" => "digest", "realm" => "{realm}", "require" => "valid-user"),
)
"""


class LocalCamera(Daemon):
    name = "lighttpd"

    def __init__(self) -> None:
        if not Path(LIGHTTPD).exists():
            raise FileNotFoundError("lighttpd is not installed (apt-get install lighttpd)")
        super().__init__(Path(tempfile.mkdtemp(prefix="clevercam-camera-")), free_port())
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

    def command(self) -> list[str]:
        return [LIGHTTPD, "-D", "-f", str(self.root / "lighttpd.conf")]

    def requests(self, path_part: str = "snapshot.jpg") -> int:
        """Requests that reached the camera (lighttpd's access log; complete after stop())."""
        log = self.root / "access.log"
        if not log.exists():
            return 0
        return sum(1 for line in log.read_text().splitlines() if path_part in line)
