"""Query-string parsing that names the bad parameter (400), never a 500."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from multidict import MultiMapping

from ..store import EventQuery

MAX_LIMIT = 1000
EVENT_PARAMS = {"start", "end", "label", "roi", "camera", "hour", "unique", "limit", "offset"}


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=f'{{"error": "{message}"}}'.replace("\\", "\\\\"), content_type="application/json"
    )


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


def _bool(params: MultiMapping[str], name: str) -> bool:
    value = (params.get(name) or "").lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise bad_request(f"{name}: expected true or false")


def event_query(params: MultiMapping[str]) -> EventQuery:
    unknown = sorted(set(params) - EVENT_PARAMS)
    if unknown:
        raise bad_request(f"unknown parameter {unknown[0]}")
    hours = []
    for value in params.getall("hour", []):
        if not value.isdigit() or not 0 <= int(value) <= 23:
            raise bad_request("hour: expected an integer 0..23")
        hours.append(int(value))
    query = EventQuery(
        start=_date(params, "start"),
        end=_date(params, "end"),
        labels=[v for v in params.getall("label", []) if v],
        rois=[v for v in params.getall("roi", []) if v],
        cameras=[v for v in params.getall("camera", []) if v],
        hours=hours,
        unique=_bool(params, "unique"),
        limit=_int(params, "limit", 100, 1, MAX_LIMIT),
        offset=_int(params, "offset", 0, 0, 10**9),
    )
    if query.start and query.end and query.start > query.end:
        raise bad_request("start: must not be after end")
    return query
