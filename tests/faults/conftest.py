"""Fixtures of the fault suite: the service suite's real camera and broker, plus a camera
that misbehaves on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers.faulty_camera import FaultyCamera
from tests.helpers.scenes import scene_jpeg
from tests.service.conftest import broker, camera

__all__ = ["broker", "camera", "faulty"]


@pytest.fixture
async def faulty() -> AsyncIterator[FaultyCamera]:
    """A local aiohttp camera with one path per fault; /switch.jpg serves the empty scene."""
    server = FaultyCamera(scene_jpeg("empty"))
    await server.start()
    yield server
    await server.close()
