"""Starts and stops the aiohttp application as a service sink."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from ..cameras import CameraError
from ..frame import FrameError
from ..notify.api import routes as notify_routes
from ..service import Service
from .api import SERVICE_KEY, routes
from .push import PushHub

_LOGGER = logging.getLogger(__name__)


def create_app(service: Service, hub: PushHub) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024, middlewares=[camera_errors])
    app[SERVICE_KEY] = service
    app.add_routes(routes)
    app.add_routes(notify_routes)
    app.router.add_get("/api/ws", hub.handle)
    return app


@web.middleware
async def camera_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A camera that fails during a request is a 502 with the camera's own message."""
    try:
        return await handler(request)
    except (CameraError, FrameError) as error:
        return web.json_response({"error": str(error)}, status=502)


class WebServer:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.hub = PushHub(service)

    async def start(self) -> None:
        config = self.service.config.web
        await self.hub.start()
        self._runner = web.AppRunner(create_app(self.service, self.hub), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else config.port
        self.service.web_port = self.port
        _LOGGER.info("Web page on http://%s:%s/", config.host, self.port)

    async def stop(self) -> None:
        await self.hub.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
