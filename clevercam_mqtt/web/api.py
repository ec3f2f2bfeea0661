"""JSON API over the history, the cameras and the system."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from .. import __version__
from ..cameras import CameraError, redact_url
from ..service import Service
from .params import bad_request, event_query

routes = web.RouteTableDef()
SERVICE_KEY = web.AppKey("service", Service)


def service_of(request: web.Request) -> Service:
    return request.app[SERVICE_KEY]


def camera_json(service: Service, camera_id: str) -> dict[str, Any]:
    camera = service.config.camera(camera_id)
    data = camera.model_dump(mode="json", exclude={"password"})
    data["url"] = redact_url(camera.url)
    data["name"] = camera.display_name
    data["has_password"] = bool(camera.password)
    for roi, raw in zip(camera.rois, data["rois"], strict=True):
        raw["slug"] = roi.slug
    data["state"] = service.states[camera_id].to_dict() if camera_id in service.states else None
    return data


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    service = service_of(request)
    return web.json_response(
        {"status": "ok", "version": __version__, "instance_id": service.instance_id}
    )


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
    event_id = request.match_info["event_id"]
    if not event_id.replace("-", "").isalnum() or len(event_id) > 64:
        raise bad_request("event id: malformed")
    return event_id


@routes.get("/api/days")
async def list_days(request: web.Request) -> web.Response:
    """Days with events, newest first (`?camera=` narrows to one camera)."""
    camera = request.query.get("camera") or None
    days = await asyncio.to_thread(service_of(request).store.days, camera)
    return web.json_response({"days": days})


@routes.get("/api/events/{event_id}")
async def get_event(request: web.Request) -> web.Response:
    event = await asyncio.to_thread(service_of(request).store.get, _event_id(request))
    if event is None:
        raise web.HTTPNotFound(text='{"error": "no such event"}', content_type="application/json")
    return web.json_response(event)


async def _event_file(request: web.Request, kind: str) -> web.StreamResponse:
    path = await asyncio.to_thread(service_of(request).store.file_path, _event_id(request), kind)
    if path is None:
        raise web.HTTPNotFound(text='{"error": "no such event"}', content_type="application/json")
    return web.FileResponse(
        path, headers={"Content-Type": "image/jpeg", "Cache-Control": "max-age=86400"}
    )


@routes.get("/api/events/{event_id}/image")
async def event_image(request: web.Request) -> web.StreamResponse:
    return await _event_file(request, "image")


@routes.get("/api/events/{event_id}/thumbnail")
async def event_thumbnail(request: web.Request) -> web.StreamResponse:
    return await _event_file(request, "thumbnail")


@routes.delete("/api/events/{event_id}")
async def delete_event(request: web.Request) -> web.Response:
    removed = await asyncio.to_thread(service_of(request).store.delete, [_event_id(request)])
    if not removed:
        raise web.HTTPNotFound(text='{"error": "no such event"}', content_type="application/json")
    return web.json_response({"deleted": removed})


@routes.get("/api/cameras")
async def list_cameras(request: web.Request) -> web.Response:
    service = service_of(request)
    return web.json_response([camera_json(service, c.id) for c in service.config.cameras])


@routes.get("/api/system")
async def system(request: web.Request) -> web.Response:
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
        raise web.HTTPNotFound(text='{"error": "no such camera"}', content_type="application/json")
    return camera_id


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("body: expected a JSON object") from None
    if not isinstance(body, dict):
        raise bad_request("body: expected a JSON object")
    return body


@routes.post("/api/cameras/{camera_id}/monitoring")
async def set_monitoring(request: web.Request) -> web.Response:
    camera_id = _camera_id(request)
    body = await _json_body(request)
    if not isinstance(body.get("monitoring"), bool):
        raise bad_request("monitoring: expected true or false")
    service = service_of(request)
    await service.set_monitoring(camera_id, body["monitoring"])
    return web.json_response(camera_json(service, camera_id))


@routes.put("/api/cameras/{camera_id}/rois/{roi}")
async def update_roi(request: web.Request) -> web.Response:
    """Switch a ROI on/off or replace its labels (HA switches and set_roi_labels)."""
    camera_id = _camera_id(request)
    service = service_of(request)
    roi = request.match_info["roi"]
    if roi not in {r.slug for r in service.config.camera(camera_id).rois}:
        raise web.HTTPNotFound(text='{"error": "no such ROI"}', content_type="application/json")
    body = await _json_body(request)
    unknown = sorted(set(body) - {"enabled", "labels"})
    if unknown:
        raise bad_request(f"unknown field {unknown[0]}")
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
    camera_id = _camera_id(request)
    service = service_of(request)
    frame = service.monitors[camera_id].last_frame
    if frame is None:
        frame = await service.refresh_camera(camera_id)
    draw = request.query.get("rois") in ("1", "true")
    rois = service.config.camera(camera_id).rois if draw else []
    from .drawing import snapshot_jpeg

    data = await asyncio.to_thread(snapshot_jpeg, frame, rois)
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


@routes.post("/api/cameras/{camera_id}/refresh")
async def refresh_camera(request: web.Request) -> web.Response:
    """Fetch a frame now: resolution and latency, or the camera's clear error."""
    camera_id = _camera_id(request)
    service = service_of(request)
    with contextlib.suppress(CameraError):  # the error is in the camera's state
        await service.refresh_camera(camera_id)
    return web.json_response(camera_json(service, camera_id))


@routes.post("/api/cameras/{camera_id}/test")
async def test_classifier(request: web.Request) -> web.Response:
    """Top labels per ROI on the current frame."""
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
