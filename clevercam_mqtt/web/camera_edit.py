"""Merging a camera edit from the page (PUT /api/cameras/{id}) into the settings and the file.

The page shows what `GET /api/cameras` returns: the URL without its user:password and no
password at all. So a field sent back unchanged keeps what the file holds (a `${ENV}`
reference stays a reference), an omitted or empty password keeps the stored one, and
only fields that really changed are written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..cameras import redact_url
from ..config import CameraConfig, format_validation_error

# Keys of the GET answer that describe the camera but cannot be set.
READ_ONLY = frozenset({"state", "has_password"})
REMOVE_PASSWORD = "remove_password"


class EditError(ValueError):
    """The edit cannot be applied; the message names the field."""


@dataclass(frozen=True)
class CameraEdit:
    camera: CameraConfig
    raw: dict[str, Any]


def _shown(camera: CameraConfig) -> dict[str, Any]:
    """The camera's fields as the page sees them (compare a submitted field against these)."""
    data = camera.model_dump(mode="json", exclude={"password"})
    data["url"] = redact_url(camera.url)
    data["name"] = camera.display_name
    return data


READ_ONLY_ROI = {"slug", "state_set"}  # what GET adds to a ROI; a round trip may send it back


def _clean_rois(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [
        {k: v for k, v in roi.items() if k not in READ_ONLY_ROI} if isinstance(roi, dict) else roi
        for roi in value
    ]


def edit_camera(current: CameraConfig, raw: dict[str, Any], body: dict[str, Any]) -> CameraEdit:
    """Validate `body` over `current`; `raw` is the camera's mapping in the file, unexpanded.

    Raises EditError naming the first bad field; nothing is changed then.
    """
    body = {k: v for k, v in body.items() if k not in READ_ONLY}
    remove_password = body.pop(REMOVE_PASSWORD, False)
    if not isinstance(remove_password, bool):
        raise EditError(f"{REMOVE_PASSWORD}: expected true or false")
    if "id" in body and body["id"] != current.id:
        raise EditError("id: cannot be changed")
    if "rois" in body:
        body["rois"] = _clean_rois(body["rois"])
    if body.get("password") in (None, ""):
        body.pop("password", None)
    elif remove_password:
        raise EditError("password: give a new password or remove_password, not both")
    shown = _shown(current)
    keep = {key for key, value in body.items() if key in shown and value == shown[key]}

    merged = current.model_dump(mode="python")
    merged.update({k: v for k, v in body.items() if k not in keep})
    if remove_password:
        merged["password"] = None
    try:
        camera = CameraConfig.model_validate(merged)
    except ValidationError as error:
        raise EditError(format_validation_error(error)) from None

    new_raw = copy.deepcopy(raw)
    dumped = camera.model_dump(mode="json")
    for key in body:
        if key not in keep:
            new_raw[key] = dumped[key]
    if remove_password:
        new_raw.pop("password", None)
    return CameraEdit(camera, new_raw)
