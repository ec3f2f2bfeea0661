"""Diagnostics: the entry, the push state and what the service reported, secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant

from . import CleverCamConfigEntry

# Camera URLs come without user:password from the service, but may still carry secrets
# in their query string; a camera's own username is personal data.
TO_REDACT = {CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME, "url", "snapshot_url"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CleverCamConfigEntry
) -> dict[str, Any]:
    coordinator = entry.runtime_data
    data = coordinator.data
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "push_connected": coordinator.push_connected,
        "last_update_success": coordinator.last_update_success,
        "version": data.version,
        "system": data.system,
        "cameras": async_redact_data(data.cameras, TO_REDACT),
        "detected": sorted(f"{camera}/{roi}" for camera, roi in data.detected),
        "roi_events": {
            f"{camera}/{roi}": event for (camera, roi), event in sorted(data.roi_events.items())
        },
    }
