"""RTSP(S) cameras: one long-lived PyAV connection per camera, read in a worker thread.

By default only keyframes are decoded (`skip_frame = "NONKEY"`): cameras send one every
1-4 s, which suits a check period of seconds at a small part of the CPU that decoding every
frame costs (`decode: all` samples every frame). Every packet is read, but the worker keeps
only the newest keyframe and decodes it when a fetch asks for a frame, so a check period
longer than the keyframe interval decodes fewer keyframes still. `fetch()` hands out each
frame once, waiting for the next one when the loop is faster than the stream.

Credentials are put into the URL only inside the worker; logs and errors show the redacted
URL. FFmpeg keeps the packets it reads while probing a new stream and would hand them over
as if live; `fflags=nobuffer` drops them, so the first frame after a connect is fresh (and
marked `baseline`: a reconnect is never "motion").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from ..config import CameraConfig
from ..frame import Frame, FrameError
from ..video_frame import DecodedFrame
from . import CameraError, CameraSource, redact_url

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.packet import Packet

_LOGGER = logging.getLogger(__name__)
MISSING_AV = "RTSP cameras need PyAV: pip install 'clevercam_mqtt[rtsp]'"
FIRST_RETRY = 0.5
MAX_RETRY = 30.0
IDLE_AFTER = 60.0
"""Disconnect when nobody asked for a frame this long (monitoring paused, out of schedule)."""
LONG_GOP_WAIT = 10.0
"""How much longer than `timeout` a fetch waits for the first keyframe while packets flow."""
PROBE_MICROSECONDS = 300_000


def stream_url(url: str, username: str | None, password: str | None) -> str:
    """The URL FFmpeg opens: the camera's username/password keys put into it."""
    if not username:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    userinfo = quote(username, safe="")
    if password:
        userinfo = f"{userinfo}:{quote(password, safe='')}"
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))


def open_error(error: Exception, url: str, timeout: float) -> CameraError:
    """A connect failure in words a user can act on (never with the credentials)."""
    from av import error as av_error

    where = redact_url(url)
    if isinstance(error, av_error.HTTPNotFoundError):
        return CameraError("RTSP stream not found")
    if isinstance(error, av_error.HTTPUnauthorizedError):
        return CameraError("camera refused the credentials")
    if isinstance(error, av_error.HTTPForbiddenError):
        return CameraError("camera refused access (RTSP 403 Forbidden)")
    if isinstance(error, av_error.ExitError | TimeoutError):
        return CameraError(f"camera did not answer within {timeout:g} s")
    if isinstance(error, ConnectionRefusedError):
        return CameraError(f"cannot connect to {where}: connection refused")
    if isinstance(error, av_error.HTTPError):
        return CameraError(f"camera answered: {_strerror(error)}")
    return CameraError(f"cannot open {where}: {_strerror(error)}")


def read_error(error: Exception, timeout: float) -> CameraError:
    from av import error as av_error

    if isinstance(error, av_error.ExitError | TimeoutError):
        return CameraError(f"no frame for {timeout:g} s")
    return CameraError(f"RTSP stream broke: {_strerror(error)}")


def _strerror(error: Exception) -> str:
    """The error's reason only: PyAV's str() repeats the URL, credentials included."""
    return getattr(error, "strerror", None) or type(error).__name__


def _import_av() -> None:
    try:
        import av  # noqa: F401
    except ImportError:
        raise CameraError(MISSING_AV) from None


@dataclass
class _Latest:
    """What the worker shares with `fetch()`, guarded by `RtspCamera._lock`."""

    frame: DecodedFrame | None = None
    frame_connection: int = 0
    decoded: int = 0
    keyframes: int = 0
    handed: int = 0
    handed_connection: int = 0
    connection: int = 0
    connecting: bool = False
    idle: bool = False
    waiting: bool = False
    error: str | None = None
    retry_at: float = 0.0
    last_packet: float = 0.0
    last_fetch: float = field(default_factory=time.monotonic)
    info: dict[str, object] = field(default_factory=dict)


