"""Start the real clevercam service inside a test, on loopback, with the shared model."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml

from clevercam_mqtt.app import build_service
from clevercam_mqtt.config import load_config
from clevercam_mqtt.service import Service

from .paths import MODEL_DIR, require
from .scenes import CAT_LABELS, GATE_BOX


def camera_config(url: str, **overrides: Any) -> dict[str, Any]:
    camera: dict[str, Any] = {
        "id": "driveway",
        "name": "Driveway",
        "url": url,
        "check_period": 0.2,
        "timeout": 3,
        "sequence_gap": 2,
        "rois": [{"name": "gate", "box": list(GATE_BOX), "labels": CAT_LABELS}],
    }
    camera.update(overrides)
    return camera


def service_config(
    tmp_path: Path, cameras: list[dict[str, Any]], **sections: Any
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "storage": {"path": str(tmp_path / "data")},
        "web": {"host": "127.0.0.1", "port": 0},
        "mqtt": {"enabled": False},
        "model": {"path": str(require(MODEL_DIR)), "threads": 2},
        "cameras": cameras,
    }
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    return config


def write_config(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "clevercam.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@contextlib.asynccontextmanager
async def running_service(tmp_path: Path, config: dict[str, Any]) -> AsyncIterator[Service]:
    """The full service (web and every sink the config enables), stopped afterwards."""
    path = write_config(tmp_path, config)
    service = build_service(load_config(path), path)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def base_url(service: Service) -> str:
    assert service.web_port, "web server not started"
    return f"http://127.0.0.1:{service.web_port}"
