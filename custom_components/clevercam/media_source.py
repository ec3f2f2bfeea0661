"""The history in Home Assistant's media browser: service -> camera -> day -> event images.

Media ids are `<instance_id>[/<camera>[/<YYYY-MM-DD>[/<event_id>]]]`, parsed and printed by
`MediaId`; only event ids resolve, to the signed image view of `views.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
)
from homeassistant.components.media_source.error import Unresolvable
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .api import CleverCamError
from .const import DOMAIN
from .coordinator import CleverCamCoordinator
from .views import EVENT_ID, coordinator_for, event_image_path

EVENTS_PER_DAY = 1000
MIME_TYPE = "image/jpeg"
_CAMERA = re.compile(r"^[a-z0-9_]{1,64}$")
_INSTANCE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    return CleverCamMediaSource(hass)


@dataclass(frozen=True, slots=True)
class MediaId:
    instance_id: str
    camera: str | None = None
    day: date | None = None
    event_id: str | None = None

    @classmethod
    def parse(cls, identifier: str) -> MediaId:
        """Raises ValueError naming the part that is malformed."""
        parts = identifier.split("/")
        if len(parts) > 4:
            raise ValueError(f"too many parts in {identifier!r}")
        instance_id, camera, day, event_id = (parts + [None] * 4)[:4]
        if not instance_id or not _INSTANCE.match(instance_id):
            raise ValueError(f"bad service id in {identifier!r}")
        if camera is not None and not _CAMERA.match(camera):
            raise ValueError(f"bad camera id in {identifier!r}")
        if event_id is not None and not EVENT_ID.match(event_id):
            raise ValueError(f"bad event id in {identifier!r}")
        return cls(instance_id, camera, date.fromisoformat(day) if day else None, event_id)

    def __str__(self) -> str:
        parts = [self.instance_id, self.camera, self.day and self.day.isoformat(), self.event_id]
        return "/".join(part for part in parts if part)


class CleverCamMediaSource(MediaSource):
    name = "clevercam"

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        try:
            media = MediaId.parse(item.identifier)
        except ValueError as error:
            raise Unresolvable(str(error)) from error
        if media.event_id is None:
            raise Unresolvable(f"{item.identifier} is a folder, not an event")
        if coordinator_for(self.hass, media.instance_id) is None:
            raise Unresolvable(f"no loaded clevercam service {media.instance_id}")
        return PlayMedia(event_image_path(media.instance_id, media.event_id), MIME_TYPE)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        if not item.identifier:
            return self._root()
        try:
            media = MediaId.parse(item.identifier)
        except ValueError as error:
            raise BrowseError(str(error)) from error
        coordinator = coordinator_for(self.hass, media.instance_id)
        if coordinator is None:
            raise BrowseError(f"no loaded clevercam service {media.instance_id}")
        try:
            if media.camera is None:
                return self._service(coordinator)
            if media.day is None:
                return await self._camera(coordinator, media)
            if media.event_id is None:
                return await self._day(coordinator, media)
        except CleverCamError as error:
            raise BrowseError(str(error)) from error
        raise BrowseError(f"{item.identifier} is an event, not a folder")

    def _root(self) -> BrowseMediaSource:
        entries = self.hass.config_entries.async_loaded_entries(DOMAIN)
        if len(entries) == 1:  # one service: show its cameras at once
            node = self._service(entries[0].runtime_data)
            node.identifier, node.media_content_id = None, f"media-source://{DOMAIN}"
            return node
        return _folder(
            None,
            "clevercam",
            [_folder(entry.unique_id, entry.title) for entry in entries],
            MediaClass.DIRECTORY,
        )

    def _service(self, coordinator: CleverCamCoordinator) -> BrowseMediaSource:
        instance_id = coordinator.instance_id
        cameras = [
            _folder(str(MediaId(instance_id, camera_id)), camera.get("name") or camera_id)
            for camera_id, camera in coordinator.data.cameras.items()
        ]
        return _folder(instance_id, coordinator.config_entry.title, cameras)

    async def _camera(self, coordinator: CleverCamCoordinator, media: MediaId) -> BrowseMediaSource:
        assert media.camera is not None
        camera = coordinator.data.cameras.get(media.camera, {})
        days = await coordinator.client.days(media.camera)
        children = [
            _folder(
                str(MediaId(media.instance_id, media.camera, date.fromisoformat(day["day"]))),
                f"{day['day']} ({day['count']})",
            )
            for day in days
        ]
        return _folder(str(media), camera.get("name") or media.camera, children)

    async def _day(self, coordinator: CleverCamCoordinator, media: MediaId) -> BrowseMediaSource:
        assert media.camera is not None and media.day is not None
        events = await coordinator.client.events(
            media.camera, start=media.day, end=media.day, limit=EVENTS_PER_DAY
        )
        children = [_event(media, event) for event in sorted(events, key=lambda e: e["id"])]
        return _folder(str(media), media.day.isoformat(), children, MediaClass.IMAGE)


def _folder(
    identifier: str | None,
    title: str,
    children: list[BrowseMediaSource] | None = None,
    children_class: MediaClass = MediaClass.DIRECTORY,
) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.IMAGE,
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=children_class,
    )


def _event(day: MediaId, event: dict[str, Any]) -> BrowseMediaSource:
    media = MediaId(day.instance_id, day.camera, day.day, event["id"])
    when = dt_util.parse_datetime(str(event.get("timestamp", "")))
    clock = dt_util.as_local(when).strftime("%H:%M:%S") if when else event["id"]
    labels = ", ".join(event.get("labels", []))
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=str(media),
        media_class=MediaClass.IMAGE,
        media_content_type=MIME_TYPE,
        title=f"{clock} {event.get('roi_name') or event.get('roi')}: {labels}",
        can_play=True,
        can_expand=False,
        thumbnail=event_image_path(day.instance_id, event["id"], "thumbnail"),
    )
