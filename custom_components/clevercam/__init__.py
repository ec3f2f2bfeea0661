"""The clevercam integration: cameras, ROIs and history of a clevercam service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_TOKEN,
    CONF_USERNAME,
    Platform,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import (
    async_create_clientsession,
    async_get_clientsession,
)
from homeassistant.helpers.typing import ConfigType

from .api import CleverCamClient
from .const import DOMAIN
from .coordinator import CleverCamCoordinator
from .entity import camera_identifier, service_device_info, service_identifier
from .services import async_setup_services
from .views import EventImageView

PLATFORMS = (
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
)
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

CleverCamConfigEntry: TypeAlias = ConfigEntry[CleverCamCoordinator]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Actions and the event image view exist once, for every service."""
    async_setup_services(hass)
    hass.http.register_view(EventImageView())
    return True


def client_for(hass: HomeAssistant, data: Mapping[str, Any]) -> CleverCamClient:
    """A login keeps its own session, so its cookie never lands in the shared cookie jar."""
    if data.get(CONF_USERNAME):
        session = async_create_clientsession(hass, cookie_jar=aiohttp.DummyCookieJar())
    else:
        session = async_get_clientsession(hass)
    return CleverCamClient(
        session,
        data[CONF_HOST],
        data[CONF_PORT],
        token=data.get(CONF_TOKEN),
        username=data.get(CONF_USERNAME),
        password=data.get(CONF_PASSWORD),
    )


async def async_setup_entry(hass: HomeAssistant, entry: CleverCamConfigEntry) -> bool:
    coordinator = CleverCamCoordinator(hass, entry, client_for(hass, entry.data))
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    # The service device first: camera devices name it as their via_device.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **service_device_info(coordinator)
    )
    _remove_stale_devices(hass, entry, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_push()
    entry.async_on_unload(entry.add_update_listener(_async_reload_entry))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CleverCamConfigEntry) -> bool:
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def _async_reload_entry(hass: HomeAssistant, entry: CleverCamConfigEntry) -> None:
    """Options changed (scan interval): start again with them."""
    await hass.config_entries.async_reload(entry.entry_id)


@callback
def _remove_stale_devices(
    hass: HomeAssistant, entry: CleverCamConfigEntry, coordinator: CleverCamCoordinator
) -> None:
    """Cameras removed from the service lose their device (and its entities)."""
    registry = dr.async_get(hass)
    current = {service_identifier(coordinator.instance_id)} | {
        camera_identifier(coordinator.instance_id, camera_id)
        for camera_id in coordinator.data.cameras
    }
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device.identifiers & current:
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
