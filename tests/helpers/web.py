"""Web tests: a known history written through the real store, and an HTTP client for the API."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from clevercam_mqtt.events import Event, new_event_id
from clevercam_mqtt.service import Service
from clevercam_mqtt.store import HistoryStore

from .scenes import noise_jpeg, scene_jpeg
from .service import base_url, running_service, service_config

USERNAME, PASSWORD, TOKEN = "owner", "correct horse battery", "t0ken-for-home-assistant"


@dataclass(frozen=True)
class Seed:
    """One event of the test history (local time)."""

    camera: str
    roi: str
    labels: tuple[str, ...]
    day: date
    at: time
    sequence: str


def history_days() -> tuple[date, date]:
    """Two past days (never today: no real detection can land in them)."""
    today = date.today()
    return today - timedelta(days=2), today - timedelta(days=1)


def history() -> list[Seed]:
    first, second = history_days()
    return [
        Seed("driveway", "gate", ("tabby", "Egyptian cat"), first, time(8, 15, 0), "a"),
        Seed("driveway", "gate", ("tabby",), first, time(8, 15, 5), "a"),
        Seed("driveway", "gate", ("Egyptian cat",), first, time(8, 15, 10), "a"),
        Seed("driveway", "porch", ("moped",), first, time(17, 40, 0), "b"),
        Seed("garden", "lawn", ("tabby",), second, time(8, 5, 0), "c"),
        Seed("garden", "lawn", ("moped", "motor scooter"), second, time(21, 30, 0), "d"),
        Seed("garden", "gate", ("tabby",), second, time(21, 31, 0), "d"),
    ]


def scene_image(index: int, seed: Seed) -> bytes:
    """The driveway with the photo the labels name (realistic pictures for screenshots)."""
    return _scene("moped" if "moped" in seed.labels else "cat")


@functools.cache
def _scene(what: str) -> bytes:
    return scene_jpeg(what)


def seed_history(
    store: HistoryStore,
    seeds: list[Seed] | None = None,
    image: Callable[[int, Seed], bytes] | None = None,
) -> dict[str, Seed]:
    """Write the events through the real store (JPEG files, thumbnails, index); id -> seed.

    Images are small noise pictures unless `image` makes them.
    """
    written = {}
    for index, seed in enumerate(seeds or history()):
        when = datetime.combine(seed.day, seed.at).astimezone()
        event = Event(
            id=new_event_id(when),
            camera=seed.camera,
            roi=seed.roi,
            roi_name=seed.roi.title(),
            labels=list(seed.labels),
            scores=[round(0.9 - 0.1 * i, 2) for i in range(len(seed.labels))],
            motion=0.1,
            timestamp=when,
            sequence_id=f"seq-{seed.sequence}",
            image=image(index, seed) if image else noise_jpeg(index, (320, 240)),
            width=320,
            height=240,
        )
        store.add(event)
        written[event.id] = seed
    return written


@contextlib.asynccontextmanager
async def client(service: Service, **kwargs: Any) -> AsyncIterator[aiohttp.ClientSession]:
    """A session on the service's web server that keeps cookies of an IP host (the login)."""
    async with aiohttp.ClientSession(
        base_url=base_url(service), cookie_jar=aiohttp.CookieJar(unsafe=True), **kwargs
    ) as session:
        yield session


def auth_section() -> dict[str, Any]:
    return {"username": USERNAME, "password": PASSWORD, "token": TOKEN}


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@contextlib.asynccontextmanager
async def web_service(
    tmp_path: Path, cameras: list[dict[str, Any]] | None = None, **sections: Any
) -> AsyncIterator[tuple[Service, aiohttp.ClientSession]]:
    """The real service (config file in tmp_path) and a client of its web server."""
    config = service_config(tmp_path, cameras or [], **sections)
    async with running_service(tmp_path, config) as service, client(service) as http:
        yield service, http
