"""Home Assistant 2025.4 (the pytest-homeassistant-custom-component harness) with its real
MQTT integration connected to a real mosquitto, for clevercam's discovery messages.

The harness only lets sockets reach the literal 127.0.0.1, and only in tests that use its
`socket_enabled` fixture; every fixture here that opens a socket depends on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.helpers.broker import Broker
from tests.helpers.camera import LocalCamera
from tests.helpers.scenes import scene_jpeg
from tests.helpers.waiting import wait_for


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """A real mosquitto on a free loopback port."""
    mosquitto = Broker()
    mosquitto.start()
    yield mosquitto
    mosquitto.close()


@pytest.fixture
def camera(socket_enabled: None) -> Iterator[LocalCamera]:
    """A real HTTP camera (lighttpd) serving the empty driveway scene."""
    cam = LocalCamera()
    cam.set_image(scene_jpeg("empty"))
    cam.start()
    yield cam
    cam.close()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, broker: Broker, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's MQTT integration, connected to the broker, discovery on."""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        version=1,
        minor_version=2,
        data={"broker": "127.0.0.1", "port": broker.port},
        options={"discovery": True, "discovery_prefix": "homeassistant"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: mqtt.is_connected(hass), 20, "Home Assistant's MQTT connection")
    yield entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
