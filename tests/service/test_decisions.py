"""The loop's pure decisions: schedule, label filter, sequences."""

from __future__ import annotations

from datetime import datetime

from clevercam_mqtt.classifier import Prediction
from clevercam_mqtt.config import Schedule
from clevercam_mqtt.decisions import SequenceTracker, in_schedule, matching_labels

MONDAY_NOON = datetime(2026, 11, 23, 12, 0)  # a Monday


def test_schedule_days_and_hours() -> None:
    assert in_schedule(Schedule(), MONDAY_NOON)
    assert not in_schedule(Schedule(days=["tue"]), MONDAY_NOON)
    assert in_schedule(Schedule(from_hour=8, to_hour=18), MONDAY_NOON)
    assert not in_schedule(Schedule(from_hour=13, to_hour=18), MONDAY_NOON)
    assert not in_schedule(Schedule(from_hour=8, to_hour=12), MONDAY_NOON)  # end is exclusive


def test_schedule_over_midnight_belongs_to_the_starting_day() -> None:
    night = Schedule(days=["mon"], from_hour=22, to_hour=6)
    assert in_schedule(night, MONDAY_NOON.replace(hour=23))
    assert in_schedule(night, datetime(2026, 11, 24, 3, 0))  # Tuesday 03:00, Monday's night
    assert not in_schedule(night, MONDAY_NOON.replace(hour=3))  # Sunday's night
    assert not in_schedule(night, MONDAY_NOON)


PREDICTIONS = [Prediction("Egyptian cat", 0.6), Prediction("tabby", 0.25), Prediction("lynx", 0.1)]


def test_labels_match_case_insensitively_above_min_score() -> None:
    matched = matching_labels(PREDICTIONS, ["egyptian CAT", "Tabby", "lynx"], 0.2, 5)
    assert [p.label for p in matched] == ["Egyptian cat", "tabby"]


def test_star_matches_any_label_and_top_k_limits() -> None:
    assert [p.label for p in matching_labels(PREDICTIONS, ["*"], 0.05, 2)] == [
        "Egyptian cat",
        "tabby",
    ]
    assert matching_labels(PREDICTIONS, ["lynx"], 0.05, 2) == []
    assert matching_labels(PREDICTIONS, ["espresso"], 0.0, 5) == []


def test_sequences_split_on_gap_and_length() -> None:
    tracker = SequenceTracker(gap=5, max_length=3)
    assert tracker.assign(0, "a") == ("a", None)
    assert tracker.assign(4, "b") == ("a", None)
    assert tracker.assign(8, "c") == ("a", None)
    assert tracker.assign(9, "d") == ("d", "a")  # max length reached
    assert tracker.expire(13) is None
    assert tracker.expire(14.5) == "d"
    assert tracker.expire(20) is None
    assert tracker.assign(30, "e") == ("e", None)
    assert tracker.assign(40, "f") == ("f", "e")  # gap passed without an expire call
