"""A zip archive written straight into an HTTP response, one file at a time.

`zipfile` writes into a non-seekable buffer (it then uses data descriptors instead of
seeking back); after each member the buffer is handed to the response and emptied, so
memory holds at most one image, however many are selected. JPEGs are stored, not
deflated: they do not shrink and the Pi's CPU is better spent on detection.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import web


class _Chunks(io.RawIOBase):
    """A write-only, non-seekable file whose content is taken out piece by piece."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


@dataclass(frozen=True)
class Member:
    """One file of the archive: its name inside the zip and where it is read from."""

    name: str
    path: Path
    modified: datetime
    key: str = ""


def _add_file(archive: zipfile.ZipFile, member: Member) -> bool:
    """Copy one file in; False when it vanished meanwhile (retention, a delete)."""
    try:
        source = open(member.path, "rb")  # noqa: SIM115 - closed below, before the member is
    except FileNotFoundError:
        return False
    with source:
        info = zipfile.ZipInfo(member.name, member.modified.timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = member.path.stat().st_size
        with archive.open(info, "w") as target:
            shutil.copyfileobj(source, target, 256 * 1024)
    return True


async def stream_zip(
    response: web.StreamResponse,
    members: list[Member],
    extra: Callable[[list[Member]], dict[str, bytes]],
) -> list[Member]:
    """Write the members, then the small files `extra` makes from those that were written."""
    buffer = _Chunks()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED)
    written = []
    for member in members:
        if await asyncio.to_thread(_add_file, archive, member):
            written.append(member)
        await response.write(buffer.take())
    for name, data in extra(written).items():
        archive.writestr(name, data)
    archive.close()
    await response.write(buffer.take())
    return written
