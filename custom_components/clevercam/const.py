"""Constants of the clevercam integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "clevercam"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8080
DEFAULT_SCAN_INTERVAL: Final = 60
MIN_SCAN_INTERVAL: Final = 10
MAX_SCAN_INTERVAL: Final = 3600

# Waits between attempts to reopen the push socket; the last one repeats.
RECONNECT_DELAYS: Final = (1.0, 2.0, 5.0, 10.0, 30.0)

EVENT_DETECTED: Final = "detected"
EVENT_TEST_RESULT: Final = f"{DOMAIN}_test_result"
