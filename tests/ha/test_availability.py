"""The service going away and coming back: unavailable, logged once, back by itself."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from tests.helpers.camera import LocalCamera
from tests.helpers.restartable import RestartableService
from tests.helpers.waiting import wait_for

from .conftest import entry_for, service_with

WATCHED = (
    "camera.driveway",
    "binary_sensor.driveway_gate_detected",
    "switch.driveway_monitoring",
    "sensor.driveway_events_today",
)


def _unavailable(hass: HomeAssistant) -> list[str]:
    return [e for e in WATCHED if hass.states.get(e).state == STATE_UNAVAILABLE]


async def test_service_away_and_back(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clevercam: RestartableService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = init_integration.runtime_data
    await wait_for(lambda: coordinator.push_connected, 10, "the push")
    assert not _unavailable(hass)

    caplog.set_level(logging.INFO, logger="custom_components.clevercam")
    await clevercam.stop()
    await wait_for(lambda: len(_unavailable(hass)) == len(WATCHED), 10, "entities unavailable")

    # Periodic refreshes while it is away fail quietly: one line for the whole outage.
    for minutes in (1, 2, 3):
        async_fire_time_changed(hass, dt_util.utcnow() + dt_util.dt.timedelta(minutes=minutes))
        await hass.async_block_till_done()
    assert _unavailable(hass)

    await clevercam.start()
    await wait_for(lambda: not _unavailable(hass), 30, "entities available again")
    await wait_for(lambda: coordinator.push_connected, 10, "the push again")

    down = [r for r in caplog.records if r.levelno >= logging.ERROR]
    back = [r for r in caplog.records if "again" in r.getMessage() or "recovered" in r.getMessage()]
    assert len(down) == 1, [r.getMessage() for r in down]
    assert "Cannot reach the clevercam service" in down[0].getMessage()
    assert len(back) == 1, [r.getMessage() for r in back]


async def test_push_reconnects_after_a_short_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    """Events after a restart of the service still reach the entities (no reload needed)."""
    coordinator = init_integration.runtime_data
    await wait_for(lambda: coordinator.push_connected, 10, "the push")
    await clevercam.stop()
    await clevercam.start()
    await wait_for(lambda: coordinator.push_connected, 30, "the push after the restart")
    await clevercam.running.set_monitoring("driveway", False)
    await wait_for(
        lambda: hass.states.get("switch.driveway_monitoring").state == "off", 10, "a pushed change"
    )


async def test_login_survives_a_restart_of_the_service(
    hass: HomeAssistant, tmp_path: Path, camera: LocalCamera
) -> None:
    """A restart forgets the login sessions: the component logs in again by itself."""
    service = service_with(tmp_path, camera, web={"username": "alice", "password": "pw-7d1c"})
    await service.start()
    entry = entry_for(service, username="alice", password="pw-7d1c")
    try:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        coordinator = entry.runtime_data
        await wait_for(lambda: coordinator.push_connected, 10, "the push")
        await service.stop()
        await service.start()
        await wait_for(lambda: coordinator.push_connected, 30, "the push after the restart")
        await service.running.set_monitoring("driveway", False)
        await wait_for(
            lambda: hass.states.get("switch.driveway_monitoring").state == "off", 10, "the push"
        )
        assert not hass.config_entries.flow.async_progress_by_handler("clevercam")
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await service.stop()
