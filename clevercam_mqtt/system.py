"""Resources of the machine and of the service (System page, MQTT `system`, HA sensors)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psutil

_PROCESS = psutil.Process(os.getpid())


def system_info(history_path: Path, history: dict[str, int]) -> dict[str, Any]:
    """RAM, disk, CPU and history figures; cheap enough to call every few seconds."""
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(history_path))
    return {
        "ram_percent": round(memory.percent, 1),
        "disk_percent": round(disk.percent, 1),
        "disk_free_bytes": disk.free,
        "cpu_percent": round(psutil.cpu_percent(interval=None), 1),
        "process_rss_bytes": _PROCESS.memory_info().rss,
        "history_bytes": history["bytes"],
        "history_count": history["count"],
    }
