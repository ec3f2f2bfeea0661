"""Fixtures of the component tests: the HA harness, the REAL service and camera, an entry.

Importing `custom_components.clevercam` first makes the harness's loader find our component
(it otherwise imports its own testing `custom_components` package).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.clevercam  # noqa: F401
from custom_components.clevercam.const import DOMAIN
from tests.helpers.camera import LocalCamera
from tests.helpers.restartable import RestartableService
from tests.helpers.service import camera_config, service_config
from tests.service import conftest as service_fixtures

camera = service_fixtures.camera  # the real lighttpd camera, shared with the service tests


@pytest.fixture(autouse=True)
def _harness(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Our component, and sockets to 127.0.0.1 (the service, the camera) allowed."""


def entry_for(service: RestartableService, **data: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"clevercam 127.0.0.1:{service.port}",
        unique_id=service.running.instance_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: service.port, **data},
    )


def service_with(tmp_path: Path, camera: LocalCamera, **sections: Any) -> RestartableService:
    cam = camera_config(camera.url("open"))
    return RestartableService(tmp_path, service_config(tmp_path, [cam], **sections))


@pytest.fixture
async def clevercam(tmp_path: Path, camera: LocalCamera) -> AsyncIterator[RestartableService]:
    """The real service (web on a fixed port) watching the local camera's driveway."""
    service = service_with(tmp_path, camera)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
def config_entry(clevercam: RestartableService) -> MockConfigEntry:
    return entry_for(clevercam)


@pytest.fixture
async def init_integration(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
