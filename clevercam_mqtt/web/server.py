"""Starts and stops the aiohttp application as a service sink."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from ..cameras import CameraError
from ..config import ConfigError
from ..frame import FrameError
from ..notify.api import routes as notify_routes
from ..service import Service
from . import api, auth, models_api
from .auth import ACCESS_KEY, Access, guard
from .classes_api import routes as classes_routes
from .pages import add_pages
from .push import PushHub

_LOGGER = logging.getLogger(__name__)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


def create_app(service: Service, hub: PushHub) -> web.Application:
    access = Access(service.config.web)
    app = web.Application(
        client_max_size=4 * 1024 * 1024,
        middlewares=[json_errors, guard, camera_errors, settings_errors],
    )
    app[api.SERVICE_KEY] = service
    app[api.AUTH_REQUIRED_KEY] = access.required
    app[ACCESS_KEY] = access
    app.add_routes(api.routes)
    app.add_routes(models_api.routes)
    app.add_routes(auth.routes)
    app.add_routes(notify_routes)
    app.add_routes(classes_routes)
    app.router.add_get("/api/ws", hub.handle)
    add_pages(app)
    app.on_response_prepare.append(_security_headers)  # type: ignore[arg-type]
    if service.config.web.token and not access.login_enabled:
        _LOGGER.warning(
            "web.token is set without web.username/password: the pages cannot be opened "
            "in a browser, only the API with the token"
        )
    return app


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API errors are JSON `{"error": ...}`, also those aiohttp raises (404, 405, 413)."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if (
            error.status < 400
            or error.content_type == "application/json"
            or not request.path.startswith("/api/")
        ):
            raise
        error.text = json.dumps({"error": error.reason.lower()})
        error.content_type = "application/json"
        raise


@web.middleware
async def camera_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A camera that fails during a request is a 502 with the camera's own message."""
    try:
        return await handler(request)
    except (CameraError, FrameError) as error:
        return web.json_response({"error": str(error)}, status=502)


@web.middleware
async def settings_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A change the config file cannot take (edited by hand into broken YAML, a full disk)
    is a 409 with the reason; the running settings are unchanged (the file is written first)."""
    try:
        return await handler(request)
    except ConfigError as error:
        return web.json_response({"error": str(error)}, status=409)


class WebServer:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.hub = PushHub(service)

    @property
    def app(self) -> web.Application | None:
        return self._runner.app if self._runner is not None else None

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
