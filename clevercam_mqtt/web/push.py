"""`/api/ws`: pushes events and state changes to browsers and the Home Assistant component."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from ..events import CameraStatus, Event, Message, SequenceEnded, SettingsChanged, StateChanged
from ..service import Service

_LOGGER = logging.getLogger(__name__)
QUEUE_SIZE = 100


def message_json(service: Service, message: Message) -> dict[str, Any]:
    """The web-socket form of a bus message."""
    if isinstance(message, Event):
        return {"type": "event", "camera": message.camera, "event": message.to_dict()}
    if isinstance(message, SequenceEnded):
        return {
            "type": "sequence_end",
            "camera": message.camera,
            "sequence_id": message.sequence_id,
            "rois": list(message.rois),
        }
    if isinstance(message, CameraStatus):
        return {"type": "camera_status", "camera": message.camera, "ok": message.ok,
                "error": message.error}  # fmt: skip
    if isinstance(message, StateChanged):
        return {"type": "state", **message.to_dict()}
    assert isinstance(message, SettingsChanged)
    from .api import camera_json

    return {"type": "camera", "camera": message.camera,
            "data": camera_json(service, message.camera)}  # fmt: skip


class PushHub:
    """A sink that fans bus messages out to every connected web socket.

    Each client has a bounded queue; a client too slow to keep up is disconnected rather
    than allowed to hold up the bus.
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self._clients: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._unsubscribe: Any = None

    async def start(self) -> None:
        self._unsubscribe = self.service.bus.subscribe("websocket", self._on_message)

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        for queue in list(self._clients):
            queue.put_nowait(None)

    async def _on_message(self, message: Message) -> None:
        if not self._clients:
            return
        data = message_json(self.service, message)
        for queue in list(self._clients):
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:
                self._clients.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        from .api import camera_json

        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self._clients.add(queue)
        service = self.service
        await ws.send_json({
            "type": "hello",
            "instance_id": service.instance_id,
            "cameras": [camera_json(service, c.id) for c in service.config.cameras],
        })  # fmt: skip
        reader = asyncio.create_task(self._drain(ws))
        try:
            while not ws.closed:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                data = getter.result()
                if data is None:
                    break
                await ws.send_json(data)
        except ConnectionResetError:
            pass
        finally:
            self._clients.discard(queue)
            reader.cancel()
            await ws.close()
        return ws

    async def _drain(self, ws: web.WebSocketResponse) -> None:
        """Read (and ignore) client messages so close frames and pings are handled."""
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