class RtspCamera(CameraSource):
    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self._open_url = stream_url(config.url, config.username, config.password)
        self._options = {
            "rtsp_transport": config.rtsp_transport,
            "fflags": "nobuffer",
            "analyzeduration": str(PROBE_MICROSECONDS),
            "timeout": str(int(config.timeout * 1_000_000)),
        }
        self._idle_after = max(IDLE_AFTER, 3 * config.check_period)
        self._lock = threading.Lock()
        self._shared = _Latest()
        self._stop = threading.Event()
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._snapshot: CameraSource | None = None
        self._snapshot_failing = False
        if config.snapshot_url:
            from .http import HttpCamera

            self._snapshot = HttpCamera(config.model_copy(update={"url": config.snapshot_url}))

    @property
    def keeps_connection(self) -> bool:
        return True

    # -- the event loop's side -------------------------------------------------------------

    async def fetch(self) -> Frame:
        if self._thread is None:
            await asyncio.to_thread(_import_av)
            self._loop, self._changed = asyncio.get_running_loop(), asyncio.Event()
        with self._lock:
            self._shared.last_fetch = time.monotonic()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"rtsp:{self.config.id}", daemon=True
            )
            self._thread.start()
        assert self._changed is not None
        self._wanted.set()  # wakes a worker that closed an unused stream
        deadline = time.monotonic() + self.config.timeout
        try:
            while True:
                self._changed.clear()
                frame = self._take(deadline)
                if frame is not None:
                    return frame
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait(), max(0.05, deadline - time.monotonic())
                    )
        finally:
            with self._lock:
                self._shared.waiting = False

    def _take(self, deadline: float) -> DecodedFrame | None:
        """A frame not handed out yet; None to wait on; raises when waiting is pointless."""
        timeout = self.config.timeout
        with self._lock:
            shared, now = self._shared, time.monotonic()
            if shared.frame is not None and shared.decoded > shared.handed:
                return self._hand_out()
            if shared.error is not None and (shared.retry_at > deadline or now >= deadline):
                raise CameraError(shared.error)
            shared.waiting = True  # the worker decodes the next keyframe, and stays connected
            if now < deadline:
                return None
            if shared.connecting:  # av.open gives its own verdict within `timeout`
                if now < deadline + timeout:
                    return None
                raise CameraError(f"camera did not answer within {timeout:g} s")
            alive = now - shared.last_packet < timeout
            if alive and shared.frame_connection != shared.connection:
                if now < deadline + LONG_GOP_WAIT:
                    return None  # packets flow; the first keyframe is still to come
                raise CameraError(f"no keyframe for {timeout + LONG_GOP_WAIT:g} s")
            if alive and shared.frame is not None:
                return self._hand_out()  # the next keyframe is just far away: the same frame
            raise CameraError(f"no frame for {timeout:g} s")

    def _hand_out(self) -> DecodedFrame:
        shared = self._shared
        assert shared.frame is not None
        frame = shared.frame
        frame.baseline = shared.frame_connection != shared.handed_connection
        shared.handed, shared.handed_connection = shared.decoded, shared.frame_connection
        return frame

    async def event_image(self, frame: Frame) -> tuple[bytes, tuple[int, int]]:
        """The `snapshot_url` picture (the full-resolution main stream) when configured."""
        if self._snapshot is not None:
            try:
                snapshot = await self._snapshot.fetch()
                size = await asyncio.to_thread(lambda: snapshot.size)
                if self._snapshot_failing:
                    _LOGGER.info("[%s] snapshot_url works again", self.config.id)
                    self._snapshot_failing = False
                return snapshot.jpeg(), size
            except (CameraError, FrameError) as error:
                if not self._snapshot_failing:
                    _LOGGER.warning(
                        "[%s] snapshot_url failed (%s); storing the stream's frame",
                        self.config.id,
                        error,
                    )
                    self._snapshot_failing = True
        return await super().event_image(frame)

    def describe(self) -> dict[str, object]:
        with self._lock:
            info = dict(self._shared.info)
            frame = self._shared.frame
            info["keyframes received"] = self._shared.keyframes
            info["frames decoded"] = self._shared.decoded
            if self._shared.idle:
                info["stream"] = "closed until a check wants a frame"
        info["transport"] = self.config.rtsp_transport
        info["decode"] = self.config.decode
        if self.config.snapshot_url:
            info["event images from"] = redact_url(self.config.snapshot_url)
        if frame is not None:
            age = (datetime.now().astimezone() - frame.timestamp).total_seconds()
            info["newest frame age"] = f"{age:.2f} s"
        return info

    async def close(self) -> None:
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, self.config.timeout + 5)
            self._thread = None
        if self._snapshot is not None:
            await self._snapshot.close()

    def _notify(self) -> None:
        """Wake a waiting fetch (from the worker thread)."""
        if self._loop is not None and self._changed is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self._changed.set)

    # -- the worker thread -----------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if self._idle():
                self._wanted.clear()
                if self._idle():  # a fetch between the two checks has set `_wanted` again
                    _LOGGER.info(
                        "[%s] no frame wanted; RTSP stream closed until needed", self.config.id
                    )
                    self._set_idle(True)
                    self._wanted.wait()
                    self._set_idle(False)
                continue
            decoded = self._shared.decoded
            try:
                self._read_stream()
                message = "RTSP stream ended"
            except CameraError as error:
                message = str(error)
            except Exception as error:  # a worker that dies would leave the camera silent
                message = f"RTSP reader failed: {type(error).__name__}"
                _LOGGER.exception("[%s] %s", self.config.id, message)
            if self._stop.is_set():
                break
            if self._idle():
                continue
            failures = 1 if self._shared.decoded > decoded else failures + 1
            delay = min(MAX_RETRY, FIRST_RETRY * 2 ** (failures - 1))
            with self._lock:
                self._shared.error = message
                self._shared.retry_at = time.monotonic() + delay
            # The monitor logs the problem once when a fetch reports it; a blip that a
            # reconnect hides before the next fetch is only worth a debug line.
            _LOGGER.debug("[%s] %s; next try in %.1f s", self.config.id, message, delay)
            self._notify()
            self._stop.wait(delay)

    def _set_idle(self, idle: bool) -> None:
        with self._lock:
            self._shared.idle = idle

    def _idle(self) -> bool:
        with self._lock:
            shared = self._shared
            return not shared.waiting and time.monotonic() - shared.last_fetch > self._idle_after

    def _read_stream(self) -> None:
        """One connection: open, then decode until the stream ends, stalls or is not wanted."""
        import av

        begin = time.monotonic()
        timeout = self.config.timeout
        with self._lock:
            self._shared.connecting = True
        try:
            container = av.open(self._open_url, options=self._options, timeout=(timeout, timeout))
        except (av.FFmpegError, OSError) as error:
            raise open_error(error, self.config.url, timeout) from None
        finally:
            with self._lock:
                self._shared.connecting = False
        try:
            self._decode(container, begin)
        except av.FFmpegError as error:
            raise read_error(error, timeout) from None
        finally:
            with contextlib.suppress(av.FFmpegError):  # its message would repeat the URL
                container.close()

    def _decode(self, container: InputContainer, begin: float) -> None:
        import av

        if not container.streams.video:
            raise CameraError("the RTSP stream has no video")
        stream = container.streams.video[0]
        codec = stream.codec_context
        if self.config.decode == "keyframes":
            codec.skip_frame = "NONKEY"
        connected = time.monotonic()
        with self._lock:
            self._shared.connection += 1
            self._shared.error = None
            self._shared.last_packet = connected
            connection = self._shared.connection
            self._shared.info = {
                "codec": f"{codec.name} ({codec.profile})" if codec.profile else codec.name,
                "frame rate": f"{float(stream.average_rate):g} fps"
                if stream.average_rate
                else "unknown",
                "connect": f"{connected - begin:.2f} s",
            }
        keyframes = _KeyframeClock()
        lazy = self.config.decode == "keyframes"
        pending: Packet | None = None
        first = True
        for packet in container.demux(stream):
            if self._stop.is_set() or self._idle():
                return
            if packet.size == 0:
                continue  # the flush packet at the end of the stream
            now = time.monotonic()
            interval = keyframes.packet(packet, now)
            with self._lock:
                self._shared.last_packet = now
                self._shared.keyframes += packet.is_keyframe
                if interval:
                    self._shared.info["keyframe interval"] = interval
                wanted = self._shared.waiting or first
            if lazy:
                # Keep the newest keyframe and decode it only when a fetch wants a frame
                # (and the first one, which also hands the decoder the parameter sets).
                if packet.is_keyframe:
                    pending = packet
                if pending is None or not wanted:
                    continue
                packet, pending = pending, None
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                frames = []  # one damaged packet; the decoder recovers at the next keyframe
            for video in frames:
                frame = DecodedFrame(video, datetime.now().astimezone())
                with self._lock:
                    shared = self._shared
                    shared.frame, shared.frame_connection = frame, connection
                    shared.decoded += 1
                    shared.waiting = False
                    if first:
                        shared.info["resolution"] = f"{video.width}x{video.height}"
                        shared.info["pixel format"] = video.format.name
                        shared.info["first frame"] = f"{time.monotonic() - begin:.2f} s"
                if first:
                    _LOGGER.info(
                        "[%s] RTSP stream %s: %s %dx%d",
                        self.config.id,
                        redact_url(self.config.url),
                        codec.name,
                        video.width,
                        video.height,
                    )
                    first = False
                self._notify()


@dataclass
class _KeyframeClock:
    """Measures the keyframe interval from packet flags (every packet is demuxed)."""

    previous: float | None = None
    packets: int = 0

    def packet(self, packet: Packet, now: float) -> str | None:
        self.packets += 1
        if not packet.is_keyframe:
            return None
        at = float(packet.pts * packet.time_base) if packet.pts is not None else now
        previous, self.previous = self.previous, at
        frames, self.packets = self.packets, 0
        if previous is None or at <= previous:
            return None
        return f"{at - previous:.1f} s ({frames} frames)"
