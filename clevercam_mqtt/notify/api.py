"""`POST /api/notify/test`: send a test mail now and answer with the outcome.

The web page's button, the Home Assistant button entity and the MQTT button all call this
(in-process callers use `NotifySink.send_test`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..web.api import service_of
from .email import MailError
from .sink import find_notify_sink

routes = web.RouteTableDef()


def _error(code: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"ok": False, "error": message, **extra}, status=code)


@routes.post("/api/notify/test")
async def send_test_mail(request: web.Request) -> web.Response:
    """Body (optional): {"camera": id} attaches that camera's latest frame."""
    service = service_of(request)
    sink = find_notify_sink(service)
    if sink is None:
        return _error(409, "notify: email notifications are not configured (or not enabled)")
    camera = None
    if request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body: expected a JSON object")
        if not isinstance(body, dict):
            return _error(400, "body: expected a JSON object")
        unknown = sorted(set(body) - {"camera"})
        if unknown:
            return _error(400, f"unknown field {unknown[0]}")
        camera = body.get("camera")
        if camera is not None and not isinstance(camera, str):
            return _error(400, "camera: expected a camera id")
    try:
        job = await sink.send_test(camera)
    except KeyError:
        return _error(404, f"camera: no camera has the id {camera!r}")
    except MailError as error:
        return _error(502, str(error), status=sink.snapshot())
    return web.json_response({
        "ok": True,
        "subject": job.subject,
        "to": list(sink.config.email.to),
        "attachment": job.attachment.filename if job.attachment else None,
        "status": sink.snapshot(),
    })  # fmt: skip
