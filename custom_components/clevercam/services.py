"""Actions `clevercam.test_classifier` and `clevercam.set_roi_labels`, registered once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from .api import CleverCamError
from .const import DOMAIN, EVENT_TEST_RESULT
from .helpers import action_error

if TYPE_CHECKING:
    from .coordinator import CleverCamCoordinator

ATTR_DEVICE_ID = "device_id"
ATTR_ROI = "roi"
ATTR_LABELS = "labels"
SERVICE_TEST_CLASSIFIER = "test_classifier"
SERVICE_SET_ROI_LABELS = "set_roi_labels"

TEST_CLASSIFIER_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
SET_ROI_LABELS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_ROI): cv.string,
        vol.Required(ATTR_LABELS): vol.All(
            cv.ensure_list, [vol.All(cv.string, vol.Strip, vol.Length(min=1))], vol.Length(min=1)
        ),
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    hass.services.async_register(
        DOMAIN,
        SERVICE_TEST_CLASSIFIER,
        _test_classifier,
        schema=TEST_CLASSIFIER_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_ROI_LABELS, _set_roi_labels, schema=SET_ROI_LABELS_SCHEMA
    )


def _camera_of(hass: HomeAssistant, device_id: str) -> tuple[CleverCamCoordinator, str]:
    """The loaded service and camera id behind a camera device."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for entry_id in device.config_entries:
            entry = hass.config_entries.async_get_entry(entry_id)
            if entry is None or entry.domain != DOMAIN:
                continue
            if entry.state is not ConfigEntryState.LOADED:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="not_loaded",
                    translation_placeholders={"title": entry.title},
                )
            coordinator: CleverCamCoordinator = entry.runtime_data
            prefix = f"{coordinator.instance_id}-"
            for domain, identifier in device.identifiers:
                camera_id = identifier.removeprefix(prefix)
                if domain == DOMAIN and identifier.startswith(prefix):
                    return coordinator, camera_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_camera",
        translation_placeholders={"device_id": device_id},
    )


async def _test_classifier(call: ServiceCall) -> ServiceResponse:
    coordinator, camera_id = _camera_of(call.hass, call.data[ATTR_DEVICE_ID])
    try:
        result: dict[str, Any] = await coordinator.client.test_classifier(camera_id)
    except CleverCamError as error:
        raise action_error(error) from error
    call.hass.bus.async_fire(EVENT_TEST_RESULT, {"device_id": call.data[ATTR_DEVICE_ID], **result})
    return result


async def _set_roi_labels(call: ServiceCall) -> None:
    coordinator, camera_id = _camera_of(call.hass, call.data[ATTR_DEVICE_ID])
    wanted = call.data[ATTR_ROI].strip()
    rois = coordinator.data.cameras.get(camera_id, {}).get("rois", [])
    slug = next(
        (
            roi["slug"]
            for roi in rois
            if wanted.lower() in (roi["slug"], str(roi.get("name", "")).lower())
        ),
        None,
    )
    if slug is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_such_roi",
            translation_placeholders={
                "roi": wanted,
                "camera": camera_id,
                "rois": ", ".join(roi["slug"] for roi in rois) or "-",
            },
        )
    try:
        camera = await coordinator.client.set_roi(camera_id, slug, labels=call.data[ATTR_LABELS])
    except CleverCamError as error:
        raise action_error(error) from error
    coordinator.async_set_camera(camera)
