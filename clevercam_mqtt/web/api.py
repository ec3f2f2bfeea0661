"""JSON API over the history, the cameras and the system."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .. import __version__
from ..cameras import redact_url
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
