"""The real clevercam service on a fixed loopback port, so a test can stop and restart it.

`running_service` picks port 0 each start; a client that should find the service again
(the Home Assistant component) needs the same address across restarts, and the same
storage folder keeps the same instance id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clevercam_mqtt.app import build_service
from clevercam_mqtt.config import load_config
from clevercam_mqtt.service import Service

from .net import free_port
from .service import write_config


class RestartableService:
    def __init__(self, tmp_path: Path, config: dict[str, Any]) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config["web"] = {**config.get("web", {}), "host": "127.0.0.1", "port": self.port}
        self.path = write_config(tmp_path, config)
        self.service: Service | None = None

    @property
    def running(self) -> Service:
        assert self.service is not None, "service not started"
        return self.service

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Service:
        """Read the config file again (settings changed through the API persist) and start."""
        self.service = build_service(load_config(self.path), self.path)
        await self.service.start()
        return self.service

    async def stop(self) -> None:
        if self.service is not None:
            service, self.service = self.service, None
            await service.stop()
