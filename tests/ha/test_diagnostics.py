"""Diagnostics: the whole picture, with every credential redacted."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.helpers.camera import PASSWORD, USER, LocalCamera
from tests.helpers.restartable import RestartableService
from tests.helpers.service import camera_config, service_config
from tests.helpers.waiting import wait_for

from .conftest import entry_for

TOKEN = "diag-secret-token-93b1"
REDACTED = "**REDACTED**"


async def test_diagnostics_redact_credentials(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
    camera: LocalCamera,
) -> None:
    # The camera needs its own login, and its URL carries a secret in the query string.
    url = camera.url("basic") + "?key=cam-query-secret"
    cam = camera_config(url, username=USER, password=PASSWORD, auth="basic")
    service = RestartableService(tmp_path, service_config(tmp_path, [cam]))
    await service.start()
    try:
        entry = entry_for(service, **{CONF_TOKEN: TOKEN})
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await wait_for(lambda: entry.runtime_data.push_connected, 10, "the push")

        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        text = json.dumps(diagnostics)
        for secret in (TOKEN, PASSWORD, USER, "cam-query-secret"):
            assert secret not in text, secret
        assert diagnostics["entry"]["data"][CONF_TOKEN] == REDACTED
        assert diagnostics["entry"]["data"]["port"] == service.port
        camera_data = diagnostics["cameras"]["driveway"]
        assert camera_data["url"] == REDACTED
        assert camera_data["username"] == REDACTED
        assert camera_data["rois"][0]["slug"] == "gate"
        assert diagnostics["push_connected"] is True
        assert diagnostics["system"]["instance_id"] == service.running.instance_id
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await service.stop()
