"""Web/API faults: hostile parameters get a 4xx naming what is wrong (never a 500, never a
file outside the history); guessing passwords is slowed; secrets never leave the service.

Written against the contract of docs/web.md (login, zip, batch delete, camera edit).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from yarl import URL

from clevercam_mqtt.service import Service
from clevercam_mqtt.store import EventQuery
from tests.helpers.camera import PASSWORD as CAMERA_PASSWORD
from tests.helpers.camera import USER, LocalCamera
from tests.helpers.net import free_port
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.waiting import wait_for
from tests.helpers.web import client

WEB_USER, WEB_PASSWORD, TOKEN = "owner", "web-S3cret-c81f", "token-S3cret-5d2a"
MQTT_PASSWORD, SMTP_PASSWORD, URL_PASSWORD = (
    "mqtt-S3cret-0b7e",
    "smtp-S3cret-9a4d",
    "url-S3cret-77e1",
)
QUERY_PASSWORD = "query-S3cret-31d0"
SECRETS = (
    WEB_PASSWORD, TOKEN, MQTT_PASSWORD, SMTP_PASSWORD, URL_PASSWORD, QUERY_PASSWORD,
    CAMERA_PASSWORD,
)  # fmt: skip
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def service(
    tmp_path: Path, camera: LocalCamera, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Service]:
    """A protected service with one stored cat event and secrets in every section."""
    caplog.set_level(logging.DEBUG)  # every logger, every level, from the start
    closed = free_port()  # no broker and no mail server: nothing to log in to, much to log
    cameras = [
        camera_config(camera.url("basic"), username=USER, password=CAMERA_PASSWORD),
        camera_config(
            camera.url("basic").replace("://", f"://{USER}:{URL_PASSWORD}@"), id="inline"
        ),
        camera_config(f"http://127.0.0.1:{closed}/snap.cgi?pwd={QUERY_PASSWORD}", id="query"),
    ]
    config = service_config(
        tmp_path,
        cameras,
        web={"username": WEB_USER, "password": WEB_PASSWORD, "token": TOKEN},
        mqtt={
            "enabled": True,
            "host": "127.0.0.1",
            "port": closed,
            "username": "cc",
            "password": MQTT_PASSWORD,
        },
        notify={
            "max_wait": 0,  # mail the first event at once
            "email": {
                "host": "127.0.0.1",
                "port": closed,
                "username": "cc",
                "password": SMTP_PASSWORD,
                "from": "cam@example.com",
                "to": ["me@example.com"],
            },
        },
    )
    async with running_service(tmp_path, config) as running:
        camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: running.store.stats()["count"] >= 1, 20, "a stored event")
        yield running


@pytest.fixture
async def http(service: Service) -> AsyncIterator[aiohttp.ClientSession]:
    async with client(service, headers=AUTH) as session:
        yield session


async def answer(
    http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, str]:
    """Status and body of a request whose path is sent exactly as written (no normalising)."""
    async with http.request(method, URL(path, encoded=True), **kwargs) as response:
        return response.status, await response.text()


HOSTILE_QUERIES = [
    ("start=2026-13-45", "start: expected a date YYYY-MM-DD"),
    ("start=yesterday", "start: expected a date YYYY-MM-DD"),
    ("end=2026-11-25%27%3BDROP%20TABLE%20events%3B--", "end: expected a date YYYY-MM-DD"),
    ("start=2026-11-26&end=2026-11-25", "start: must not be after end"),
    ("hour=24", "hour: expected an integer 0..23"),
    ("hour=-1", "hour: expected an integer 0..23"),
    ("hour=%C2%B2", "hour: expected an integer 0..23"),  # '²' is a digit to str.isdigit()
    ("limit=1000000000000", "limit: must be within 1..1000"),
    ("limit=0", "limit: must be within 1..1000"),
    ("limit=1e3", "limit: expected an integer"),
    ("limit=" + "9" * 5000, "limit: expected an integer"),
    ("offset=-1", "offset: must be within"),
    ("unique=maybe", "unique: expected true or false"),
    ("colour=red", "unknown parameter colour"),
]


async def test_hostile_query_parameters_are_named(http: aiohttp.ClientSession) -> None:
    wrong = []
    for query, message in HOSTILE_QUERIES:
        status, body = await answer(http, "GET", f"/api/events?{query}")
        if status != 400 or message not in body:
            wrong.append((query[:40], status, body[:100]))
    assert not wrong


async def test_injection_in_filters_is_only_a_filter(
    http: aiohttp.ClientSession, service: Service
) -> None:
    for query in ("label=%27%20OR%201%3D1%20--", "camera=%22%29%3B--", "roi=%25"):
        status, body = await answer(http, "GET", f"/api/events?{query}")
        assert status == 200 and json.loads(body)["total"] == 0, query
    many = "&".join(f"label=l{i}" for i in range(600))
    status, body = await answer(http, "GET", f"/api/events?{many}")
    assert status == 200 and json.loads(body)["total"] == 0
    assert service.store.stats()["count"] >= 1  # nothing was dropped


BAD_IDS = [
    "..%2F..%2Fetc%2Fpasswd",
    "..%2Findex.sqlite3",
    "%2e%2e",
    "%00",
    "a" * 65,
    "id%20with%20spaces",
    "%C3%A9t%C3%A9",
]


async def test_malformed_event_ids_are_refused(http: aiohttp.ClientSession) -> None:
    wrong = []
    for event_id in BAD_IDS:
        for method, suffix in [
            ("GET", ""),
            ("GET", "/image"),
            ("GET", "/thumbnail"),
            ("DELETE", ""),
        ]:
            status, body = await answer(http, method, f"/api/events/{event_id}{suffix}")
            malformed = status == 400 and json.loads(body)["error"] == "event id: malformed"
            if not (malformed or status == 404) or "root:" in body:
                wrong.append((method, event_id[:20], suffix, status, body[:100]))
    assert not wrong


async def test_no_path_from_a_request_reaches_the_disk(
    http: aiohttp.ClientSession, service: Service
) -> None:
    for path in (
        "/static/..%2F..%2Fservice.py",
        "/static/%2e%2e/%2e%2e/store.py",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2F..%2F..%2Fclevercam.yaml",
        "/api/events/..%2F..%2Fclevercam.yaml/image",
    ):
        status, body = await answer(http, "GET", path)
        assert status in (400, 404), (path, status)
        assert "root:" not in body and "import" not in body and WEB_PASSWORD not in body
    event = service.store.query(EventQuery()).events[0]
    status, _ = await answer(http, "DELETE", "/api/events/..%2F..%2Fclevercam.yaml")
    assert status == 400
    assert service.store.get(event["id"]) is not None
    async with http.get(f"/api/events/{event['id']}/image") as response:
        stored = service.store.file_path(event["id"], "image")
        assert response.status == 200 and stored is not None
        assert await response.read() == stored.read_bytes()


@pytest.mark.parametrize("route", ["/api/events/zip", "/api/events/delete"])
async def test_selections_too_big_or_malformed_are_refused(
    http: aiohttp.ClientSession, service: Service, route: str
) -> None:
    real = service.store.query(EventQuery()).events[0]["id"]
    cases = [
        ({"ids": [f"20261125-000000-{i:06d}-abcdef" for i in range(100_000)]}, "ids: at most 1000"),
        ({"ids": ["../../etc/passwd"]}, "ids"),
        ({"ids": "all"}, "ids"),
        ({"ids": [real, 7]}, "ids"),
        ({"idz": [real]}, "idz"),
    ]
    for body, message in cases:
        status, text = await answer(http, "POST", route, json=body)
        assert status == 400, (body if len(str(body)) < 200 else message, text)
        assert message in json.loads(text)["error"]
    status, text = await answer(
        http, "POST", route, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and "error" in json.loads(text)
    assert service.store.get(real) is not None


async def test_a_huge_body_is_refused_before_it_is_read(http: aiohttp.ClientSession) -> None:
    status, _ = await answer(
        http,
        "POST",
        "/api/events/zip",
        data=b"x" * (8 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert status == 413


async def test_a_broken_camera_edit_is_refused_and_nothing_changes(
    http: aiohttp.ClientSession, service: Service
) -> None:
    path = service.config_path
    assert path is not None
    before = path.read_text()
    running = service.config.camera("driveway")
    cases = [
        ({"check_period": -1}, "check_period"),
        (
            {"rois": [{"name": "gate", "box": [50, 0, 10, 10]}]},
            "rois[0].box: x_min must be < x_max",
        ),
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"schedule": {"days": ["someday"]}}, "schedule.days[0]"),
        ({"colour": "red"}, "colour"),
    ]
    for body, message in cases:
        status, text = await answer(http, "PUT", "/api/cameras/driveway", json=body)
        assert status == 400, (body, text)
        assert message in json.loads(text)["error"]
    assert path.read_text() == before
    assert service.config.camera("driveway") is running
    status, _ = await answer(http, "PUT", "/api/cameras/..%2F..%2Fetc", json={"check_period": 1})
    assert status in (400, 404)
    assert yaml.safe_load(path.read_text()) == yaml.safe_load(before)


async def test_guessing_the_password_or_token_is_slowed(service: Service) -> None:
    async with aiohttp.ClientSession(base_url=base_url(service)) as anonymous:
        for _ in range(5):
            status, _ = await answer(
                anonymous, "POST", "/api/login", json={"username": WEB_USER, "password": "guess"}
            )
            assert status == 401
        async with anonymous.post(
            "/api/login", json={"username": WEB_USER, "password": WEB_PASSWORD}
        ) as response:
            assert response.status == 429  # even the right password waits now
            assert int(response.headers["Retry-After"]) >= 1
            assert "try again" in (await response.json())["error"]
        status, _ = await answer(anonymous, "GET", "/api/events")
        assert status == 401


async def test_guessing_the_token_is_slowed(service: Service) -> None:
    async with aiohttp.ClientSession(base_url=base_url(service)) as guesser:
        statuses = []
        for attempt in range(7):
            async with guesser.get(
                "/api/events", headers={"Authorization": f"Bearer guess-{attempt}"}
            ) as response:
                statuses.append(response.status)
        assert statuses == [401] * 5 + [429] * 2
        async with guesser.get("/api/events", headers=AUTH) as response:
            assert response.status == 429  # the right token waits too, from that address


async def test_secrets_are_never_logged_nor_returned(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    answers: list[str] = []
    async with client(service) as browser:
        status, text = await answer(
            browser, "POST", "/api/login", json={"username": WEB_USER, "password": WEB_PASSWORD}
        )
        assert status == 200
        answers.append(text)
        for path in (
            "/api/health",
            "/api/cameras",
            "/api/cameras/driveway",
            "/api/cameras/inline",
            "/api/system",
            "/api/events",
            "/api/models",
            "/api/labels",
            "/api/openapi.yaml",
        ):
            async with browser.get(path) as response:
                assert response.status == 200, path
                answers.append(await response.text())
        async with browser.post("/api/cameras/inline/refresh") as response:
            answers.append(await response.text())
        camera = json.loads(answers[3])
        async with browser.put("/api/cameras/driveway", json=camera) as response:
            assert response.status == 200  # the answer sent back as it is keeps the password
            answers.append(await response.text())
        async with browser.ws_connect("/api/ws") as socket:
            answers.append(json.dumps(await socket.receive_json(timeout=10)))
        async with browser.post(
            "/api/login", json={"username": WEB_USER, "password": "x" + WEB_PASSWORD}
        ) as response:
            answers.append(await response.text())
    await wait_for(lambda: mail_failed(caplog), 30, "the mail attempt")
    assert service.config.camera("driveway").password == CAMERA_PASSWORD
    assert service.states["driveway"].ok is True
    records = caplog.get_records("setup") + caplog.get_records("call")
    log = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in records)
    for expected in ("broker unreachable", "[inline] Camera problem", "[query] Camera problem",
                     "Web page on"):  # fmt: skip
        assert expected in log  # the parts holding secrets did log
    for secret in SECRETS:
        assert not [a for a in answers if secret in a], f"{secret} in an API answer"
        assert secret not in log, f"{secret} in the log"


def mail_failed(caplog: pytest.LogCaptureFixture) -> bool:
    records = caplog.get_records("setup") + caplog.get_records("call")
    return any(
        r.name.startswith("clevercam_mqtt.notify") and r.levelno >= logging.WARNING for r in records
    )
