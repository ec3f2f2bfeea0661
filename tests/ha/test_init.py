"""Setup, unload, reload, and the entry's life with the real service."""

from __future__ import annotations

from pathlib import Path

import yaml
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.clevercam.const import DOMAIN
from tests.helpers.camera import LocalCamera
from tests.helpers.net import free_port
from tests.helpers.restartable import RestartableService
from tests.helpers.service import camera_config
from tests.helpers.waiting import wait_for

from .conftest import entry_for, service_with


async def test_setup_unload_reload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("camera.driveway") is not None
    await wait_for(lambda: entry.runtime_data.push_connected, 10, "the push socket")

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await wait_for(lambda: entry.runtime_data.push_connected, 10, "the push socket again")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("camera.driveway").state == STATE_UNAVAILABLE


async def test_service_down_at_setup_retries(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="abc", data={"host": "127.0.0.1", "port": free_port()}
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_another_service_at_the_address_is_an_error(
    hass: HomeAssistant, clevercam: RestartableService
) -> None:
    """A different clevercam answering at the saved address must not take over the entry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="some-other-instance",
        data={"host": "127.0.0.1", "port": clevercam.port},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "another clevercam service" in str(entry.reason)


async def test_devices_and_unique_ids(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    instance = clevercam.running.instance_id
    devices = dr.async_get(hass)
    service = devices.async_get_device({(DOMAIN, instance)})
    camera = devices.async_get_device({(DOMAIN, f"{instance}-driveway")})
    assert service is not None and camera is not None
    assert camera.via_device_id == service.id
    assert camera.name == "Driveway"
    assert service.entry_type is dr.DeviceEntryType.SERVICE

    entities = er.async_get(hass)
    assert entities.async_get("binary_sensor.driveway_gate_detected").unique_id == (
        f"{instance}-driveway-gate-detected"
    )
    assert entities.async_get("camera.driveway").unique_id == f"{instance}-driveway-camera"
    assert entities.async_get(f"sensor.clevercam_127_0_0_1_{clevercam.port}_ram_usage")
    cpu = entities.async_get(f"sensor.clevercam_127_0_0_1_{clevercam.port}_cpu_usage")
    assert cpu.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_new_camera_appears_and_removed_camera_loses_its_device(
    hass: HomeAssistant, tmp_path: Path, camera: LocalCamera
) -> None:
    service = service_with(tmp_path, camera)
    await service.start()
    entry = entry_for(service)
    try:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data
        await wait_for(lambda: coordinator.push_connected, 10, "the push socket")

        # A second camera in the config file; the service restarts on the same port.
        config = yaml.safe_load(service.path.read_text())
        config["cameras"].append(camera_config(camera.url("open"), id="porch", name="Porch"))
        service.path.write_text(yaml.safe_dump(config))
        await service.stop()
        await service.start()
        await wait_for(lambda: hass.states.get("camera.porch"), 30, "the new camera entity")
        assert hass.states.get("switch.porch_gate_enabled").state == "on"

        # Removed again: after the next setup its device is gone.
        config["cameras"] = config["cameras"][:1]
        service.path.write_text(yaml.safe_dump(config))
        await service.stop()
        await service.start()
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        devices = dr.async_get(hass)
        instance = service.running.instance_id
        assert devices.async_get_device({(DOMAIN, f"{instance}-porch")}) is None
        assert devices.async_get_device({(DOMAIN, f"{instance}-driveway")}) is not None
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await service.stop()
