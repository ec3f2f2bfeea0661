"""The mail sink: decides on the bus, sends from its own worker.

One mail per event sequence. The first matching event of a sequence decides whether a mail
goes out (camera rule, schedule, minimum interval); the mail then waits until the sequence
ends, or `max_wait` seconds at most, and carries the best-scoring event seen by then. Later
events of the same sequence never mail again.

The bus handler only does bookkeeping and `put_nowait` on a bounded queue. A worker sends
one mail at a time (SMTP in a thread), retries transient failures with a doubling delay and
records every outcome in a status snapshot shown by /api/system. A slow or dead mail server
therefore costs the monitoring loop nothing; when the queue is full, new mails are dropped
and counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..decisions import in_schedule
from ..events import Event, Message, SequenceEnded
from . import templates
from .config import NotifyConfig
from .email import Attachment, MailError, build_message, send_message
from .rules import event_score, interval_allows, min_interval, wanted_labels

if TYPE_CHECKING:
    from ..service import Service

_LOGGER = logging.getLogger(__name__)
MAX_RETRY_DELAY = 600.0
STATUS_KEY = "notify"


@dataclass(frozen=True, slots=True)
class MailJob:
    camera: str
    subject: str
    body: str
    attachment: Attachment | None
    event_id: str | None = None


@dataclass
class _Pending:
    """A sequence whose mail is decided but not sent yet."""

    best: Event
    score: float
    events: int = 1
    timer: asyncio.TimerHandle | None = None


@dataclass
class NotifyStatus:
    server: str
    recipients: int
    ok: bool | None = None
    error: str | None = None
    error_at: datetime | None = None
    last_sent: datetime | None = None
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    dropped: int = 0
    sending: bool = False
    cameras: dict[str, str] = field(default_factory=dict)

    def to_dict(self, queued: int, pending: int) -> dict[str, Any]:
        return {
            "enabled": True,
            "server": self.server,
            "recipients": self.recipients,
            "ok": self.ok,
            "error": self.error,
            "error_at": _iso(self.error_at),
            "last_sent": _iso(self.last_sent),
            "sent": self.sent,
            "failed": self.failed,
            "suppressed": self.suppressed,
            "dropped": self.dropped,
            "queued": queued,
            "pending": pending,
            "sending": self.sending,
            "last_sent_by_camera": dict(self.cameras),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class NotifySink:
    def __init__(self, service: Service, config: NotifyConfig) -> None:
        self.service = service
        self.config = config
        email = config.email
        self.status = NotifyStatus(
            f"{email.host}:{email.server_port} ({email.security})", len(email.to)
        )
        self._queue: asyncio.Queue[MailJob] = asyncio.Queue(config.queue_size)
        self._pending: dict[str, _Pending] = {}
        self._decided: dict[str, str] = {}
        self._last_mail: dict[str, float] = {}
        self._worker: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._dropping = False
        self._snapshot: dict[str, Any] = {}
        self._changed()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._unsubscribe = self.service.bus.subscribe("notify", self._on_message)
        self._worker = asyncio.create_task(self._work(), name="notify")
        self.service.status_providers[STATUS_KEY] = self.snapshot
        status = self.status
        _LOGGER.info("Email to %d recipient(s) via %s", status.recipients, status.server)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
        lost = len(self._pending) + self._queue.qsize() + int(self.status.sending)
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        if lost:
            _LOGGER.warning("%d notification mail(s) not sent: the service is stopping", lost)
        self.service.status_providers.pop(STATUS_KEY, None)

    def snapshot(self) -> dict[str, Any]:
        """The latest status; replaced as a whole, so any thread may read it."""
        return self._snapshot

    def _changed(self) -> None:
        self._snapshot = self.status.to_dict(self._queue.qsize(), len(self._pending))

    # -- decisions on the bus (quick, no I/O) ----------------------------------------------

    async def _on_message(self, message: Message) -> None:
        if isinstance(message, Event):
            self._on_event(message)
        elif isinstance(message, SequenceEnded) and message.sequence_id in self._pending:
            self._flush(message.sequence_id)

    def _on_event(self, event: Event) -> None:
        rule = self.config.rule(event.camera)
        score = None if rule is None else event_score(rule, event)
        if rule is None or score is None:
            return
        pending = self._pending.get(event.sequence_id)
        if pending is not None:
            pending.events += 1
            if score > pending.score:
                pending.best, pending.score = event, score
            return
        if self._decided.get(event.camera) == event.sequence_id:
            return
        self._decided[event.camera] = event.sequence_id
        if not self._in_schedule(event):
            _LOGGER.debug("[%s] No mail: camera is off or out of schedule", event.camera)
            return
        now, interval = time.monotonic(), min_interval(self.config, rule)
        if not interval_allows(self._last_mail.get(event.camera), now, interval):
            _LOGGER.debug("[%s] No mail for %s: minimum interval", event.camera, event.id)
            self.status.suppressed += 1
            self._changed()
            return
        self._last_mail[event.camera] = now
        pending = self._pending[event.sequence_id] = _Pending(event, score)
        if self.config.max_wait > 0:
            loop = asyncio.get_running_loop()
            pending.timer = loop.call_later(self.config.max_wait, self._flush, event.sequence_id)
            self._changed()
        else:
            self._flush(event.sequence_id)

    def _in_schedule(self, event: Event) -> bool:
        try:
            camera = self.service.config.camera(event.camera)
        except KeyError:
            return False
        return camera.monitoring and in_schedule(camera.schedule, event.timestamp.astimezone())

    def _flush(self, sequence_id: str) -> None:
        """The sequence ended or waited long enough: queue the mail of its best event."""
        pending = self._pending.pop(sequence_id, None)
        if pending is None:
            return
        if pending.timer is not None:
            pending.timer.cancel()
        job = self._event_job(pending.best, pending.events)
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.status.dropped += 1
            if not self._dropping:
                _LOGGER.warning(
                    "Mail queue full (%d): new mails are dropped until the server catches up",
                    self.config.queue_size,
                )
            self._dropping = True
        else:
            self._dropping = False
        self._changed()

    # -- building mails --------------------------------------------------------------------

    def _event_job(self, event: Event, events: int) -> MailJob:
        rule = self.config.rule(event.camera)
        pairs = wanted_labels(rule, event) if rule is not None else []
        url = ""
        base_url = self.service.config.web.base_url
        if base_url:
            url = f"{base_url.rstrip('/')}/api/events/{event.id}/image"
        values = templates.values(
            camera=self._camera_name(event.camera),
            camera_id=event.camera,
            roi=event.roi_name or event.roi,
            labels=[label for label, _ in pairs],
            scores=[score for _, score in pairs],
            time=event.timestamp,
            events=events,
            url=url,
        )
        return self._job(event.camera, values, event.image, event.timestamp, event.id)

    def _job(
        self,
        camera: str,
        values: dict[str, Any],
        image: bytes | None,
        timestamp: datetime,
        event_id: str | None = None,
        prefix: str = "",
    ) -> MailJob:
        email = self.config.email
        attachment = None
        if image and self.config.attach_image:
            name = f"{camera}-{timestamp.astimezone():%Y%m%d-%H%M%S}.jpg"
            attachment = Attachment(name, image)
        subject = prefix + templates.render(email.subject, values)
        return MailJob(camera, subject, templates.render(email.body, values), attachment, event_id)

    def _camera_name(self, camera_id: str) -> str:
        try:
            return self.service.config.camera(camera_id).display_name
        except KeyError:
            return camera_id

    # -- the worker ------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self._changed()
            await self._deliver(job)

    async def _deliver(self, job: MailJob) -> None:
        delay = self.config.retry_delay
        for attempt in range(self.config.retries + 1):
            error = await self._attempt(job)
            if error is None:
                return
            if error.permanent or attempt == self.config.retries:
                self.status.failed += 1
                self._changed()
                _LOGGER.debug("Mail %r given up after %d attempt(s)", job.subject, attempt + 1)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    async def _attempt(self, job: MailJob) -> MailError | None:
        self.status.sending = True
        self._changed()
        try:
            await self._send(job)
        except MailError as error:
            self._record_failure(error)
            return error
        else:
            self._record_success(job)
            return None
        finally:
            self.status.sending = False
            self._changed()

    async def _send(self, job: MailJob) -> None:
        email = self.config.email

        def build_and_send() -> None:
            send_message(email, build_message(email, job.subject, job.body, job.attachment))

        await asyncio.to_thread(build_and_send)

    def _record_success(self, job: MailJob, test: bool = False) -> None:
        if self.status.ok is False:
            _LOGGER.info("Mail server works again")
        self.status.ok, self.status.error = True, None
        if not test:
            now = datetime.now().astimezone()
            self.status.sent += 1
            self.status.last_sent = now
            self.status.cameras[job.camera] = now.isoformat(timespec="seconds")
        _LOGGER.info("[%s] Mail sent: %s", job.camera, job.subject)
        self._changed()

    def _record_failure(self, error: MailError) -> None:
        message = str(error)
        if self.status.error != message:
            _LOGGER.warning("Mail failed: %s", message)
        self.status.ok, self.status.error = False, message
        self.status.error_at = datetime.now().astimezone()
        self._changed()

    # -- test mail -------------------------------------------------------------------------

    async def send_test(self, camera_id: str | None = None) -> MailJob:
        """Send a mail now (templates filled with a camera's current frame); raises MailError.

        `camera_id` picks the camera whose latest frame is attached (KeyError when unknown);
        without it, the first camera that has a frame.
        """
        monitors = self.service.monitors
        if camera_id is not None and camera_id not in monitors:
            raise KeyError(camera_id)
        chosen = camera_id or next((c for c in monitors if monitors[c].last_frame), None)
        frame = monitors[chosen].last_frame if chosen else None
        now = datetime.now().astimezone()
        values = templates.values(
            camera=self._camera_name(chosen) if chosen else "Test",
            camera_id=chosen or "test",
            roi="test",
            labels=["test mail"],
            scores=[1.0],
            time=now,
        )
        image = await asyncio.to_thread(frame.jpeg) if frame is not None else None
        job = self._job(chosen or "test", values, image, now, prefix="[test] ")
        try:
            await self._send(job)
        except MailError as error:
            self._record_failure(error)
            raise
        self._record_success(job, test=True)
        return job


def create_notify_sink(service: Service) -> NotifySink | None:
    """The sink factory: no sink when the config has no (enabled) `notify` section."""
    config = service.config.notify
    if config is None or not config.enabled:
        return None
    return NotifySink(service, config)


def find_notify_sink(service: Service) -> NotifySink | None:
    return next((sink for sink in service.sinks if isinstance(sink, NotifySink)), None)
