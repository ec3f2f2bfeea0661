"""Subject and body templates: `str.format` placeholders, checked when the config loads.

Only the names in PLACEHOLDERS are allowed, without attribute or index access, so a template
can neither fail at send time nor reach into Python objects.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import datetime
from typing import Any

PLACEHOLDERS: dict[str, str] = {
    "camera": "camera name",
    "camera_id": "camera id",
    "roi": "ROI name",
    "labels": "labels, comma separated",
    "label": "the best label",
    "scores": "scores in percent, in the order of the labels",
    "score": "the best score (69%; {score:.2f} gives 0.69)",
    "time": "local time of the event (2026-11-25 14:03:02; {time:%H:%M} formats it)",
    "date": "local date of the event",
    "events": "number of events of the sequence so far",
    "url": "link to the image when web.base_url is set, else empty",
}


class Score(float):
    """A score that prints as a percentage unless a format is given."""

    def __format__(self, spec: str) -> str:
        return float.__format__(self, spec or ".0%")

    def __str__(self) -> str:
        return format(self)


class LocalTime(datetime):
    """A time that prints without microseconds and zone unless a format is given."""

    def __str__(self) -> str:
        return self.strftime("%Y-%m-%d %H:%M:%S")


def template_error(template: str) -> str | None:
    """Why a template cannot be used, or None when it renders with every placeholder."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"{error} (write {{{{ and }}}} for literal braces)"
    for _, name, _, _ in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = name or "(empty)"
            return f"unknown placeholder {{{shown}}}; known: {', '.join(PLACEHOLDERS)}"
    try:
        render(template, sample_values())
    except (ValueError, TypeError) as error:
        return f"cannot be rendered: {error}"
    return None


def values(
    *,
    camera: str,
    camera_id: str,
    roi: str,
    labels: Sequence[str],
    scores: Sequence[float],
    time: datetime,
    events: int = 1,
    url: str = "",
) -> dict[str, Any]:
    """The placeholder values of one event."""
    local = time.astimezone()
    return {
        "camera": camera,
        "camera_id": camera_id,
        "roi": roi,
        "labels": ", ".join(labels),
        "label": labels[0] if labels else "",
        "scores": ", ".join(format(Score(score)) for score in scores),
        "score": Score(scores[0] if scores else 0.0),
        "time": LocalTime.fromtimestamp(local.timestamp(), local.tzinfo),
        "date": local.date().isoformat(),
        "events": events,
        "url": url,
    }


def sample_values() -> dict[str, Any]:
    return values(
        camera="Driveway",
        camera_id="driveway",
        roi="Gate",
        labels=["Egyptian cat", "tabby"],
        scores=[0.69, 0.12],
        time=datetime.now().astimezone(),
    )


def render(template: str, placeholders: dict[str, Any]) -> str:
    return template.format_map(placeholders)
