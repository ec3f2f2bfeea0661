"""Who may use the web server: login sessions, the API token, and the guards around them.

Access is open until `web.username`/`web.password` or `web.token` is set. Then browsers log
in (POST /api/login) and get an HttpOnly, SameSite=Strict session cookie, and machines send
`Authorization: Bearer <web.token>`. Secrets are compared in constant time; an address that
keeps failing is locked out for a while (429). Calls that change something are refused
when a browser says they come from another site (Origin / Sec-Fetch-Site), unless they carry
the token, which a foreign page cannot know.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..config import WebConfig
from .params import bad_request, json_body, json_error

_LOGGER = logging.getLogger(__name__)

SESSION_COOKIE = "clevercam_session"
SESSION_LIFETIME = 30 * 86400.0
MAX_SESSIONS = 1000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes anyone may call: they reveal nothing and are needed to log in.
PUBLIC_ROUTES = frozenset({"/api/health", "/api/login", "/api/logout", "/login", "/static/{name}"})

Via = Literal["open", "session", "token"]
Clock = Callable[[], float]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class Sessions:
    """Logged-in browsers. Kept in memory: a restart logs everyone out, by design."""

    def __init__(self, lifetime: float = SESSION_LIFETIME, clock: Clock = time.time) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._items: dict[str, tuple[str, float]] = {}  # sha256(token) -> (user, expiry)

    def create(self, user: str) -> str:
        now = self._clock()
        self._items = {k: v for k, v in self._items.items() if v[1] > now}
        while len(self._items) >= MAX_SESSIONS:
            del self._items[next(iter(self._items))]
        token = secrets.token_urlsafe(32)
        self._items[_digest(token)] = (user, now + self.lifetime)
        return token

    def user(self, token: str) -> str | None:
        item = self._items.get(_digest(token))
        if item is None or item[1] <= self._clock():
            return None
        return item[0]

    def drop(self, token: str) -> None:
        self._items.pop(_digest(token), None)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass
class Attempts:
    """Failed logins and tokens per address; past `free` failures each one locks it out,
    for twice as long as the previous lockout (up to `longest` seconds)."""

    free: int = 5
    first_lockout: float = 30.0
    longest: float = 900.0
    clock: Clock = time.monotonic
    _failures: dict[str, _Failures] = field(default_factory=dict)

    def retry_after(self, address: str) -> float:
        record = self._failures.get(address)
        return max(0.0, record.locked_until - self.clock()) if record else 0.0

    def failed(self, address: str) -> None:
        now = self.clock()
        record = self._failures.get(address)
        if record is None or now - record.last > 2 * self.longest:
            if len(self._failures) >= 10000:
                del self._failures[next(iter(self._failures))]
            record = self._failures[address] = _Failures()
        record.count += 1
        record.last = now
        if record.count >= self.free:
            lockout = min(self.longest, self.first_lockout * 2 ** (record.count - self.free))
            record.locked_until = now + lockout
            _LOGGER.warning(
                "%d failed logins from %s; locked out for %.0f s", record.count, address, lockout
            )

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


@dataclass
class Access:
    config: WebConfig
    sessions: Sessions = field(default_factory=Sessions)
    attempts: Attempts = field(default_factory=Attempts)

    @property
    def required(self) -> bool:
        return bool(self.config.username) or bool(self.config.token)

    @property
    def login_enabled(self) -> bool:
        return self.config.username is not None and self.config.password is not None

    def password_ok(self, username: str, password: str) -> bool:
        if self.config.username is None or self.config.password is None:
            return False
        user_ok = same_secret(username, self.config.username)
        password_ok = same_secret(password, self.config.password)
        return user_ok & password_ok

    def identify(self, request: web.Request) -> tuple[Via | None, web.HTTPException | None]:
        """How the request is authenticated, or the error a protected route answers with."""
        if not self.required:
            return "open", None
        header = request.headers.get(hdrs.AUTHORIZATION)
        if header is not None:
            address = request.remote or "?"
            wait = self.attempts.retry_after(address)
            if wait:
                return None, too_many(wait)
            scheme, _, value = header.partition(" ")
            token = self.config.token
            if scheme.lower() == "bearer" and token and same_secret(value.strip(), token):
                return "token", None
            self.attempts.failed(address)
            return None, unauthorized("invalid token")
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and self.sessions.user(cookie) is not None:
            return "session", None
        return None, None


ACCESS_KEY = web.AppKey("access", Access)


def too_many(wait: float) -> web.HTTPException:
    seconds = str(max(1, round(wait)))
    return json_error(
        web.HTTPTooManyRequests,
        f"too many failed attempts; try again in {seconds} s",
        **{hdrs.RETRY_AFTER: seconds},
    )


def unauthorized(message: str) -> web.HTTPException:
    return json_error(
        web.HTTPUnauthorized, message, **{hdrs.WWW_AUTHENTICATE: 'Bearer realm="clevercam"'}
    )


def _host_port(netloc: str, scheme: str = "") -> tuple[str, int | None]:
    """('host', port) with the scheme's default port left out, for comparing origins."""
    parts = urlsplit(f"//{netloc}")
    port = parts.port
    if port == {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme) or (
        not scheme and port in (80, 443)
    ):
        port = None
    return (parts.hostname or "").lower(), port


def check_same_origin(request: web.Request, base_url: str | None) -> None:
    """Refuse a browser request that another site made (the page cannot fake these headers)."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None:
        parts = urlsplit(origin)
        allowed = {_host_port(request.host)}
        if base_url:
            base = urlsplit(base_url)
            allowed.add(_host_port(base.netloc, base.scheme))
        if origin == "null" or _host_port(parts.netloc, parts.scheme) not in allowed:
            raise json_error(web.HTTPForbidden, "cross-site request refused")
    elif request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        raise json_error(web.HTTPForbidden, "cross-site request refused")


def _route(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def _login_redirect(request: web.Request) -> web.HTTPException:
    return web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='/')}")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate every request, and refuse cross-site ones that change something."""
    access = request.app[ACCESS_KEY]
    via, error = access.identify(request)
    websocket = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
    if via != "token" and (request.method not in SAFE_METHODS or websocket):
        check_same_origin(request, access.config.base_url)
    if via is None and _route(request) not in PUBLIC_ROUTES:
        if error is not None:
            raise error
        if request.method == "GET" and not request.path.startswith("/api/"):
            raise _login_redirect(request)
        raise unauthorized("login required")
    return await handler(request)


routes = web.RouteTableDef()


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    access = request.app[ACCESS_KEY]
    address = request.remote or "?"
    wait = access.attempts.retry_after(address)
    if wait:
        raise too_many(wait)
    body = await json_body(request, {"username", "password"})
    for name in ("username", "password"):
        if not isinstance(body.get(name), str):
            raise bad_request(f"{name}: expected a string")
    if not access.login_enabled:
        raise bad_request("login: not configured (set web.username and web.password)")
    if not access.password_ok(body["username"], body["password"]):
        access.attempts.failed(address)
        raise unauthorized("invalid username or password")
    access.attempts.succeeded(address)
    token = access.sessions.create(body["username"])
    response = web.json_response({"user": body["username"]})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(access.sessions.lifetime),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return response


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        request.app[ACCESS_KEY].sessions.drop(token)
    response = web.json_response({"user": None})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
