"""Which events mail: pure decisions, testable without a camera, a model or a server."""

from __future__ import annotations

from ..events import Event
from .config import CameraRule, NotifyConfig


def roi_matches(rule: CameraRule, event: Event) -> bool:
    if rule.rois is None:
        return True
    wanted = {name.lower() for name in rule.rois}
    return event.roi in wanted or (event.roi_name or event.roi).lower() in wanted


def wanted_labels(rule: CameraRule, event: Event) -> list[tuple[str, float]]:
    """The event's (label, score) pairs the rule asks for, best first."""
    pairs = list(zip(event.labels, event.scores, strict=False))
    if rule.labels is not None and "*" not in rule.labels:
        wanted = {label.lower() for label in rule.labels}
        pairs = [(label, score) for label, score in pairs if label.lower() in wanted]
    return sorted(pairs, key=lambda pair: pair[1], reverse=True)


def event_score(rule: CameraRule, event: Event) -> float | None:
    """How good the event is for a mail; None when it should not mail at all."""
    if not roi_matches(rule, event):
        return None
    pairs = wanted_labels(rule, event)
    return pairs[0][1] if pairs else None


def min_interval(config: NotifyConfig, rule: CameraRule) -> float:
    return config.min_interval if rule.min_interval is None else rule.min_interval


def interval_allows(last_mail: float | None, now: float, interval: float) -> bool:
    """True when the camera's previous mail (monotonic seconds) is far enough back."""
    return last_mail is None or now - last_mail >= interval
