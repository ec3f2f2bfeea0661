"""Starts and stops the aiohttp application as a service sink."""

from __future__ import annotations

import logging

from aiohttp import web

from ..service import Service
from .api import SERVICE_KEY, routes

_LOGGER = logging.getLogger(__name__)


def create_app(service: Service) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[SERVICE_KEY] = service
    app.add_routes(routes)
    return app


class WebServer:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        config = self.service.config.web
        self._runner = web.AppRunner(create_app(self.service), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else config.port
        self.service.web_port = self.port
        _LOGGER.info("Web page on http://%s:%s/", config.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
