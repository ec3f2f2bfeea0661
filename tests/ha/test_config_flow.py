"""Every step and error of the config, reauth, reconfigure and options flows, against the
real service (and a closed port for 'cannot connect')."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TOKEN,
    CONF_USERNAME,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.clevercam.const import DOMAIN
from tests.helpers.camera import LocalCamera
from tests.helpers.net import free_port
from tests.helpers.restartable import RestartableService
from tests.helpers.waiting import wait_for

from .conftest import entry_for, service_with

TOKEN = "tok-4f1d7c2e9a"
USER, PASSWORD = "alice", "correct horse battery"


async def _user_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return str(result["flow_id"])


async def test_user_flow_creates_an_entry_named_after_the_address(
    hass: HomeAssistant, clevercam: RestartableService
) -> None:
    flow_id = await _user_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: clevercam.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"clevercam 127.0.0.1:{clevercam.port}"
    assert result["data"] == {CONF_HOST: "127.0.0.1", CONF_PORT: clevercam.port}
    entry = result["result"]
    assert entry.unique_id == clevercam.running.instance_id
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_closed_port_is_cannot_connect_and_the_form_recovers(
    hass: HomeAssistant, clevercam: RestartableService
) -> None:
    flow_id = await _user_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: free_port()}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: clevercam.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_a_web_server_that_is_not_clevercam_is_cannot_connect(
    hass: HomeAssistant, camera: LocalCamera
) -> None:
    """lighttpd answers 404 on /api/health: an HTTP server, but not our service."""
    flow_id = await _user_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: camera.port}
    )
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.parametrize(
    ("credentials", "error"),
    [
        ({CONF_TOKEN: TOKEN, CONF_USERNAME: USER, CONF_PASSWORD: PASSWORD}, "token_or_login"),
        ({CONF_USERNAME: USER}, "login_incomplete"),
        ({CONF_PASSWORD: PASSWORD}, "login_incomplete"),
    ],
)
async def test_credentials_must_be_a_token_or_a_login(
    hass: HomeAssistant, credentials: dict[str, str], error: str
) -> None:
    flow_id = await _user_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: free_port(), **credentials}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_same_service_at_a_new_address_updates_the_entry(
    hass: HomeAssistant, clevercam: RestartableService
) -> None:
    old = entry_for(clevercam)
    old.add_to_hass(hass)
    hass.config_entries.async_update_entry(old, data={CONF_HOST: "127.0.0.1", CONF_PORT: 1})

    flow_id = await _user_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: clevercam.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert old.data[CONF_PORT] == clevercam.port
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_token_flow_wrong_token_is_invalid_auth(
    hass: HomeAssistant, tmp_path: Path, camera: LocalCamera
) -> None:
    service = service_with(tmp_path, camera, web={"token": TOKEN})
    await service.start()
    try:
        flow_id = await _user_form(hass)
        address = {CONF_HOST: "127.0.0.1", CONF_PORT: service.port}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {**address, CONF_TOKEN: "wrong"}
        )
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {**address, CONF_TOKEN: TOKEN}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"] == {**address, CONF_TOKEN: TOKEN}
        await hass.async_block_till_done()
        assert result["result"].state is ConfigEntryState.LOADED
        assert await hass.config_entries.async_unload(result["result"].entry_id)
    finally:
        await service.stop()


async def test_login_flow_wrong_password_is_invalid_auth(
    hass: HomeAssistant, tmp_path: Path, camera: LocalCamera
) -> None:
    service = service_with(tmp_path, camera, web={"username": USER, "password": PASSWORD})
    await service.start()
    try:
        flow_id = await _user_form(hass)
        address = {CONF_HOST: "127.0.0.1", CONF_PORT: service.port}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {**address, CONF_USERNAME: USER, CONF_PASSWORD: "wrong"}
        )
        assert result["errors"] == {"base": "invalid_auth"}
        login = {CONF_USERNAME: USER, CONF_PASSWORD: PASSWORD}
        result = await hass.config_entries.flow.async_configure(flow_id, {**address, **login})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        entry = result["result"]
        assert entry.state is ConfigEntryState.LOADED
        # The push socket logs in with the same session cookie.
        await wait_for(lambda: entry.runtime_data.push_connected, 10, "the push")
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await service.stop()


async def test_reauth_with_a_new_token(
    hass: HomeAssistant, tmp_path: Path, camera: LocalCamera
) -> None:
    """The service's token changed: setup asks for reauth; the new token reloads the entry."""
    service = service_with(tmp_path, camera, web={"token": TOKEN})
    await service.start()
    try:
        entry = entry_for(service, **{CONF_TOKEN: "old-token"})
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_ERROR
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert [flow["context"]["source"] for flow in flows] == ["reauth"]

        flow_id = flows[0]["flow_id"]
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_TOKEN: "nope"})
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_TOKEN: TOKEN})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done()
        assert entry.data[CONF_TOKEN] == TOKEN
        assert entry.state is ConfigEntryState.LOADED
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await service.stop()


async def test_reauth_flow_steps(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The form, its credential checks, and the new credentials saved with a reload."""
    result = await init_integration.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USER}
    )
    assert result["errors"] == {"base": "login_incomplete"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_integration.data[CONF_TOKEN] == TOKEN
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED


async def test_reconfigure_to_the_new_address(
    hass: HomeAssistant, clevercam: RestartableService
) -> None:
    """An entry left at an old port retries setup; reconfigure points it at the service."""
    entry = entry_for(clevercam)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={CONF_HOST: "127.0.0.1", CONF_PORT: 1})
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: free_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: clevercam.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PORT] == clevercam.port
    assert entry.title == f"clevercam 127.0.0.1:{clevercam.port}"
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_to_another_service_is_refused(
    hass: HomeAssistant, clevercam: RestartableService, tmp_path: Path, camera: LocalCamera
) -> None:
    other = service_with(tmp_path / "other", camera)
    await other.start()
    try:
        entry = entry_for(clevercam)
        entry.add_to_hass(hass)
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_service"
        assert entry.data[CONF_PORT] == clevercam.port
    finally:
        await other.stop()


async def test_options_flow_sets_the_refresh_interval(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 15}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == {CONF_SCAN_INTERVAL: 15}
    await hass.async_block_till_done()
    # The entry reloaded with the new interval.
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.update_interval.total_seconds() == 15
