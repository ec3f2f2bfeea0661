"""Keeps one service's cameras and system figures, fed by `/api/ws` push.

The push socket carries events, sequence ends, camera status, settings and learned states.
A periodic refresh (the options' scan interval) fetches the full state and the system
figures, and is the fallback while the socket is down. When the socket drops, one refresh
runs at once: if the service is gone too, the entities go unavailable (logged once by the
coordinator), and the socket's reconnect loop brings them back by itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import CleverCamAuthError, CleverCamClient, CleverCamError, Message
from .const import DEFAULT_SCAN_INTERVAL, DOMAIN, LOGGER, RECONNECT_DELAYS

if TYPE_CHECKING:
    from . import CleverCamConfigEntry

RoiKey = tuple[str, str]


@dataclass
class CleverCamData:
    """What the entities show: the service's camera dicts plus what the push told us."""

    version: str
    cameras: dict[str, dict[str, Any]]
    system: dict[str, Any]
    # ROIs inside a running sequence: on at an event, off at its `sequence_end`.
    detected: set[RoiKey] = field(default_factory=set)
    # The latest event of each ROI (the per-ROI labels sensor).
    roi_events: dict[RoiKey, dict[str, Any]] = field(default_factory=dict)

    def camera_state(self, camera_id: str) -> dict[str, Any]:
        camera = self.cameras.get(camera_id) or {}
        return camera.get("state") or {}


class CleverCamCoordinator(DataUpdateCoordinator[CleverCamData]):
    config_entry: CleverCamConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: CleverCamConfigEntry, client: CleverCamClient
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=timedelta(
                seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            ),
        )
        self.client = client
        self.instance_id: str = entry.unique_id or ""
        self.push_connected = False
        self._version = ""

    async def _async_setup(self) -> None:
        """Once per setup: the service at this address must still be the configured one."""
        health = await self._call(self.client.health())
        if health["instance_id"] != self.instance_id:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="wrong_service",
                translation_placeholders={"address": self.client.base_url},
            )
        self._version = str(health.get("version", ""))

    async def _async_update_data(self) -> CleverCamData:
        cameras = await self._call(self.client.cameras())
        system = await self._call(self.client.system())
        by_id = {camera["id"]: camera for camera in cameras}
        if self.data is None:
            return CleverCamData(
                version=str(system.get("version", self._version)),
                cameras=by_id,
                system=system,
                roi_events=await self._call(self._latest_roi_events(by_id)),
            )
        data = self.data
        data.version = str(system.get("version", data.version))
        data.cameras, data.system = by_id, system
        for camera_id in by_id:
            _note_event(data, data.camera_state(camera_id).get("last_event"))
        return data

    async def _latest_roi_events(
        self, cameras: dict[str, dict[str, Any]]
    ) -> dict[RoiKey, dict[str, Any]]:
        """The last event of every ROI from the history, so sensors start with a value."""
        found: dict[RoiKey, dict[str, Any]] = {}
        for camera_id, camera in cameras.items():
            for roi in camera.get("rois", []):
                events = await self.client.events(camera_id, roi=roi["slug"], limit=1)
                if events:
                    found[(camera_id, roi["slug"])] = events[0]
        return found

    async def _call(self, request: Any) -> Any:
        """Map client errors onto the coordinator's: auth -> reauth, the rest -> unavailable."""
        try:
            return await request
        except CleverCamAuthError as error:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from error
        except CleverCamError as error:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(error)},
            ) from error

    # -- push --------------------------------------------------------------------------------

    @callback
    def async_start_push(self) -> None:
        """Listen to `/api/ws` in a task that ends with the config entry."""
        self.config_entry.async_create_background_task(
            self.hass, self._push_loop(), f"{DOMAIN} push {self.config_entry.title}"
        )

    async def _push_loop(self) -> None:
        attempt = 0
        while True:
            try:
                await self.client.listen(self._on_message)
            except CleverCamAuthError:
                # A restarted service forgot its login sessions: the refresh logs in again.
                # When the credentials themselves are refused, it starts the reauth flow,
                # whose reload starts a new loop.
                await self.async_refresh()
                if not self.last_update_success and isinstance(
                    self.last_exception, ConfigEntryAuthFailed
                ):
                    return
            except CleverCamError as error:
                LOGGER.debug("Push from %s not available: %s", self.client.base_url, error)
            if self.push_connected:
                self.push_connected = False
                attempt = 0
                LOGGER.debug("Push from %s closed", self.client.base_url)
                await self.async_refresh()
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1

    async def _on_message(self, message: Message) -> None:
        kind = message.get("type")
        data = self.data
        if kind == "hello":
            if message.get("instance_id") != self.instance_id:
                LOGGER.warning(
                    "%s is another clevercam service now; ignoring its push",
                    self.client.base_url,
                )
                return
            self.push_connected = True
            data.cameras = {camera["id"]: camera for camera in message.get("cameras", [])}
            data.detected.clear()  # a sequence end may have been missed while away
            if not self.last_update_success:
                LOGGER.info("Service %s is reachable again", self.client.base_url)
                self.last_update_success = True
                await self.async_request_refresh()  # the system figures are stale too
        elif kind == "event":
            event = message.get("event") or {}
            camera_id = message.get("camera")
            if camera_id not in data.cameras:
                return
            state = data.camera_state(camera_id)
            if state:
                state["last_event"] = event
                state["events_today"] = int(state.get("events_today") or 0) + 1
            data.detected.add((camera_id, event.get("roi", "")))
            _note_event(data, event)
        elif kind == "sequence_end":
            for roi in message.get("rois", []):
                data.detected.discard((message.get("camera", ""), roi))
        elif kind == "camera_status":
            state = data.camera_state(message.get("camera", ""))
            if not state:
                return
            state["ok"], state["error"] = message.get("ok"), message.get("error")
        elif kind == "camera" and isinstance(message.get("data"), dict):
            data.cameras[message["data"]["id"]] = message["data"]
        elif kind == "state":
            state_set = _state_set(data, message)
            if state_set is None:  # a set this entry does not know yet: fetch the cameras
                await self.async_request_refresh()
                return
            state_set["state"], state_set["score"] = message.get("state"), message.get("score")
        else:
            return
        self.async_update_listeners()

    @callback
    def async_set_camera(self, camera: dict[str, Any]) -> None:
        """A camera dict returned by an action (switch, refresh) is the newest state."""
        self.data.cameras[camera["id"]] = camera
        self.async_update_listeners()


def _state_set(data: CleverCamData, message: Message) -> dict[str, Any] | None:
    """The ROI's state-mode class set that a `state` push message is about, if known."""
    camera = data.cameras.get(str(message.get("camera"))) or {}
    for roi in camera.get("rois", []):
        state_set = roi.get("state_set")
        if roi.get("slug") == message.get("roi") and state_set:
            return state_set if state_set.get("class_set") == message.get("class_set") else None
    return None


def _note_event(data: CleverCamData, event: dict[str, Any] | None) -> None:
    """Keep the event as its ROI's latest unless a newer one is known already."""
    if not event or "roi" not in event or "camera" not in event:
        return
    key = (event["camera"], event["roi"])
    known = data.roi_events.get(key)
    if known is None or str(known.get("id", "")) <= str(event.get("id", "")):
        data.roi_events[key] = event
