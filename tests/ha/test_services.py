"""The actions clevercam.test_classifier and clevercam.set_roi_labels."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.clevercam.const import DOMAIN, EVENT_TEST_RESULT
from tests.helpers.restartable import RestartableService
from tests.helpers.scenes import CAT_LABELS


def _camera_device(hass: HomeAssistant, instance_id: str) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{instance_id}-driveway")})
    assert device is not None
    return device.id


async def test_test_classifier_returns_top_labels_per_roi(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    fired = async_capture_events(hass, EVENT_TEST_RESULT)
    device_id = _camera_device(hass, clevercam.running.instance_id)
    response = await hass.services.async_call(
        DOMAIN,
        "test_classifier",
        {"device_id": device_id},
        blocking=True,
        return_response=True,
    )
    assert response["camera"] == "driveway"
    gate = response["rois"]["gate"]
    assert 1 <= len(gate) <= 5
    assert all(0 <= item["score"] <= 1 for item in gate)
    assert fired[0].data["device_id"] == device_id


async def test_set_roi_labels_by_name_or_slug(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    device_id = _camera_device(hass, clevercam.running.instance_id)
    await hass.services.async_call(
        DOMAIN,
        "set_roi_labels",
        {"device_id": device_id, "roi": "Gate", "labels": ["tabby", " moped "]},
        blocking=True,
    )
    assert clevercam.running.config.camera("driveway").rois[0].labels == ["tabby", "moped"]
    assert init_integration.runtime_data.data.cameras["driveway"]["rois"][0]["labels"] == [
        "tabby",
        "moped",
    ]
    await hass.services.async_call(
        DOMAIN,
        "set_roi_labels",
        {"device_id": device_id, "roi": "gate", "labels": CAT_LABELS},
        blocking=True,
    )
    assert clevercam.running.config.camera("driveway").rois[0].labels == CAT_LABELS


async def test_bad_targets_are_clear_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry, clevercam: RestartableService
) -> None:
    instance = clevercam.running.instance_id
    camera_device = _camera_device(hass, instance)
    service_device = dr.async_get(hass).async_get_device({(DOMAIN, instance)})

    with pytest.raises(ServiceValidationError, match=r"no ROI porch .*it has: gate"):
        await hass.services.async_call(
            DOMAIN,
            "set_roi_labels",
            {"device_id": camera_device, "roi": "porch", "labels": ["tabby"]},
            blocking=True,
        )
    for device_id in (service_device.id, "no-such-device"):
        with pytest.raises(ServiceValidationError, match="is not a camera"):
            await hass.services.async_call(
                DOMAIN, "test_classifier", {"device_id": device_id}, blocking=True
            )

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError, match="is not loaded"):
        await hass.services.async_call(
            DOMAIN, "test_classifier", {"device_id": camera_device}, blocking=True
        )
