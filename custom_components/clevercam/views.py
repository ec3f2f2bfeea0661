"""Event JPEGs served through Home Assistant, for the media browser.

The browser cannot reach the service (nor hold its token), so media items resolve to this
view; Home Assistant signs the path, and the view fetches the file from the right service.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .api import CleverCamError
from .const import DOMAIN

if TYPE_CHECKING:
    from .coordinator import CleverCamCoordinator

EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
KINDS = ("image", "thumbnail")


def event_image_path(instance_id: str, event_id: str, kind: str = "image") -> str:
    return f"/api/{DOMAIN}/{instance_id}/events/{event_id}/{kind}"


def coordinator_for(hass: HomeAssistant, instance_id: str) -> CleverCamCoordinator | None:
    """The loaded service with this instance id (config entries use it as unique id)."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        if entry.unique_id == instance_id:
            coordinator: CleverCamCoordinator = entry.runtime_data
            return coordinator
    return None


class EventImageView(HomeAssistantView):
    url = "/api/clevercam/{instance_id}/events/{event_id}/{kind}"
    name = "api:clevercam:event_image"
    requires_auth = True

    async def get(
        self, request: web.Request, instance_id: str, event_id: str, kind: str
    ) -> web.Response:
        coordinator = coordinator_for(request.app[KEY_HASS], instance_id)
        if coordinator is None or kind not in KINDS or not EVENT_ID.match(event_id):
            raise web.HTTPNotFound
        try:
            data = await coordinator.client.event_image(event_id, kind)
        except CleverCamError as error:
            if error.status == HTTPStatus.NOT_FOUND:
                raise web.HTTPNotFound from error
            raise web.HTTPBadGateway from error
        return web.Response(
            body=data, content_type="image/jpeg", headers={"Cache-Control": "max-age=86400"}
        )
