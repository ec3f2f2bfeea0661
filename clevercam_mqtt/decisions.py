"""Pure decisions of the monitoring loop, testable without a camera or a model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .classifier import Prediction
from .config import WEEKDAYS, Schedule


def in_schedule(schedule: Schedule, now: datetime) -> bool:
    """Days plus an hour window; from > to wraps past midnight (22 -> 6)."""
    hour = now.hour + now.minute / 60 + now.second / 3600
    day = WEEKDAYS[now.weekday()]
    start, end = schedule.from_hour, schedule.to_hour
    if start <= end:
        return day in schedule.days and start <= hour < end
    if hour >= start:
        return day in schedule.days
    yesterday = WEEKDAYS[(now.weekday() - 1) % 7]
    return yesterday in schedule.days and hour < end


def matching_labels(
    predictions: Sequence[Prediction], wanted: Sequence[str], min_score: float, top_k: int
) -> list[Prediction]:
    """Predictions among the top k, scoring at least min_score, that the ROI asks for."""
    wanted_lower = {label.lower() for label in wanted}
    any_label = "*" in wanted_lower
    return [
        p
        for p in predictions[:top_k]
        if p.score >= min_score and (any_label or p.label.lower() in wanted_lower)
    ]


@dataclass
class SequenceTracker:
    """Groups one camera's events: closer than `gap` seconds, at most `max_length` long."""

    gap: float
    max_length: int
    current: str | None = None
    count: int = 0
    last_time: float = 0.0

    def assign(self, now: float, new_id: str) -> tuple[str, str | None]:
        """Sequence id for an event at `now`, and the id of a sequence this event closed."""
        ended = None
        if self.current is not None and (
            now - self.last_time > self.gap or self.count >= self.max_length
        ):
            ended = self.current
            self.current = None
        if self.current is None:
            self.current, self.count = new_id, 0
        self.count += 1
        self.last_time = now
        return self.current, ended

    def expire(self, now: float) -> str | None:
        """Close the open sequence once `gap` seconds passed without an event."""
        if self.current is not None and now - self.last_time > self.gap:
            ended, self.current, self.count = self.current, None, 0
            return ended
        return None
