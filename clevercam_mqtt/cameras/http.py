"""HTTP(S) cameras: JPEG snapshot URLs, and MJPEG (multipart) stream URLs.

Snapshots go through `requests` (basic and digest auth, connection reuse) in a worker
thread. `auto` tries digest first and falls back to basic, as the original did, then
remembers what worked. A URL that answers with a multipart stream is read with aiohttp's
multipart reader: connect, take the first part, close, so the frame is always fresh.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import aiohttp
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from ..config import CameraConfig
from ..frame import Frame, JpegFrame
from . import CameraError, CameraSource, redact_url

_LOGGER = logging.getLogger(__name__)
_CHUNK = 64 * 1024


def _check_type(content_type: str) -> None:
    kind = content_type.split(";", 1)[0].strip().lower()
    if not kind.startswith("image/"):
        raise CameraError(f"URL returned {kind or 'no content type'}, not an image")


def _status_error(status: int, reason: str) -> CameraError:
    if status == 401:
        return CameraError("camera refused the credentials")
    if status == 403:
        return CameraError("camera refused access (HTTP 403 Forbidden)")
    return CameraError(f"camera answered HTTP {status} {reason}".rstrip())


class _MultipartStream(Exception):
    """The snapshot URL is really an MJPEG stream."""


class HttpCamera(CameraSource):
    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.url = config.url
        self.max_bytes = int(config.max_image_mb * 1024 * 1024)
        self._session = requests.Session()
        self._auth_mode = config.auth if config.username else "none"
        self._mjpeg = False

    def _auth(self, mode: str) -> AuthBase | None:
        user, password = self.config.username or "", self.config.password or ""
        if mode == "basic":
            return HTTPBasicAuth(user, password)
        if mode in ("digest", "auto"):
            return HTTPDigestAuth(user, password)
        return None

    def _get(self, mode: str) -> requests.Response:
        try:
            return self._session.get(
                self.url, auth=self._auth(mode), timeout=self.config.timeout, stream=True
            )
        except requests.Timeout:
            raise CameraError(f"camera did not answer within {self.config.timeout:g} s") from None
        except requests.ConnectionError as error:
            raise CameraError(
                f"cannot connect to {redact_url(self.url)}: {_reason(error)}"
            ) from None
        except requests.RequestException as error:
            raise CameraError(f"request to {redact_url(self.url)} failed: {error}") from None

    def _snapshot(self) -> bytes:
        response = self._get(self._auth_mode)
        if response.status_code == 401 and self._auth_mode == "auto":
            response.close()
            response = self._get("basic")
            if response.status_code != 401:
                self._auth_mode = "basic"
        elif self._auth_mode == "auto" and response.ok:
            self._auth_mode = "digest"
        with response:
            if not response.ok:
                raise _status_error(response.status_code, response.reason or "")
            content_type = response.headers.get("Content-Type", "")
            if content_type.lower().startswith("multipart/"):
                raise _MultipartStream
            _check_type(content_type)
            return self._read_capped(response)

    def _read_capped(self, response: requests.Response) -> bytes:
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise CameraError(f"answer is larger than {self.config.max_image_mb:g} MB")
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > self.max_bytes:
                    raise CameraError(f"answer is larger than {self.config.max_image_mb:g} MB")
        except requests.RequestException as error:
            raise CameraError(f"camera connection broke: {_reason(error)}") from None
        if not body:
            raise CameraError("camera answered with an empty body")
        return bytes(body)

    async def fetch(self) -> Frame:
        if not self._mjpeg:
            try:
                data = await asyncio.to_thread(self._snapshot)
                return JpegFrame(data, datetime.now().astimezone())
            except _MultipartStream:
                _LOGGER.info("%s is an MJPEG stream", redact_url(self.url))
                self._mjpeg = True
        data = await self._mjpeg_frame()
        return JpegFrame(data, datetime.now().astimezone())

    async def _mjpeg_frame(self) -> bytes:
        kwargs: dict[str, Any] = {}
        if self._auth_mode in ("basic", "auto") and self.config.username:
            kwargs["auth"] = aiohttp.BasicAuth(self.config.username, self.config.password or "")
        elif self._auth_mode == "digest":
            middleware = getattr(aiohttp, "DigestAuthMiddleware", None)
            if middleware is None:
                raise CameraError("digest auth on MJPEG streams needs aiohttp 3.12 or newer")
            kwargs["middlewares"] = (
                middleware(self.config.username or "", self.config.password or ""),
            )
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self.url, **kwargs) as response,
            ):
                if response.status >= 400:
                    raise _status_error(response.status, response.reason or "")
                reader = aiohttp.MultipartReader.from_response(response)
                part = await reader.next()
                if not isinstance(part, aiohttp.BodyPartReader):
                    raise CameraError("MJPEG stream ended before its first image")
                _check_type(part.headers.get("Content-Type", "image/jpeg"))
                body = bytearray()
                while chunk := await part.read_chunk(_CHUNK):
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise CameraError(f"answer is larger than {self.config.max_image_mb:g} MB")
                return bytes(body)
        except TimeoutError:
            raise CameraError(f"camera did not answer within {self.config.timeout:g} s") from None
        except aiohttp.ClientError as error:
            raise CameraError(f"MJPEG stream {redact_url(self.url)} failed: {error}") from None

    async def close(self) -> None:
        await asyncio.to_thread(self._session.close)


def _reason(error: Exception) -> str:
    """The innermost cause, without the URL repetition requests adds."""
    text = str(error.__context__ or error)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    return text.split(":", 1)[-1].strip()[:200] or type(error).__name__
