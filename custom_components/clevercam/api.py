"""Client of the clevercam service's JSON API and `/api/ws` push.

No Home Assistant imports here: the client only needs an aiohttp session, so it can be
tested against the real service and moved into a library later. Every failure surfaces as
`CleverCamError` (or `CleverCamAuthError` for a 401), raised from one wrapper.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any

import aiohttp

_LOGGER = logging.getLogger(__name__)
TIMEOUT = 10.0
# The test button fetches a frame and runs the classifier on every ROI; a slow camera
# (its own timeout is up to 120 s) must not turn that into a client error.
SLOW_TIMEOUT = 130.0
WS_HEARTBEAT = 30.0

Message = dict[str, Any]


class CleverCamError(Exception):
    """The service cannot be reached or refused the request (message says why)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CleverCamAuthError(CleverCamError):
    """The token or username/password was refused (HTTP 401)."""


class CleverCamClient:
    """One service, reached at http://host:port, with an optional token or login."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self._session = session
        self._timeout = timeout
        self.host = host
        self.port = port
        self._token = token or None
        self._username = username or None
        self._password = password
        self._cookie: str | None = None
        self._login_lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- requests ----------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """{status, version, instance_id}: the connection check of the config flow."""
        result: dict[str, Any] = await self._json("GET", "/api/health")
        if not isinstance(result, dict) or not result.get("instance_id"):
            raise CleverCamError("not a clevercam service (no instance_id in /api/health)")
        return result

    async def cameras(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._json("GET", "/api/cameras")
        return result

    async def system(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", "/api/system")
        return result

    async def days(self, camera: str) -> list[dict[str, Any]]:
        result = await self._json("GET", "/api/days", params={"camera": camera})
        days: list[dict[str, Any]] = result["days"]
        return days

    async def events(
        self,
        camera: str,
        *,
        start: date | None = None,
        end: date | None = None,
        roi: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        params = {"camera": camera, "limit": str(limit)}
        if start:
            params["start"] = start.isoformat()
        if end:
            params["end"] = end.isoformat()
        if roi:
            params["roi"] = roi
        result = await self._json("GET", "/api/events", params=params)
        events: list[dict[str, Any]] = result["events"]
        return events

    async def event_image(self, event_id: str, kind: str = "image") -> bytes:
        """The JPEG of an event ('image' or 'thumbnail')."""
        return await self._bytes(f"/api/events/{event_id}/{kind}")

    async def snapshot(self, camera: str) -> bytes:
        """The latest frame the service saw of a camera, as JPEG."""
        return await self._bytes(f"/api/cameras/{camera}/snapshot", timeout=SLOW_TIMEOUT)

    async def set_monitoring(self, camera: str, on: bool) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "POST", f"/api/cameras/{camera}/monitoring", json={"monitoring": on}
        )
        return result

    async def set_roi(self, camera: str, roi: str, **changes: Any) -> dict[str, Any]:
        """Change `enabled` and/or `labels` of a ROI; returns the camera."""
        result: dict[str, Any] = await self._json(
            "PUT", f"/api/cameras/{camera}/rois/{roi}", json=changes
        )
        return result

    async def refresh_camera(self, camera: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "POST", f"/api/cameras/{camera}/refresh", timeout=SLOW_TIMEOUT
        )
        return result

    async def test_classifier(self, camera: str) -> dict[str, Any]:
        """{camera, rois: {slug: [{label, score}]}} on a fresh frame."""
        result: dict[str, Any] = await self._json(
            "POST", f"/api/cameras/{camera}/test", timeout=SLOW_TIMEOUT
        )
        return result

    async def send_test_mail(self, camera: str) -> dict[str, Any]:
        """Mail a test message with the camera's latest frame attached."""
        result: dict[str, Any] = await self._json(
            "POST", "/api/notify/test", json={"camera": camera}, timeout=SLOW_TIMEOUT
        )
        return result

    # -- push --------------------------------------------------------------------------------

    async def listen(self, on_message: Callable[[Message], Awaitable[None] | None]) -> None:
        """Read `/api/ws` until the service closes it; each JSON object goes to on_message.

        Returns when the socket closes; raises CleverCamError when it cannot connect.
        """
        headers = await self._auth_headers()
        try:
            async with asyncio.timeout(self._timeout):
                ws = await self._session.ws_connect(
                    self.base_url + "/api/ws",
                    headers=headers,
                    heartbeat=WS_HEARTBEAT,
                    timeout=aiohttp.ClientWSTimeout(ws_close=self._timeout),
                )
        except aiohttp.WSServerHandshakeError as error:
            if error.status == HTTPStatus.UNAUTHORIZED:
                self._cookie = None
                raise CleverCamAuthError("the service refused the credentials", 401) from error
            raise CleverCamError(f"push refused: HTTP {error.status}", error.status) from error
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise CleverCamError(f"cannot connect to {self.base_url}: {error}") from error
        async with ws:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                try:
                    data = msg.json()
                except ValueError:
                    _LOGGER.debug("Ignoring a push message that is not JSON")
                    continue
                if isinstance(data, dict):
                    result = on_message(data)
                    if result is not None:
                        await result

    # -- the one wrapper ---------------------------------------------------------------------

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        body = await self._request(method, path, **kwargs)
        try:
            return json.loads(body)
        except ValueError as error:
            raise CleverCamError(f"{path}: the answer is not JSON") from error

    async def _bytes(self, path: str, **kwargs: Any) -> bytes:
        return await self._request("GET", path, **kwargs)

    async def _request(
        self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any
    ) -> bytes:
        """One request; a 401 with a login is retried once after logging in again."""
        timeout = timeout or self._timeout
        for attempt in (1, 2):
            headers = await self._auth_headers()
            answer = await self._send(method, path, headers, timeout, **kwargs)
            if answer.status == HTTPStatus.UNAUTHORIZED and self._username and attempt == 1:
                self._cookie = None  # the session expired (or the service restarted)
                continue
            break
        answer.raise_for_error(path)
        return answer.body

    async def _send(
        self, method: str, path: str, headers: dict[str, str], timeout: float, **kwargs: Any
    ) -> _Answer:
        """The only place a request is made: every transport failure becomes CleverCamError."""
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method, self.base_url + path, headers=headers, **kwargs
                ) as response:
                    body = await response.read()
                    return _Answer(response.status, body, response.cookies)
        except TimeoutError as error:
            raise CleverCamError(f"{path}: no answer within {timeout:g} s") from error
        except (aiohttp.ClientError, OSError) as error:
            raise CleverCamError(f"cannot connect to {self.base_url}: {error}") from error

    async def _auth_headers(self) -> dict[str, str]:
        if self._token:
            return {"Authorization": f"Bearer {self._token}"}
        if self._username:
            async with self._login_lock:
                if self._cookie is None:
                    self._cookie = await self._login()
            return {"Cookie": self._cookie}
        return {}

    async def _login(self) -> str:
        """POST /api/login; the session cookie is kept here, not in the shared cookie jar."""
        login = {"username": self._username, "password": self._password}
        answer = await self._send("POST", "/api/login", {}, self._timeout, json=login)
        if answer.status == HTTPStatus.UNAUTHORIZED:
            raise CleverCamAuthError("the service refused the username or password", 401)
        answer.raise_for_error("/api/login")
        if not answer.cookies:
            raise CleverCamError("/api/login: the service sent no session cookie")
        return "; ".join(f"{name}={morsel.value}" for name, morsel in answer.cookies.items())


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    cookies: SimpleCookie

    def raise_for_error(self, path: str) -> None:
        if self.status == HTTPStatus.UNAUTHORIZED:
            raise CleverCamAuthError("the service refused the credentials", self.status)
        if self.status >= 400:
            message = _error_text(self.body) or f"HTTP {self.status}"
            raise CleverCamError(f"{path}: {message}", self.status)


def _error_text(body: bytes) -> str:
    """The service's own message ({"error": "..."}), or the start of a plain answer."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return ""
