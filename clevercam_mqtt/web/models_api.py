"""Model choice and labels: `GET /api/models`, `PUT /api/model`, `GET /api/labels`.

A model is chosen by the id this API lists (never by a path the request makes up); the id
is what the config file's `model.path` gets: the folder name for a bundled model, and
`models/<name>` for one fetched next to the config file (`clevercam models fetch`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ..classifier import ModelError
from ..config import (
    BUNDLED_MODELS,
    ConfigError,
    ModelConfig,
    format_validation_error,
    resolve_model_path,
)
from ..model_catalog import installed_models
from ..service import Service
from .api import service_of
from .params import bad_request, check_params, json_body

routes = web.RouteTableDef()
MODELS_DIR = "models"
MODEL_FIELDS = ("path", "threads", "min_score", "top_k")


@dataclass(frozen=True)
class ModelChoice:
    id: str
    name: str
    folder: Path
    bundled: bool


def model_choices(service: Service) -> list[ModelChoice]:
    """Every model folder present: next to the config, bundled, and the one in use."""
    base = service.config_dir or Path.cwd()
    bundled_dir = BUNDLED_MODELS.resolve()
    active = resolve_model_path(service.config.model.path, service.config_dir).resolve()
    choices = []
    for folder in installed_models([base / MODELS_DIR]):
        bundled = folder.parent.resolve() == bundled_dir
        if folder.resolve() == active:
            model_id = service.config.model.path
        else:
            model_id = folder.name if bundled else f"{MODELS_DIR}/{folder.name}"
        choices.append(ModelChoice(model_id, folder.name, folder, bundled))
    if not any(choice.folder.resolve() == active for choice in choices):
        choices.insert(0, ModelChoice(service.config.model.path, active.name, active, False))
    return choices


def _models_json(service: Service, choices: list[ModelChoice]) -> dict[str, Any]:
    config = service.config.model
    return {
        "models": [
            {
                "id": choice.id,
                "name": choice.name,
                "bundled": choice.bundled,
                "active": choice.id == config.path,
            }
            for choice in choices
        ],
        "active": config.path,
        "loaded": service.model.classifier.name,
        "threads": config.threads,
        "min_score": config.min_score,
        "top_k": config.top_k,
    }


@routes.get("/api/models")
async def list_models(request: web.Request) -> web.Response:
    check_params(request.query)
    service = service_of(request)
    choices = await asyncio.to_thread(model_choices, service)
    return web.json_response(_models_json(service, choices))


@routes.put("/api/model")
async def set_model(request: web.Request) -> web.Response:
    """Pick a listed model and/or change threads, min_score, top_k; applies at once."""
    check_params(request.query)
    service = service_of(request)
    body = await json_body(request, MODEL_FIELDS)
    choices = await asyncio.to_thread(model_choices, service)
    if "path" in body and body["path"] not in {choice.id for choice in choices}:
        raise bad_request("path: not one of the installed models (see GET /api/models)")
    try:
        config = ModelConfig.model_validate({**service.config.model.model_dump(), **body})
    except ValidationError as error:
        raise bad_request(format_validation_error(error)) from None
    try:
        await service.set_model(config)
    except ModelError as error:
        raise bad_request(f"path: {error}") from None
    except ConfigError as error:
        raise bad_request(str(error)) from None
    return web.json_response(_models_json(service, choices))


@routes.get("/api/labels")
async def labels(request: web.Request) -> web.Response:
    """The loaded model's labels, for the autocomplete of ROI label lists.

    The classes of label-mode class sets come first: a ROI can list them too.
    """
    check_params(request.query)
    service = service_of(request)
    classifier = service.model.classifier
    learned = service.classes.label_names()
    model_labels = [v for v in classifier.labels if v != "background" and v not in learned]
    return web.json_response({"model": classifier.name, "labels": [*learned, *model_labels]})
