"""JSON API over the history, the cameras and the system."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from .. import __version__
from ..cameras import CameraError, redact_url
from ..config import ConfigError, slugify
from ..config_file import raw_camera, read_yaml
from ..service import Service
from .camera_edit import EditError, edit_camera
from .params import (
    bad_request,
    check_params,
    event_id,
    event_query,
    flag,
    id_list,
    json_body,
    not_found,
)
from .zipstream import Member, stream_zip

routes = web.RouteTableDef()
SERVICE_KEY = web.AppKey("service", Service)
AUTH_REQUIRED_KEY = web.AppKey("auth_required", bool)


def service_of(request: web.Request) -> Service:
    return request.app[SERVICE_KEY]


def camera_json(service: Service, camera_id: str) -> dict[str, Any]:
    camera = service.config.camera(camera_id)
    data = camera.model_dump(mode="json", exclude={"password"})
    data["url"] = redact_url(camera.url)
    if camera.snapshot_url:
        data["snapshot_url"] = redact_url(camera.snapshot_url)
    data["name"] = camera.display_name
    data["has_password"] = bool(camera.password)
    states = service.classes.roi_states(camera_id)
    for roi, raw in zip(camera.rois, data["rois"], strict=True):
        raw["slug"] = roi.slug
        raw["state_set"] = states.get(roi.slug)  # a state-mode class set watching it, or None
    data["state"] = service.states[camera_id].to_dict() if camera_id in service.states else None
    return data


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    """Open to all (Home Assistant tells 'cannot connect' from 'invalid auth' with it)."""
    check_params(request.query)
    service = service_of(request)
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "instance_id": service.instance_id,
            "auth_required": request.app[AUTH_REQUIRED_KEY],
        }
    )


# -- history -------------------------------------------------------------------------------


@routes.get("/api/events")
async def list_events(request: web.Request) -> web.Response:
    service = service_of(request)
    query = event_query(request.query)
    result = await asyncio.to_thread(service.store.query, query)
    return web.json_response(
        {
            "events": result.events,
            "total": result.total,
            "limit": query.limit,
            "offset": query.offset,
            "facets": result.facets,
        }
    )


def _event_id(request: web.Request) -> str:
    return event_id(request.match_info["event_id"])


@routes.get("/api/days")
async def list_days(request: web.Request) -> web.Response:
    """Days with events, newest first (`?camera=` narrows to one camera)."""
    check_params(request.query, {"camera"})
    camera = request.query.get("camera") or None
    days = await asyncio.to_thread(service_of(request).store.days, camera)
    return web.json_response({"days": days})


@routes.get("/api/events/{event_id}")
async def get_event(request: web.Request) -> web.Response:
    check_params(request.query)
    event = await asyncio.to_thread(service_of(request).store.get, _event_id(request))
    if event is None:
        raise not_found("event")
    return web.json_response(event)


async def _event_file(request: web.Request, kind: str) -> web.StreamResponse:
    check_params(request.query, {"download"})
    download = flag(request.query, "download")
    event = _event_id(request)
    path = await asyncio.to_thread(service_of(request).store.file_path, event, kind)
    if path is None:
        raise not_found("event")
    headers = {"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=86400"}
    if download:
        suffix = ".thumb.jpg" if kind == "thumbnail" else ".jpg"
        headers["Content-Disposition"] = f'attachment; filename="{event}{suffix}"'
    return web.FileResponse(path, headers=headers)


@routes.get("/api/events/{event_id}/image")
async def event_image(request: web.Request) -> web.StreamResponse:
    return await _event_file(request, "image")


@routes.get("/api/events/{event_id}/thumbnail")
async def event_thumbnail(request: web.Request) -> web.StreamResponse:
    return await _event_file(request, "thumbnail")


@routes.delete("/api/events/{event_id}")
async def delete_event(request: web.Request) -> web.Response:
    check_params(request.query)
    removed = await asyncio.to_thread(service_of(request).store.delete, [_event_id(request)])
    if not removed:
        raise not_found("event")
    return web.json_response({"deleted": removed})


@routes.post("/api/events/delete")
async def delete_events(request: web.Request) -> web.Response:
    """Delete a selection: `{"ids": [...]}`; ids that are already gone are not an error."""
    check_params(request.query)
    ids = await id_list(request)
    removed = await asyncio.to_thread(service_of(request).store.delete, ids)
    return web.json_response({"deleted": removed})


def _zip_name(event: dict[str, Any]) -> str:
    label = slugify(event["labels"][0]) if event["labels"] else "event"
    return f"{event['id']}_{event['camera']}_{event['roi']}_{label}.jpg"


def _zip_members(service: Service, ids: list[str]) -> tuple[list[Member], dict[str, Any]]:
    members, events = [], {}
    for event_id_ in ids:
        event = service.store.get(event_id_)
        path = service.store.file_path(event_id_, "image") if event else None
        if event is None or path is None:
            continue
        modified = datetime.fromisoformat(event["timestamp"])
        members.append(Member(_zip_name(event), path, modified, event_id_))
        events[event_id_] = event
    return members, events


@routes.post("/api/events/zip")
async def events_zip(request: web.Request) -> web.StreamResponse:
    """The images of the given events as a zip, streamed as it is written (JSON or form)."""
    check_params(request.query)
    ids = await id_list(request)
    members, events = await asyncio.to_thread(_zip_members, service_of(request), ids)
    if not members:
        raise not_found("event")

    def manifest(written: list[Member]) -> dict[str, bytes]:
        listed = [{**events[m.key], "file": m.name} for m in written]
        return {"events.json": json.dumps(listed, indent=1).encode()}

    name = f"clevercam-{datetime.now():%Y%m%d-%H%M%S}.zip"
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    await stream_zip(response, members, manifest)
    await response.write_eof()
    return response


# -- cameras -------------------------------------------------------------------------------


@routes.get("/api/cameras")
async def list_cameras(request: web.Request) -> web.Response:
    check_params(request.query)
    service = service_of(request)
    return web.json_response([camera_json(service, c.id) for c in service.config.cameras])


@routes.get("/api/system")
async def system(request: web.Request) -> web.Response:
    check_params(request.query)
    service = service_of(request)
    info = await asyncio.to_thread(service.system)
    info["version"] = __version__
    info["instance_id"] = service.instance_id
    info["model"] = service.model.classifier.name
    info["cameras"] = {cid: state.to_dict() for cid, state in service.states.items()}
    return web.json_response(info)


def _camera_id(request: web.Request) -> str:
    camera_id = request.match_info["camera_id"]
    if camera_id not in service_of(request).monitors:
        raise not_found("camera")
    return camera_id


@routes.get("/api/cameras/{camera_id}")
async def get_camera(request: web.Request) -> web.Response:
    check_params(request.query)
    return web.json_response(camera_json(service_of(request), _camera_id(request)))


def _raw_camera(service: Service, camera_id: str) -> dict[str, Any]:
    """The camera's mapping as the file holds it (`${ENV}` unexpanded); {} without a file."""
    path = service.config_file.path
    if path is None:
        return {}
    data = read_yaml(path)
    return dict(raw_camera(data if isinstance(data, dict) else {}, camera_id))


