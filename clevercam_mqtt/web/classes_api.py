"""`/api/classes/...`: class sets, their examples, training, prediction, import and export."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from ..classes import ClassesError, ClassSetSpec
from ..config import format_validation_error
from ..service import Service
from .api import service_of
from .params import json_body

routes = web.RouteTableDef()
MAX_IMPORT_BYTES = 64 * 1024 * 1024
EXPORT_SUFFIX = ".clevercam-classes.npz"


def _fail(status: type[web.HTTPError], message: str) -> NoReturn:
    """A JSON error; json.dumps because the messages may quote names."""
    raise status(text=json.dumps({"error": message}), content_type="application/json")


def _errors(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """ClassesError is the caller's mistake (400); a missing set or example is a 404."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ClassesError as error:
            _fail(web.HTTPBadRequest, str(error))
        except KeyError as error:
            _fail(web.HTTPNotFound, str(error.args[0]) if error.args else "not found")

    return wrapped


def _spec(body: dict[str, Any]) -> ClassSetSpec:
    try:
        return ClassSetSpec.model_validate(body)
    except ValidationError as error:
        raise ClassesError(format_validation_error(error).replace("\n", "; ")) from None


def _strings(body: dict[str, Any], key: str) -> list[str]:
    values = body.get(key)
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise ClassesError(f"{key}: expected a list of ids")
    return values


async def _capture(service: Service, body: dict[str, Any]) -> tuple[Any, str, Any]:
    """The monitor, ROI slug and a fresh frame named by {"capture": {"camera", "roi"}}."""
    target = body.get("capture")
    if not isinstance(target, dict) or not {"camera", "roi"} <= set(target):
        raise ClassesError('capture: expected {"camera": ID, "roi": SLUG} (or "events": [ids])')
    camera, roi = str(target["camera"]), str(target["roi"])
    monitor = service.monitors.get(camera)
    if monitor is None:
        raise ClassesError(f"capture.camera: no camera {camera!r}")
    frame = await service.refresh_camera(camera)
    return monitor, roi, frame


@routes.get("/api/classes")
@_errors
async def list_sets(request: web.Request) -> web.Response:
    classes = service_of(request).classes
    return web.json_response(
        {"class_sets": [classes.describe(s) for s in classes.all()], "states": classes.states()}
    )


@routes.post("/api/classes")
@_errors
async def create_set(request: web.Request) -> web.Response:
    classes = service_of(request).classes
    class_set = await classes.create(_spec(await json_body(request)))
    return web.json_response(classes.describe(class_set), status=201)


@routes.get("/api/classes/states")
@_errors
async def states(request: web.Request) -> web.Response:
    return web.json_response({"states": service_of(request).classes.states()})


@routes.post("/api/classes/import")
@_errors
async def import_set(request: web.Request) -> web.Response:
    """The body is a file from `GET /api/classes/{slug}/export` (it replaces a same-named set)."""
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise ClassesError(f"file: larger than {MAX_IMPORT_BYTES >> 20} MB")
        chunks.append(chunk)
    data = b"".join(chunks)
    classes = service_of(request).classes
    class_set = await classes.import_file(data)
    return web.json_response(classes.describe(class_set), status=201)


@routes.get("/api/classes/{slug}")
@_errors
async def get_set(request: web.Request) -> web.Response:
    classes = service_of(request).classes
    return web.json_response(classes.describe(classes.get(request.match_info["slug"])))


@routes.put("/api/classes/{slug}")
@_errors
async def update_set(request: web.Request) -> web.Response:
    classes = service_of(request).classes
    spec = _spec(await json_body(request))
    class_set = await classes.update(request.match_info["slug"], spec)
    return web.json_response(classes.describe(class_set))


@routes.delete("/api/classes/{slug}")
@_errors
async def delete_set(request: web.Request) -> web.Response:
    await service_of(request).classes.delete(request.match_info["slug"])
    return web.json_response({"deleted": request.match_info["slug"]})


@routes.get("/api/classes/{slug}/examples")
@_errors
async def list_examples(request: web.Request) -> web.Response:
    classes = service_of(request).classes
    return web.json_response({"examples": classes.examples(request.match_info["slug"])})


@routes.post("/api/classes/{slug}/examples")
@_errors
async def add_examples(request: web.Request) -> web.Response:
    """{"class": NAME, "events": [ids]} or {"class": NAME, "capture": {"camera", "roi"}}."""
    service = service_of(request)
    slug = request.match_info["slug"]
    body = await json_body(request)
    label = body.get("class")
    if not isinstance(label, str) or not label.strip():
        raise ClassesError("class: expected the name of one of the set's classes")
    if "events" in body:
        added = await service.classes.add_events(
            slug, label, _strings(body, "events"), service.store
        )
    else:
        service.classes.get(slug)
        monitor, roi, frame = await _capture(service, body)
        added = [await service.classes.add_capture(slug, label, monitor, roi, frame)]
    return web.json_response(
        {
            "added": [e.model_dump() for e in added],
            "counts": service.classes.get(slug).counts(),
        },
        status=201,
    )


@routes.delete("/api/classes/{slug}/examples/{example_id}")
@_errors
async def remove_example(request: web.Request) -> web.Response:
    classes = service_of(request).classes
    slug = request.match_info["slug"]
    await classes.remove_example(slug, request.match_info["example_id"])
    return web.json_response({"counts": classes.get(slug).counts()})


@routes.get("/api/classes/{slug}/examples/{example_id}/thumbnail")
@_errors
async def example_thumbnail(request: web.Request) -> web.StreamResponse:
    classes = service_of(request).classes
    path = classes.thumbnail(request.match_info["slug"], request.match_info["example_id"])
    if path is None:
        _fail(web.HTTPNotFound, "no such example thumbnail")
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})


@routes.post("/api/classes/{slug}/train")
@_errors
async def train(request: web.Request) -> web.Response:
    training = await service_of(request).classes.train(request.match_info["slug"])
    return web.json_response(training.model_dump(mode="json"))


@routes.post("/api/classes/{slug}/predict")
@_errors
async def predict(request: web.Request) -> web.Response:
    """{"events": [ids]} (stored embeddings) or {"capture": {"camera", "roi"}} (a new frame)."""
    service = service_of(request)
    classes = service.classes
    class_set = classes.get(request.match_info["slug"])
    body = await json_body(request)
    if "events" in body:
        results = await classes.predict_events(
            class_set.slug, _strings(body, "events"), service.store
        )
        return web.json_response({"predictions": results})
    monitor, roi_slug, frame = await _capture(service, body)
    roi = next((r for r in monitor.config.rois if r.slug == roi_slug), None)
    if roi is None:
        raise ClassesError(f"capture.roi: camera {monitor.config.id} has no ROI {roi_slug!r}")
    result = (await asyncio.to_thread(monitor.analyze, frame, [roi], 1))[0]
    if result.embedding is None:
        raise ClassesError("model: gives no embedding")
    label, score = classes.predict(class_set, result.embedding)
    return web.json_response({"predictions": [{"class": label, "score": score}]})


@routes.get("/api/classes/{slug}/export")
@_errors
async def export_set(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    data = await service_of(request).classes.export(slug)
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{slug}{EXPORT_SUFFIX}"'},
    )
