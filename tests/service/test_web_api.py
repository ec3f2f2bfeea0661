"""The JSON API against the real service: history filters, files, zip, cameras, model, access."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from clevercam_mqtt.store import EventQuery
from clevercam_mqtt.web.server import WebServer
from tests.helpers.camera import PASSWORD, USER, LocalCamera
from tests.helpers.paths import MODEL_DIR
from tests.helpers.scenes import CAT_LABELS, GATE_BOX, scene_jpeg
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.waiting import wait_for
from tests.helpers.web import (
    PASSWORD as WEB_PASSWORD,
)
from tests.helpers.web import (
    USERNAME,
    Seed,
    auth_section,
    bearer,
    client,
    history_days,
    seed_history,
    web_service,
)

FIRST, SECOND = history_days()


def _web_app(service) -> aiohttp.web.Application:
    server = next(sink for sink in service.sinks if isinstance(sink, WebServer))
    assert server.app is not None
    return server.app


# -- history: filters --------------------------------------------------------------------------


def _expected(seeds: dict[str, Seed], params: dict[str, Any], skip: str | None = None) -> list[str]:
    """What the history should answer, computed the slow and obvious way."""

    def keep(seed: Seed) -> bool:
        start, end = params.get("start"), params.get("end")
        checks = [
            not start or seed.day >= start,
            not end or seed.day <= end,
            skip == "labels"
            or not params["label"]
            or bool(set(params["label"]) & set(seed.labels)),
            skip == "rois" or not params["roi"] or seed.roi in params["roi"],
            skip == "cameras" or not params["camera"] or seed.camera in params["camera"],
            skip == "hours" or not params["hour"] or seed.at.hour in params["hour"],
        ]
        return all(checks)

    def when(event_id: str) -> datetime:
        return datetime.combine(seeds[event_id].day, seeds[event_id].at)

    ids = [event_id for event_id, seed in seeds.items() if keep(seed)]
    if params["unique"]:
        first_of: dict[str, str] = {}
        for event_id in sorted(ids, key=when):
            first_of.setdefault(seeds[event_id].sequence, event_id)
        ids = list(first_of.values())
    return sorted(ids, key=lambda i: (when(i), i), reverse=True)


def _expected_facets(seeds: dict[str, Seed], params: dict[str, Any]) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    for dimension in ("labels", "rois", "cameras", "hours"):
        counts: Counter[str] = Counter()
        for event_id in _expected(seeds, params, skip=dimension):
            seed = seeds[event_id]
            if dimension == "labels":
                counts.update(seed.labels)
            else:
                value = {"rois": seed.roi, "cameras": seed.camera, "hours": seed.at.hour}[dimension]
                counts[str(value)] += 1
        facets[dimension] = dict(counts)
    return facets


def _query(params: dict[str, Any]) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    for name in ("start", "end"):
        if params.get(name):
            query.append((name, params[name].isoformat()))
    for name in ("label", "roi", "camera", "hour"):
        query += [(name, str(value)) for value in params[name]]
    if params["unique"]:
        query.append(("unique", "1"))
    return query


async def test_every_filter_and_combination_with_facets(tmp_path: Path):
    """540 combinations of date range, labels, ROIs, cameras, hours and 'one per sequence'."""
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seeds = seed_history(service.store)
        combinations = itertools.product(
            [(None, None), (FIRST, FIRST), (SECOND, SECOND), (FIRST, SECOND), (SECOND, None)],
            [[], ["tabby"], ["moped", "Egyptian cat"]],
            [[], ["gate"], ["lawn", "porch"]],
            [[], ["garden"]],
            [[], [8], [17, 21]],
            [False, True],
        )
        checked = 0
        async with client(service) as http:
            for (start, end), labels, rois, cameras, hours, unique in combinations:
                params = {
                    "start": start, "end": end, "label": labels, "roi": rois,
                    "camera": cameras, "hour": hours, "unique": unique,
                }  # fmt: skip
                async with http.get("/api/events", params=_query(params)) as response:
                    assert response.status == 200, await response.text()
                    data = await response.json()
                expected = _expected(seeds, params)
                what = f"{params}"
                assert [e["id"] for e in data["events"]] == expected, what
                assert data["total"] == len(expected), what
                assert data["facets"] == _expected_facets(seeds, params), what
                checked += 1
        assert checked == 540


async def test_paging_newest_first_and_days(tmp_path: Path):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seeds = seed_history(service.store)
        newest_first = sorted(seeds, reverse=True)
        async with client(service) as http:
            pages = []
            for offset in range(0, 7, 3):
                async with http.get("/api/events", params={"limit": 3, "offset": offset}) as r:
                    data = await r.json()
                assert data["total"] == 7 and data["limit"] == 3 and data["offset"] == offset
                pages += [e["id"] for e in data["events"]]
            assert pages == newest_first
            async with http.get("/api/days") as r:
                assert (await r.json())["days"] == [
                    {"day": SECOND.isoformat(), "count": 3},
                    {"day": FIRST.isoformat(), "count": 4},
                ]
            async with http.get("/api/days", params={"camera": "driveway"}) as r:
                assert (await r.json())["days"] == [{"day": FIRST.isoformat(), "count": 4}]


BAD_QUERIES = [
    ("/api/events?colour=red", "unknown parameter colour"),
    ("/api/events?start=yesterday", "start: expected a date YYYY-MM-DD"),
    ("/api/events?end=2026-02-30", "end: expected a date YYYY-MM-DD"),
    ("/api/events?start=2026-05-02&end=2026-05-01", "start: must not be after end"),
    ("/api/events?start=2026-05-01&start=2026-05-02", "start: given more than once"),
    ("/api/events?hour=24", "hour: expected an integer 0..23"),
    ("/api/events?hour=noon", "hour: expected an integer 0..23"),
    ("/api/events?limit=0", "limit: must be within 1..1000"),
    ("/api/events?limit=1001", "limit: must be within 1..1000"),
    ("/api/events?limit=ten", "limit: expected an integer"),
    ("/api/events?offset=-1", "offset: must be within 0..1000000000"),
    ("/api/events?unique=maybe", "unique: expected true or false"),
    ("/api/days?day=1", "unknown parameter day"),
    ("/api/events/abc$def", "event id: malformed"),
    ("/api/events/abc$def/image", "event id: malformed"),
    ("/api/events/x/image?download=perhaps", "download: expected true or false"),
    ("/api/events/x/thumbnail?size=9", "unknown parameter size"),
    ("/api/cameras?all=1", "unknown parameter all"),
    ("/api/system?verbose=1", "unknown parameter verbose"),
    ("/api/models?x=1", "unknown parameter x"),
    ("/api/labels?model=x", "unknown parameter model"),
    ("/api/health?x=1", "unknown parameter x"),
]


async def test_bad_query_parameters_are_named(tmp_path: Path):
    async with web_service(tmp_path) as (_, http):
        for path, message in BAD_QUERIES:
            async with http.get(path) as response:
                assert response.status == 400, path
                assert await response.json() == {"error": message}, path


# -- history: files, delete, zip ---------------------------------------------------------------


async def test_image_thumbnail_and_download(tmp_path: Path):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seeds = seed_history(service.store)
        event_id = next(iter(seeds))
        image = service.store.file_path(event_id, "image")
        thumbnail = service.store.file_path(event_id, "thumbnail")
        assert image and thumbnail
        async with client(service) as http:
            async with http.get(f"/api/events/{event_id}") as r:
                event = await r.json()
            assert event["labels"] == ["tabby", "Egyptian cat"]
            async with http.get(event["image_url"]) as r:
                assert r.content_type == "image/jpeg"
                assert await r.read() == image.read_bytes()
                assert "Content-Disposition" not in r.headers
            async with http.get(event["thumbnail_url"]) as r:
                assert await r.read() == thumbnail.read_bytes()
            async with http.get(f"{event['image_url']}?download=1") as r:
                assert r.headers["Content-Disposition"] == f'attachment; filename="{event_id}.jpg"'
            for path in (f"/api/events/{event_id}x", f"/api/events/{event_id}x/image"):
                async with http.get(path) as r:
                    assert r.status == 404
                    assert await r.json() == {"error": "no such event"}


async def test_delete_removes_rows_and_files(tmp_path: Path):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seeds = seed_history(service.store)
        ids = sorted(seeds)
        files = {i: [service.store.file_path(i, k) for k in ("image", "thumbnail")] for i in ids}
        async with client(service) as http:
            async with http.delete(f"/api/events/{ids[0]}") as r:
                assert r.status == 200 and await r.json() == {"deleted": 1}
            async with http.delete(f"/api/events/{ids[0]}") as r:
                assert r.status == 404
            async with http.post("/api/events/delete", json={"ids": [*ids[1:4], ids[0]]}) as r:
                assert await r.json() == {"deleted": 3}
            async with http.get("/api/events") as r:
                assert sorted(e["id"] for e in (await r.json())["events"]) == ids[4:]
        for event_id in ids[:4]:
            assert service.store.get(event_id) is None
            assert all(not path.exists() for path in files[event_id])
        for event_id in ids[4:]:
            assert all(path.exists() for path in files[event_id])
        assert service.store.stats()["count"] == 3


async def test_zip_holds_the_images_and_a_manifest(tmp_path: Path):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seeds = seed_history(service.store)
        chosen = sorted(seeds)[:5]
        missing = "20200101-000000-000000-abcdef"
        async with client(service) as http:
            async with http.post("/api/events/zip", json={"ids": [*chosen, missing]}) as r:
                assert r.status == 200
                assert r.content_type == "application/zip"
                assert r.headers["Content-Disposition"].startswith(
                    'attachment; filename="clevercam-'
                )
                # Streamed as written: no length known in advance.
                assert r.headers.get("Transfer-Encoding") == "chunked"
                assert "Content-Length" not in r.headers
                data = await r.read()
            form = aiohttp.FormData([("ids", chosen[0]), ("ids", chosen[1])])
            async with http.post("/api/events/zip", data=form) as r:
                assert r.status == 200
                small = zipfile.ZipFile(io.BytesIO(await r.read()))
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert archive.testzip() is None
        names = archive.namelist()
        assert names[-1] == "events.json"
        manifest = json.loads(archive.read("events.json"))
        assert [event["id"] for event in manifest] == chosen
        for event in manifest:
            seed = seeds[event["id"]]
            label = seed.labels[0].lower().replace(" ", "_")
            assert event["file"] == f"{event['id']}_{seed.camera}_{seed.roi}_{label}.jpg"
            image = service.store.file_path(event["id"], "image")
            assert image is not None
            assert archive.read(event["file"]) == image.read_bytes()
        assert len(names) == 6
        assert len(small.namelist()) == 3


BAD_IDS = [
    ({"ids": [f"id-{n}" for n in range(1001)]}, "ids: at most 1000 events per call, got 1001"),
    ({"ids": []}, "ids: expected a non-empty list of event ids"),
    ({"ids": "abc"}, "ids: expected a non-empty list of event ids"),
    ({"ids": ["../../etc/passwd"]}, "ids: malformed"),
    ({"ids": [3]}, "ids: malformed"),
    ({"ids": ["a"], "level": 9}, "unknown field level"),
    ([1, 2], "body: expected a JSON object"),
]


async def test_zip_and_batch_delete_refuse_bad_ids(tmp_path: Path):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        seed_history(service.store)
        async with client(service) as http:
            for (body, message), path in itertools.product(
                BAD_IDS, ("/api/events/zip", "/api/events/delete")
            ):
                async with http.post(path, json=body) as r:
                    assert r.status == 400, (path, body)
                    assert await r.json() == {"error": message}
            async with http.post("/api/events/zip", json={"ids": ["nothing-here"]}) as r:
                assert r.status == 404
        assert service.store.stats()["count"] == 7


# -- cameras -----------------------------------------------------------------------------------


async def test_camera_details_snapshot_and_control_errors(tmp_path: Path, camera: LocalCamera):
    """What tests/service/test_api_controls.py leaves out: one camera, drawn ROIs, 400s, 404s."""
    cam = camera_config(camera.url("basic"), username=USER, password=PASSWORD, auth="basic")
    async with web_service(tmp_path, [cam]) as (service, http):
        async with http.get("/api/cameras/driveway") as r:
            data = await r.json()
        assert "password" not in data and data["has_password"] is True
        assert data["rois"][0]["slug"] == "gate"
        async with http.post("/api/cameras/driveway/refresh") as r:
            state = (await r.json())["state"]
        assert state["ok"] is True and (state["width"], state["height"]) == (1019, 844)
        async with http.get("/api/cameras/driveway/snapshot") as r:
            plain = await r.read()
        async with http.get("/api/cameras/driveway/snapshot?rois=1") as r:
            drawn = await r.read()
        assert plain[:2] == drawn[:2] == b"\xff\xd8" and plain != drawn
        for method, path, body, answer in [
            ("GET", "/api/cameras/driveway/snapshot?rois=perhaps", None,
             "rois: expected true or false"),
            ("POST", "/api/cameras/driveway/monitoring", {"on": False}, "unknown field on"),
            ("PUT", "/api/cameras/driveway/rois/gate", {"labels": []},
             "labels: expected a non-empty list of label strings"),
            ("PUT", "/api/cameras/driveway/rois/gate", {"enabled": 1},
             "enabled: expected true or false"),
            ("PUT", "/api/cameras/driveway/rois/yard", {"enabled": True}, "no such ROI"),
            ("GET", "/api/cameras/nowhere", None, "no such camera"),
            ("PUT", "/api/cameras/nowhere", {}, "no such camera"),
        ]:  # fmt: skip
            async with http.request(method, path, json=body) as r:
                assert r.status in (400, 404), path
                assert await r.json() == {"error": answer}, path
        assert service.config.camera("driveway").rois[0].enabled is True
        assert not (tmp_path / "clevercam.yaml.bak").exists()


async def test_camera_edit_is_written_atomically_with_bak_and_applied_live(
    tmp_path: Path, camera: LocalCamera
):
    """A ROI drawn where the cat sits gives an event right after the save, without restart."""
    camera.set_image(scene_jpeg("cat"))
    sky = {"name": "sky", "box": [60, 0, 100, 20], "labels": CAT_LABELS}
    cam = camera_config(camera.url("open"), rois=[sky])
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        path = tmp_path / "clevercam.yaml"
        before = path.read_text()
        state = service.states["driveway"]
        await wait_for(lambda: state.frames_checked >= 3, 20, "frames")
        assert service.store.stats()["count"] == 0  # no cat in the sky
        old_monitor = service.monitors["driveway"]
        async with client(service) as http:
            async with http.get("/api/cameras/driveway") as r:
                shown = await r.json()
            shown["check_period"] = 0.3
            shown["rois"].append({"name": "Lawn", "box": list(GATE_BOX), "labels": CAT_LABELS})
            async with http.put("/api/cameras/driveway", json=shown) as r:
                assert r.status == 200, await r.text()
                answer = await r.json()
        assert [roi["slug"] for roi in answer["rois"]] == ["sky", "lawn"]
        assert (tmp_path / "clevercam.yaml.bak").read_text() == before
        assert not (tmp_path / "clevercam.yaml.tmp").exists()
        saved = yaml.safe_load(path.read_text())["cameras"][0]
        assert saved["check_period"] == 0.3
        assert saved["rois"][1] == {
            "name": "Lawn", "box": list(GATE_BOX), "labels": CAT_LABELS, "enabled": True,
        }  # fmt: skip
        assert "name" in saved and saved["name"] == "Driveway"
        assert service.monitors["driveway"] is not old_monitor
        assert service.monitors["driveway"].config.check_period == 0.3
        await wait_for(lambda: service.store.stats()["count"] >= 1, 20, "a cat in the new ROI")
        events = service.store.query(EventQuery()).events
        assert {event["roi"] for event in events} == {"lawn"}


async def test_camera_password_is_never_shown_and_env_reference_kept(
    tmp_path: Path, camera: LocalCamera, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CAM_PASSWORD", PASSWORD)
    url_with_login = camera.url("basic").replace("http://", f"http://{USER}:{PASSWORD}@")
    cameras = [
        camera_config(camera.url("basic"), username=USER, password="${CAM_PASSWORD}"),
        camera_config(url_with_login, id="inline", rois=[]),
    ]
    async with running_service(tmp_path, service_config(tmp_path, cameras)) as service:
        path = tmp_path / "clevercam.yaml"
        async with client(service) as http:
            async with http.get("/api/cameras") as r:
                listed = await r.json()
            assert PASSWORD not in json.dumps(listed)
            shown = listed[0]
            for password in (None, ""):
                body = {**shown, "password": password, "timeout": 4}
                async with http.put("/api/cameras/driveway", json=body) as r:
                    assert r.status == 200
                    assert PASSWORD not in await r.text()
                saved = yaml.safe_load(path.read_text())["cameras"][0]
                assert saved["password"] == "${CAM_PASSWORD}" and saved["timeout"] == 4
            assert service.config.camera("driveway").password == PASSWORD
            # The URL is shown without user:password; sending it back keeps them.
            assert listed[1]["url"] == camera.url("basic")
            async with http.put("/api/cameras/inline", json={**listed[1], "timeout": 2}) as r:
                assert r.status == 200
            saved = yaml.safe_load(path.read_text())["cameras"][1]
            assert saved["url"] == url_with_login and saved["timeout"] == 2
            # A new password replaces the reference; remove_password drops it.
            async with http.put("/api/cameras/driveway", json={"password": "n3w"}) as r:
                assert r.status == 200
            assert yaml.safe_load(path.read_text())["cameras"][0]["password"] == "n3w"
            async with http.put("/api/cameras/driveway", json={"remove_password": True}) as r:
                assert (await r.json())["has_password"] is False
            assert "password" not in yaml.safe_load(path.read_text())["cameras"][0]
        await wait_for(
            lambda: service.states["driveway"].error == "camera refused the credentials",
            20,
            "the camera to refuse the missing password",
        )


BROKEN_EDITS = [
        ({"check_period": 0}, "check_period: Input should be greater than or equal to 0.05"),
        ({"url": "ftp://camera"}, "url: must start with http://"),
        ({"rois": [{"name": "x", "box": [50, 0, 10, 10]}]}, "rois[0].box: x_min must be < x_max"),
        ({"rois": [{"name": "x", "box": [0, 0, 10, 10], "colour": 1}]}, "rois[0].colour: Extra"),
        ({"schedule": {"days": ["someday"]}}, "schedule.days[0]: Input should be"),
        ({"fps": 3}, "fps: Extra inputs are not permitted"),
        ({"id": "other"}, "id: cannot be changed"),
        ({"password": "x", "remove_password": True}, "password: give a new password or"),
        ({"remove_password": "yes"}, "remove_password: expected true or false"),
        ({"rois": [{"name": "a", "box": [0, 0, 9, 9]}, {"name": "A", "box": [1, 1, 9, 9]}]},
         "(top level): two ROIs are named 'A'"),
]  # fmt: skip


async def test_broken_camera_edit_is_refused_and_the_running_one_kept(
    tmp_path: Path, camera: LocalCamera
):
    cam = camera_config(camera.url("open"))
    async with running_service(tmp_path, service_config(tmp_path, [cam])) as service:
        path = tmp_path / "clevercam.yaml"
        before = path.read_bytes()
        monitor = service.monitors["driveway"]
        config = service.config.camera("driveway").model_dump()
        async with client(service) as http:
            for body, message in BROKEN_EDITS:
                async with http.put("/api/cameras/driveway", json=body) as r:
                    assert r.status == 400, body
                    assert (await r.json())["error"].startswith(message), body
        assert path.read_bytes() == before
        assert not (tmp_path / "clevercam.yaml.bak").exists()
        assert service.monitors["driveway"] is monitor
        assert service.config.camera("driveway").model_dump() == config
        checked = service.states["driveway"].frames_checked
        await wait_for(lambda: service.states["driveway"].frames_checked > checked, 20, "frames")


# -- model and labels --------------------------------------------------------------------------


async def test_models_listed_chosen_live_and_labels(tmp_path: Path):
    other = tmp_path / "models" / "other_model"
    other.mkdir(parents=True)
    for name in ("model.tflite", "labels.txt"):
        (other / name).symlink_to(MODEL_DIR / name)
    (tmp_path / "models" / ".partial").mkdir()  # a fetch in progress is not offered
    async with web_service(tmp_path) as (service, http):
        async with http.get("/api/models") as r:
            data = await r.json()
        ids = [model["id"] for model in data["models"]]
        assert ids == [
            str(MODEL_DIR),
            "models/other_model",
            "mobilenet_v3_large_minimalistic_224_uint8",
        ]
        assert [model["active"] for model in data["models"]] == [True, False, False]
        assert data["models"][2]["bundled"] is True
        async with http.put("/api/model", json={"path": "models/other_model", "top_k": 3}) as r:
            assert r.status == 200, await r.text()
            data = await r.json()
        assert data["active"] == "models/other_model" and data["loaded"] == "other_model"
        assert service.model.classifier.name == "other_model"
        assert service.config.model.top_k == 3
        saved = yaml.safe_load((tmp_path / "clevercam.yaml").read_text())["model"]
        assert saved["path"] == "models/other_model" and saved["top_k"] == 3
        assert (tmp_path / "clevercam.yaml.bak").exists()
        for body, message in [
            ({"path": "/etc"}, "path: not one of the installed models (see GET /api/models)"),
            ({"min_score": 2}, "min_score: Input should be less than or equal to 1"),
            ({"weights": "x"}, "unknown field weights"),
        ]:
            async with http.put("/api/model", json=body) as r:
                assert r.status == 400 and await r.json() == {"error": message}
        assert service.model.classifier.name == "other_model"
        async with http.get("/api/labels") as r:
            labels = await r.json()
    assert labels["model"] == "other_model"
    assert len(labels["labels"]) == 1000
    assert "tabby" in labels["labels"] and "background" not in labels["labels"]


# -- access ------------------------------------------------------------------------------------

PUBLIC = {"/api/health", "/api/login", "/api/logout", "/login", "/static/{name}"}


def _routes(app: aiohttp.web.Application, event_id: str) -> list[tuple[str, str, str]]:
    """(method, url, route) of every route the app serves, with real ids filled in."""
    values = {"event_id": event_id, "camera_id": "driveway", "roi": "gate", "name": "app.css",
              "slug": "cup", "example_id": "x1"}  # fmt: skip
    found = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method == "*":
            continue
        canonical = resource.canonical
        url = canonical
        for key, value in values.items():
            url = url.replace("{" + key + "}", value)
        assert "{" not in url, f"a test value is missing for {canonical}"
        found.append((route.method, url, canonical))
    return found


async def test_every_route_needs_login_or_token(tmp_path: Path, camera: LocalCamera):
    cam = camera_config(camera.url("open"))
    config = service_config(tmp_path, [cam], web=auth_section())
    async with running_service(tmp_path, config) as service:
        event_id = next(iter(seed_history(service.store)))
        routes = _routes(_web_app(service), event_id)
        assert len(routes) >= 30
        async with client(service, headers={}) as anonymous:
            for method, url, canonical in routes:
                async with anonymous.request(method, url, allow_redirects=False) as r:
                    if canonical in PUBLIC:
                        assert r.status != 401, (method, url)
                    elif url.startswith("/api/"):
                        assert r.status == 401, (method, url)
                        assert r.headers["WWW-Authenticate"] == 'Bearer realm="clevercam"'
                        if method != "HEAD":
                            assert await r.json() == {"error": "login required"}
                    elif method == "GET":
                        assert r.status == 303, (method, url)
                        assert r.headers["Location"] == f"/login?next={url}"
                    else:
                        assert r.status == 401, (method, url)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await anonymous.ws_connect("/api/ws")
            assert refused.value.status == 401

        async with client(service, headers=bearer()) as machine:
            for method, url, _ in routes:
                async with machine.request(method, url, allow_redirects=False) as r:
                    assert r.status not in (401, 403, 429), (method, url, r.status)
            async with machine.ws_connect("/api/ws") as ws:
                assert (await ws.receive_json())["instance_id"] == service.instance_id

        async with client(service) as browser:
            login = {"username": USERNAME, "password": WEB_PASSWORD}
            async with browser.post("/api/login", json=login) as r:
                assert r.status == 200 and await r.json() == {"user": USERNAME}
            for method, url, _ in routes:
                if url == "/api/logout":
                    continue
                async with browser.request(method, url, allow_redirects=False) as r:
                    assert r.status not in (401, 403, 429), (method, url, r.status)
            async with browser.ws_connect("/api/ws") as ws:
                assert (await ws.receive_json())["type"] == "hello"


async def test_health_is_open_and_reveals_nothing_secret(tmp_path: Path):
    config = service_config(tmp_path, [], web=auth_section())
    async with running_service(tmp_path, config) as service, client(service) as http:
        async with http.get("/api/health") as r:
            data = await r.json()
        assert data == {
            "status": "ok", "version": data["version"], "instance_id": service.instance_id,
            "auth_required": True,
        }  # fmt: skip
        async with http.get("/api/system", headers={"Authorization": "Bearer wrong"}) as r:
            assert r.status == 401 and await r.json() == {"error": "invalid token"}
        async with http.get("/api/system", headers={"Authorization": "Basic b3duZXI6eA=="}) as r:
            assert r.status == 401


async def test_login_cookie_flags_and_logout(tmp_path: Path):
    config = service_config(tmp_path, [], web=auth_section())
    async with running_service(tmp_path, config) as service, client(service) as http:
        async with http.post("/api/login", json={"username": USERNAME, "password": "nope"}) as r:
            assert r.status == 401
            assert await r.json() == {"error": "invalid username or password"}
            assert "Set-Cookie" not in r.headers
        async with http.post("/api/login", json={"username": USERNAME}) as r:
            assert await r.json() == {"error": "password: expected a string"}
        login = {"username": USERNAME, "password": WEB_PASSWORD}
        async with http.post("/api/login", json=login) as r:
            cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("clevercam_session=")
        flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite", "path", "max-age"} <= flags
        assert "SameSite=Strict" in cookie
        async with http.get("/api/system") as r:
            assert r.status == 200
        async with http.get("/login", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/"
        async with http.get("/login?next=//evil.example/x", allow_redirects=False) as r:
            assert r.headers["Location"] == "/"
        stolen = http.cookie_jar.filter_cookies(http._base_url)["clevercam_session"].value
        async with http.post("/api/logout") as r:
            assert r.status == 200
        async with http.get("/api/system") as r:
            assert r.status == 401
        # The old cookie is dead on the server too, not only deleted in this browser.
        async with http.get("/api/system", cookies={"clevercam_session": stolen}) as r:
            assert r.status == 401


async def test_guessing_locks_the_address_out(tmp_path: Path):
    config = service_config(tmp_path, [], web=auth_section())
    async with running_service(tmp_path, config) as service, client(service) as http:
        wrong = {"username": USERNAME, "password": "guess"}
        for _ in range(4):
            async with http.post("/api/login", json=wrong) as r:
                assert r.status == 401
        async with http.get("/api/system", headers={"Authorization": "Bearer guess"}) as r:
            assert r.status == 401
        right = {"username": USERNAME, "password": WEB_PASSWORD}
        async with http.post("/api/login", json=right) as r:
            assert r.status == 429
            assert int(r.headers["Retry-After"]) >= 1
            assert "too many failed attempts" in (await r.json())["error"]
        async with http.get("/api/system", headers=bearer()) as r:
            assert r.status == 429
        async with http.get("/api/health") as r:
            assert r.status == 200


async def test_cross_site_requests_are_refused(tmp_path: Path, camera: LocalCamera):
    cam = camera_config(camera.url("open"))
    config = service_config(tmp_path, [cam], web=auth_section())
    async with running_service(tmp_path, config) as service, client(service) as http:
        own = base_url(service)
        evil = {"Origin": "http://evil.example"}
        login = {"username": USERNAME, "password": WEB_PASSWORD}
        async with http.post("/api/login", json=login, headers=evil) as r:
            assert r.status == 403
        async with http.post("/api/login", json=login, headers={"Origin": own}) as r:
            assert r.status == 200
        url, body = "/api/cameras/driveway/monitoring", {"monitoring": False}
        refused = [
            evil,
            {"Origin": "null"},
            {"Origin": own.replace("127.0.0.1", "localhost")},
            {"Origin": f"http://127.0.0.1:{service.web_port + 1}"},  # another port: another site
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
        ]
        for headers in refused:
            async with http.post(url, json=body, headers=headers) as r:
                assert r.status == 403, headers
                assert await r.json() == {"error": "cross-site request refused"}
        async with http.delete("/api/events/x", headers=evil) as r:
            assert r.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as ws_refused:
            await http.ws_connect("/api/ws", headers=evil)
        assert ws_refused.value.status == 403
        async with http.get("/api/cameras", headers=evil) as r:
            assert r.status == 200  # reading is harmless: the browser keeps the answer
        assert service.config.camera("driveway").monitoring is True
        for headers in ({"Origin": own}, {"Sec-Fetch-Site": "same-origin"}, {}):
            async with http.post(url, json=body, headers=headers) as r:
                assert r.status == 200, headers
        async with http.post(url, json=body, headers={**evil, **bearer()}) as r:
            assert r.status == 200  # a foreign page cannot know the token


async def test_open_service_still_refuses_cross_site_changes(tmp_path: Path, camera: LocalCamera):
    async with web_service(tmp_path, [camera_config(camera.url("open"))]) as (service, http):
        async with http.get("/api/health") as r:
            assert (await r.json())["auth_required"] is False
        async with http.post(
            "/api/cameras/driveway/monitoring",
            data='{"monitoring": false}',  # what a foreign <form enctype=text/plain> sends
            headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
        ) as r:
            assert r.status == 403
        assert service.config.camera("driveway").monitoring is True
        async with http.get("/login", allow_redirects=False) as r:
            assert r.status == 303


async def test_files_only_by_table_or_event_id(tmp_path: Path):
    (tmp_path / "secret.txt").write_text("secret")
    async with web_service(tmp_path) as (_, http):
        for path in (
            "/static/app.css",
            "/static/openapi.yaml",
            "/api/openapi.yaml",
            "/",
            "/cameras",
            "/system",
        ):
            async with http.get(path) as r:
                assert r.status == 200, path
                assert r.headers["X-Content-Type-Options"] == "nosniff"
        for path in (
            "/static/../../secret.txt",
            "/static/%2e%2e%2fsecret.txt",
            "/static/..%2f..%2fclevercam.yaml",
            "/static/pages.py",
            "/static/__init__.py",
            "/static/",
            "/api/events/..%2f..%2fclevercam.yaml/image",
        ):
            async with http.get(path) as r:
                assert r.status in (400, 404), path
                assert "secret" not in await r.text()


async def test_openapi_documents_every_api_route(tmp_path: Path):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        async with client(service) as http, http.get("/api/openapi.yaml") as r:
            spec = yaml.safe_load(await r.text())
        served = {
            (method.lower(), canonical)
            for method, _, canonical in _routes(_web_app(service), "x")
            if canonical.startswith("/api/") and method != "HEAD"
        }
    documented = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method != "parameters"
    }
    assert documented == served


async def test_api_errors_are_json(tmp_path: Path):
    async with web_service(tmp_path) as (_, http):
        async with http.get("/api/nothing") as r:
            assert r.status == 404 and await r.json() == {"error": "not found"}
        async with http.patch("/api/events") as r:
            assert r.status == 405 and await r.json() == {"error": "method not allowed"}
        async with http.post("/api/events/delete", data="{not json") as r:
            assert await r.json() == {"error": "body: expected a JSON object"}
