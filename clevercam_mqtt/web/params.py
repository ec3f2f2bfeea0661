"""Query-string and body parsing that names the bad parameter (400), never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from ..store import EventQuery

MAX_LIMIT = 1000
MAX_IDS = 1000
EVENT_PARAMS = {"start", "end", "label", "roi", "camera", "hour", "unique", "limit", "offset"}
_EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def json_error(status: type[web.HTTPException], message: str, **headers: str) -> web.HTTPException:
    """An HTTP error whose body is `{"error": message}`."""
    return status(
        text=json.dumps({"error": message}), content_type="application/json", headers=headers
    )


def bad_request(message: str) -> web.HTTPException:
    return json_error(web.HTTPBadRequest, message)


def not_found(what: str) -> web.HTTPException:
    return json_error(web.HTTPNotFound, f"no such {what}")


def check_params(params: Iterable[str], allowed: Iterable[str] = ()) -> None:
    """Refuse query parameters a route does not know (a typo must not be ignored)."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise bad_request(f"unknown parameter {unknown[0]}")


def flag(params: MultiMapping[str], name: str) -> bool:
    value = (params.get(name) or "").lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise bad_request(f"{name}: expected true or false")


def _date(params: MultiMapping[str], name: str) -> date | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name}: expected a date YYYY-MM-DD") from None


def _int(params: MultiMapping[str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"{name}: expected an integer") from None
    if not low <= number <= high:
        raise bad_request(f"{name}: must be within {low}..{high}")
    return number


def event_query(params: MultiMapping[str]) -> EventQuery:
    check_params(params, EVENT_PARAMS)
    for name in ("start", "end", "unique", "limit", "offset"):
        if len(params.getall(name, [])) > 1:
            raise bad_request(f"{name}: given more than once")
    hours = []
    for value in params.getall("hour", []):
        # isascii: '²' is a digit to isdigit() but not to int() (a 500 otherwise)
        if not (value.isascii() and value.isdigit()) or not 0 <= int(value) <= 23:
            raise bad_request("hour: expected an integer 0..23")
        hours.append(int(value))
    query = EventQuery(
        start=_date(params, "start"),
        end=_date(params, "end"),
        labels=[v for v in params.getall("label", []) if v],
        rois=[v for v in params.getall("roi", []) if v],
        cameras=[v for v in params.getall("camera", []) if v],
        hours=hours,
        unique=flag(params, "unique"),
        limit=_int(params, "limit", 100, 1, MAX_LIMIT),
        offset=_int(params, "offset", 0, 0, 10**9),
    )
    if query.start and query.end and query.start > query.end:
        raise bad_request("start: must not be after end")
    return query


def event_id(value: str, name: str = "event id") -> str:
    if not isinstance(value, str) or not _EVENT_ID.match(value):
        raise bad_request(f"{name}: malformed")
    return value


async def json_body(request: web.Request, allowed: Iterable[str] | None = None) -> dict[str, Any]:
    """The request's JSON object; with `allowed`, an unknown field is a 400 naming it."""
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("body: expected a JSON object") from None
    if not isinstance(body, dict):
        raise bad_request("body: expected a JSON object")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise bad_request(f"unknown field {unknown[0]}")
    return body


async def id_list(request: web.Request) -> list[str]:
    """Event ids of a batch call: JSON `{"ids": [...]}` or a form with repeated `ids`."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        check_params(form, {"ids"})
        ids: Any = [v for v in form.getall("ids", []) if isinstance(v, str)]
    else:
        ids = (await json_body(request, {"ids"})).get("ids")
    if not isinstance(ids, list) or not ids:
        raise bad_request("ids: expected a non-empty list of event ids")
    if len(ids) > MAX_IDS:
        raise bad_request(f"ids: at most {MAX_IDS} events per call, got {len(ids)}")
    return list(dict.fromkeys(event_id(value, "ids") for value in ids))
