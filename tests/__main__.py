"""Runs every test: `python -m tests` (add `--service-only` on a Python without Home Assistant).

Two pytest runs, because Home Assistant's test plugin disables sockets and checks for
lingering threads in every test it sees: the service, browser and fault tests run without
it, the Home Assistant tests with it. Extra arguments go to both runs.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE_SUITES = ["tests/service", "tests/browser", "tests/faults"]
HA_SUITES = ["tests/ha", "tests/ha_mqtt"]


def pytest(args: list[str]) -> int:
    print("+ pytest", " ".join(args), flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    service_only = "--service-only" in argv
    extra = [arg for arg in argv if arg != "--service-only"]
    suites = [s for s in SERVICE_SUITES if (ROOT / s).is_dir()]
    status = pytest(["-p", "no:homeassistant", *suites, *extra])
    if service_only:
        return status
    if importlib.util.find_spec("pytest_homeassistant_custom_component") is None:
        print("Home Assistant's test harness is missing: pip install -e '.[test,ha-test]' "
              "on Python 3.13 (or pass --service-only)", file=sys.stderr)  # fmt: skip
        return 1
    ha_suites = [s for s in HA_SUITES if (ROOT / s).is_dir()]
    if ha_suites:
        status = pytest([*ha_suites, *extra]) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
