"""A misbehaving HTTP camera for fault tests: a real aiohttp server on loopback.

Each path is one fault a real camera (or the network in front of it) shows:
/hang.jpg accepts and never answers, /garbage.jpg sends random bytes as image/jpeg,
/truncated.jpg half a JPEG, /bomb.jpg a tiny JPEG whose header claims 60000x60000
pixels, /huge.jpg an endless (1 GB) body without a length,
/declared.jpg announces 1 GB in Content-Length, /huge.mjpg an MJPEG stream whose first part
never ends, /hang.mjpg a stream that never sends its first part. /switch.jpg behaves as
`mode` says ("ok", "garbage", "truncated", "hang", "missing"), so a test can break and
heal one camera. `sent` counts the body bytes each path handed to the network.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections import Counter
from collections.abc import Awaitable, Callable

from aiohttp import web
from PIL import Image

GIGABYTE = 1024**3
CHUNK = 256 * 1024
BOUNDARY = "frame"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bomb_jpeg(side: int = 60000) -> bytes:
    """A valid 16x16 JPEG with its frame header (SOF0) rewritten to side x side."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = side.to_bytes(2, "big") * 2
    return bytes(data)


class FaultyCamera:
    def __init__(self, image: bytes) -> None:
        self.image = image
        self.mode = "ok"
        self.sent: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.port = 0
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def start(self) -> None:
        app = web.Application()
        routes: dict[str, Handler] = {
            "/hang.jpg": self._hang,
            "/garbage.jpg": self._garbage,
            "/truncated.jpg": self._truncated,
            "/bomb.jpg": self._bomb,
            "/huge.jpg": self._huge,
            "/declared.jpg": self._declared,
            "/huge.mjpg": self._huge_mjpeg,
            "/hang.mjpg": self._hang_mjpeg,
            "/switch.jpg": self._switch,
        }
        for path, handler in routes.items():
            app.router.add_get(path, self._counted(path, handler))
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _counted(self, path: str, handler: Handler) -> Handler:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.requests[path] += 1
            return await handler(request)

        return counted

    async def _hang(self, request: web.Request) -> web.StreamResponse:
        await self._release.wait()
        return web.Response(status=503)

    async def _garbage(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=os.urandom(50_000), content_type="image/jpeg")

    async def _truncated(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self.image[: len(self.image) // 2], content_type="image/jpeg")

    async def _bomb(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=bomb_jpeg(), content_type="image/jpeg")

    async def _stream(
        self, request: web.Request, path: str, headers: dict[str, str], head: bytes = b""
    ) -> web.StreamResponse:
        """Write up to 1 GB of zeros; stops when the client hangs up."""
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        chunk = bytes(CHUNK)
        try:
            await response.write(head)
            while self.sent[path] < GIGABYTE:
                await response.write(chunk)
                self.sent[path] += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, "/huge.jpg", {"Content-Type": "image/jpeg"})

    async def _declared(self, request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "image/jpeg", "Content-Length": str(GIGABYTE)}
        return await self._stream(request, "/declared.jpg", headers)

    async def _huge_mjpeg(self, request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
        head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode()
        return await self._stream(request, "/huge.mjpg", headers, head)

    async def _hang_mjpeg(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
        )
        await response.prepare(request)
        await self._release.wait()
        return response

    async def _switch(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "garbage":
            return await self._garbage(request)
        if self.mode == "truncated":
            return await self._truncated(request)
        if self.mode == "hang":
            return await self._hang(request)
        if self.mode == "missing":
            return web.Response(status=404, text="no such file")
        return web.Response(body=self.image, content_type="image/jpeg")
