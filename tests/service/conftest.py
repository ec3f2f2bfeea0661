from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.broker import Broker
from tests.helpers.camera import LocalCamera
from tests.helpers.scenes import scene_jpeg


@pytest.fixture
def camera() -> Iterator[LocalCamera]:
    """A real HTTP camera (lighttpd) serving the empty driveway scene."""
    cam = LocalCamera()
    cam.set_image(scene_jpeg("empty"))
    cam.start()
    yield cam
    cam.close()


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A real mosquitto on a free loopback port."""
    mqtt = Broker()
    mqtt.start()
    yield mqtt
    mqtt.close()