@routes.put("/api/cameras/{camera_id}")
async def update_camera(request: web.Request) -> web.Response:
    """Change a camera's settings and ROIs; validated, written to the file, applied live."""
    check_params(request.query)
    camera_id = _camera_id(request)
    service = service_of(request)
    body = await json_body(request)
    try:
        raw = await asyncio.to_thread(_raw_camera, service, camera_id)
        edit = edit_camera(service.config.camera(camera_id), raw, body)
        await service.replace_camera(edit.camera, edit.raw)
    except (EditError, ConfigError) as error:
        raise bad_request(str(error)) from None
    return web.json_response(camera_json(service, camera_id))


@routes.post("/api/cameras/{camera_id}/monitoring")
async def set_monitoring(request: web.Request) -> web.Response:
    check_params(request.query)
    camera_id = _camera_id(request)
    body = await json_body(request, {"monitoring"})
    if not isinstance(body.get("monitoring"), bool):
        raise bad_request("monitoring: expected true or false")
    service = service_of(request)
    await service.set_monitoring(camera_id, body["monitoring"])
    return web.json_response(camera_json(service, camera_id))


@routes.put("/api/cameras/{camera_id}/rois/{roi}")
async def update_roi(request: web.Request) -> web.Response:
    """Switch a ROI on/off or replace its labels (HA switches and set_roi_labels)."""
    check_params(request.query)
    camera_id = _camera_id(request)
    service = service_of(request)
    roi = request.match_info["roi"]
    if roi not in {r.slug for r in service.config.camera(camera_id).rois}:
        raise not_found("ROI")
    body = await json_body(request, {"enabled", "labels"})
    changes: dict[str, Any] = {}
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise bad_request("enabled: expected true or false")
        changes["enabled"] = body["enabled"]
    if "labels" in body:
        labels = body["labels"]
        if (
            not isinstance(labels, list)
            or not labels
            or not all(isinstance(v, str) and v.strip() for v in labels)
        ):
            raise bad_request("labels: expected a non-empty list of label strings")
        changes["labels"] = [v.strip() for v in labels]
    if changes:
        await service.update_roi(camera_id, roi, changes)
    return web.json_response(camera_json(service, camera_id))


@routes.get("/api/cameras/{camera_id}/snapshot")
async def camera_snapshot(request: web.Request) -> web.Response:
    """The latest frame the loop saw (`?rois=1` draws the ROIs on it)."""
    check_params(request.query, {"rois"})
    draw = flag(request.query, "rois")
    camera_id = _camera_id(request)
    service = service_of(request)
    frame = service.monitors[camera_id].last_frame
    if frame is None:
        frame = await service.refresh_camera(camera_id)
    rois = service.config.camera(camera_id).rois if draw else []
    from .drawing import snapshot_jpeg

    data = await asyncio.to_thread(snapshot_jpeg, frame, rois)
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


@routes.post("/api/cameras/{camera_id}/refresh")
async def refresh_camera(request: web.Request) -> web.Response:
    """Fetch a frame now: resolution and latency, or the camera's clear error."""
    check_params(request.query)
    camera_id = _camera_id(request)
    service = service_of(request)
    with contextlib.suppress(CameraError):  # the error is in the camera's state
        await service.refresh_camera(camera_id)
    return web.json_response(camera_json(service, camera_id))


@routes.post("/api/cameras/{camera_id}/test")
async def test_classifier(request: web.Request) -> web.Response:
    """Top labels per ROI on the current frame."""
    check_params(request.query)
    camera_id = _camera_id(request)
    service = service_of(request)
    frame = await service.refresh_camera(camera_id)
    monitor = service.monitors[camera_id]
    results = await asyncio.to_thread(monitor.test_classifier, frame)
    return web.json_response(
        {
            "camera": camera_id,
            "rois": {
                roi: [{"label": p.label, "score": p.score} for p in predictions]
                for roi, predictions in results.items()
            },
        }
    )
