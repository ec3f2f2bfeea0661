"""The HTML pages, their assets and the OpenAPI file.

Files are served from a table made at start-up from the package's `static/` folder: a
request names an entry of that table, never a path, so nothing outside it can be reached.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from .auth import ACCESS_KEY, SESSION_COOKIE

STATIC_DIR = Path(__file__).parent / "static"
PAGES = {
    "/": "index.html",
    "/cameras": "cameras.html",
    "/classes": "classes.html",
    "/system": "system.html",
    "/login": "login.html",
}
CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".yaml": "application/yaml",
    ".txt": "text/plain",
}
ASSETS_KEY = web.AppKey("assets", dict[str, Path])
# Pages and assets are small and change with a new version only: revalidate each time.
NO_CACHE = {"Cache-Control": "no-cache"}


def static_assets(folder: Path = STATIC_DIR) -> dict[str, Path]:
    """Name -> file for every servable asset (not the pages, which have their own routes)."""
    return {
        path.name: path
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix in CONTENT_TYPES
    }


def _file(path: Path) -> web.FileResponse:
    content_type = "text/html" if path.suffix == ".html" else CONTENT_TYPES[path.suffix]
    return web.FileResponse(path, headers={**NO_CACHE, "Content-Type": content_type})


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this server only (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


routes = web.RouteTableDef()


def _page(name: str) -> Handler:
    async def page(request: web.Request) -> web.StreamResponse:
        return _file(STATIC_DIR / name)

    return page


@routes.get("/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS_KEY]
    cookie = request.cookies.get(SESSION_COOKIE)
    if not access.required or (cookie and access.sessions.user(cookie) is not None):
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _file(STATIC_DIR / PAGES["/login"])


@routes.get("/static/{name}")
async def asset(request: web.Request) -> web.StreamResponse:
    path = request.app[ASSETS_KEY].get(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound()
    return _file(path)


@routes.get("/api/openapi.yaml")
async def openapi(request: web.Request) -> web.StreamResponse:
    return _file(STATIC_DIR / "openapi.yaml")


def add_pages(app: web.Application) -> None:
    app[ASSETS_KEY] = static_assets()
    for path, name in PAGES.items():
        if path != "/login":
            app.router.add_get(path, _page(name))
    app.add_routes(routes)
