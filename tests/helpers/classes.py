"""Helpers of the learned-classes tests: a camera that shows each new scene at once, and
class-set files changed the way a corrupt or foreign file would be."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from clevercam_mqtt.service import Service

from .camera import LocalCamera
from .variations import cup_training
from .waiting import wait_for


def rewritten_export(data: bytes, **changes: Any) -> bytes:
    """An exported class set with arrays replaced or `meta` keys changed, re-packed validly."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["meta"]))
    for key, value in changes.items():
        if key in arrays:
            arrays[key] = value
        else:
            meta[key] = value
    arrays["meta"] = np.asarray(json.dumps(meta))
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


async def show(camera: LocalCamera, service: Service, data: bytes, camera_id: str = "driveway"):
    """Put a scene in front of the camera and wait until the service has seen it."""
    camera.set_image(data)
    monitor = service.monitors[camera_id]
    await wait_for(lambda: getattr(monitor.last_frame, "data", None) == data, 20, "the new scene")


async def teach_cup_state(camera: LocalCamera, service: Service, interval: float = 1) -> None:
    """The state set "Cup" (cup / empty) on driveway/gate, taught from captures and trained."""
    from clevercam_mqtt.classes import ClassSetSpec

    spec = ClassSetSpec(
        name="Cup", classes=["cup", "empty"], rois=["driveway/gate"], mode="state",
        interval=interval,
    )  # fmt: skip
    await service.classes.create(spec)
    for label, variation in cup_training():
        await show(camera, service, variation.jpeg())
        frame = await service.refresh_camera("driveway")
        monitor = service.monitors["driveway"]
        await service.classes.add_capture("cup", label, monitor, "gate", frame)
    await service.classes.train("cup")
