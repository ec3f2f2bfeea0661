"""Writes setting changes back to the YAML file, so they survive a restart.

Changes are applied to the file's raw data, where `${ENV}` references are still unexpanded,
so a secret kept in the environment never lands in the file. The new file is validated
before it replaces the old one atomically; the previous version is kept as `.bak`.
"""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .config import Config, ConfigError, load_config, parse_config, read_yaml, slugify

RawMutator = Callable[[dict[str, Any]], None]


class ConfigFile:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    def _raw(self) -> dict[str, Any]:
        data = read_yaml(self.path) if self.path else {}
        return data if isinstance(data, dict) else {}

    async def update(self, mutate: RawMutator) -> Config | None:
        """Apply `mutate` to the raw YAML, validate, write. Raises ConfigError, keeps the file."""
        if self.path is None:
            return None
        async with self._lock:
            return await asyncio.to_thread(self._update, mutate)

    def _update(self, mutate: RawMutator) -> Config:
        assert self.path is not None
        raw = self._raw()
        changed = copy.deepcopy(raw)
        mutate(changed)
        parse_config(changed)  # refuses a broken result before anything is written
        text = yaml.safe_dump(changed, sort_keys=False, allow_unicode=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())  # on disk before the rename, even after a power cut
            # A copy, not a move: at every instant there is a complete config at `path`.
            shutil.copyfile(self.path, self.path.with_name(self.path.name + ".bak"))
            os.replace(tmp, self.path)
        except OSError as error:
            tmp.unlink(missing_ok=True)  # a full disk: the change is refused, the file intact
            raise ConfigError(f"cannot write {self.path}: {error.strerror or error}") from error
        return load_config(self.path)


def raw_camera(raw: dict[str, Any], camera_id: str) -> dict[str, Any]:
    for camera in raw.get("cameras") or []:
        if isinstance(camera, dict) and camera.get("id") == camera_id:
            return camera
    raise ConfigError(f"cameras: no camera with id {camera_id!r} in the file")


def raw_roi(raw: dict[str, Any], camera_id: str, roi_slug: str) -> dict[str, Any]:

    for roi in raw_camera(raw, camera_id).get("rois") or []:
        if isinstance(roi, dict) and slugify(str(roi.get("name", ""))) == roi_slug:
            return roi
    raise ConfigError(f"cameras.{camera_id}.rois: no ROI {roi_slug!r} in the file")
