"""Timing and reporting shared by the bench scripts: median (min-max) over runs, ratios."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata

import psutil


@dataclass
class Series:
    """One figure measured over several runs (one value per run)."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self, digits: int = 2) -> str:
        low, high = min(self.values), max(self.values)
        return f"{self.median:.{digits}f} {self.unit} ({low:.{digits}f}-{high:.{digits}f})"


def ratio(slow: Series, fast: Series, name: str = "ratio") -> Series:
    """Per-run ratios of two series measured in the same runs (slow / fast)."""
    return Series(name, "x", [s / f for s, f in zip(slow.values, fast.values, strict=True)])


def per_call_ms(function: Callable[[], object], calls: int) -> float:
    """Mean wall time of one call in milliseconds, over `calls` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) * 1000 / calls


def report(title: str, rows: Sequence[Series], digits: int = 2) -> None:
    print(title)
    width = max(len(row.name) for row in rows)
    for row in rows:
        print(f"  {row.name:<{width}}  {row.text(digits)}")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def machine() -> str:
    """CPU, cores and the versions that decide the figures."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from PIL import features

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Pillow {_version('Pillow')} (libjpeg-turbo {features.version('libjpeg_turbo')}), "
        f"numpy {_version('numpy')}, ai-edge-litert {_version('ai-edge-litert')}"
    )


def parser(description: str | None) -> argparse.ArgumentParser:
    """Every script takes --quick: the smallest run that still exercises all of it."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument(
        "--quick", action="store_true", help="smallest run (smoke test), figures not meaningful"
    )
    return result


def banner(command: str) -> None:
    print(f"$ {command}")
    print(f"machine: {machine()}")


class OtherLoad:
    """How busy the machine was with other processes while a bench ran (it is shared:
    figures taken next to a test run are slower and noisier, and this line says so)."""

    def __enter__(self) -> OtherLoad:
        self._own = psutil.Process()
        self._start = (time.monotonic(), _busy(), _own_cpu(self._own))
        return self

    def __exit__(self, *exc: object) -> None:
        wall, busy, own = self._start
        wall = time.monotonic() - wall
        others = (_busy() - busy) - (_own_cpu(self._own) - own)
        cores = psutil.cpu_count() or 1
        print(
            f"other processes used {max(0.0, others) / (wall * cores) * 100:.0f} % of the "
            f"{cores} cores during these {wall:.0f} s"
        )


def _busy() -> float:
    times = psutil.cpu_times()
    extra = sum(getattr(times, name, 0.0) for name in ("nice", "irq", "softirq"))
    return float(times.user + times.system + extra)


def _own_cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)
