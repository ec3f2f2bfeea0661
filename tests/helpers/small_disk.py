"""A real, tiny filesystem (tmpfs) for disk-full tests.

Mounting needs root or passwordless sudo, as on the CI machine; without either the test
fails with the reason, it never skips.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@contextlib.contextmanager
def small_disk(path: Path, size_kb: int) -> Iterator[Path]:
    """A `size_kb` tmpfs mounted on `path` for the duration of the block."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = _run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0777", "tmpfs", str(path)])
    if mounted.returncode:
        raise RuntimeError(
            f"cannot mount a {size_kb} kB tmpfs on {path} (root or passwordless sudo needed): "
            f"{mounted.stderr.strip()}"
        )
    try:
        yield path
    finally:
        _run(["umount", "-l", str(path)])


def fill(path: Path) -> Path:
    """Write a ballast file until the disk is full; delete it to free the space again."""
    ballast = path / "ballast.bin"
    chunk = bytes(16 * 1024)
    with open(ballast, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
    return ballast
