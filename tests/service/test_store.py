"""The history: queries, facets, deletes, retention and crash consistency."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from clevercam_mqtt.events import Event, new_event_id
from clevercam_mqtt.store import INDEX_FILE, EventQuery, HistoryStore, StoreError
from tests.helpers.scenes import scene_jpeg

IMAGE = scene_jpeg("cat")
DAY = date(2026, 11, 20)


def make_event(
    hour: int = 10,
    camera: str = "driveway",
    roi: str = "gate",
    labels=("tabby",),
    sequence: str | None = None,
    day: date = DAY,
    minute: int = 0,
) -> Event:
    timestamp = datetime(day.year, day.month, day.day, hour, minute).astimezone()
    event_id = new_event_id(timestamp)
    return Event(
        id=event_id,
        camera=camera,
        roi=roi,
        labels=list(labels),
        scores=[0.5] * len(labels),
        motion=0.1,
        timestamp=timestamp,
        sequence_id=sequence or event_id,
        image=IMAGE,
        width=1019,
        height=844,
    )


@pytest.fixture
def store(tmp_path: Path):
    history = HistoryStore(tmp_path / "history", retain_days=30, max_disk_mb=100)
    history.open()
    yield history
    history.close()


def ids(result) -> list[str]:
    return [event["id"] for event in result.events]


def test_add_writes_files_and_row(store: HistoryStore) -> None:
    event = make_event()
    store.add(event)
    stored = store.get(event.id)
    assert stored is not None and stored["labels"] == ["tabby"]
    assert stored["timestamp"].startswith("2026-11-20T10:00:00")
    image = store.file_path(event.id, "image")
    thumbnail = store.file_path(event.id, "thumbnail")
    assert image is not None and image.read_bytes() == IMAGE
    assert image.parent.name == "2026-11-20"
    assert thumbnail is not None and thumbnail.stat().st_size < len(IMAGE)
    with pytest.raises(StoreError, match="already stored"):
        store.add(event)
    assert store.file_path(event.id, "image") is not None  # the first copy is untouched


def test_filters_combine_and_facets_ignore_their_own_dimension(store: HistoryStore) -> None:
    cat_gate = make_event(10, labels=("tabby", "Egyptian cat"))
    cat_door = make_event(11, roi="door", labels=("tabby",))
    van = make_event(11, camera="garden", labels=("moving van",), minute=5)
    yesterday = make_event(9, day=DAY - timedelta(days=1))
    for event in (cat_gate, cat_door, van, yesterday):
        store.add(event)

    day = EventQuery(start=DAY, end=DAY)
    assert ids(store.query(day)) == [van.id, cat_door.id, cat_gate.id]  # newest first
    assert store.query(EventQuery(start=DAY - timedelta(days=1), end=DAY)).total == 4
    assert ids(store.query(EventQuery(end=DAY - timedelta(days=1)))) == [yesterday.id]

    tabby = store.query(EventQuery(start=DAY, end=DAY, labels=["TABBY"]))
    assert set(ids(tabby)) == {cat_gate.id, cat_door.id}
    assert tabby.facets["labels"] == {"tabby": 2, "Egyptian cat": 1, "moving van": 1}
    assert tabby.facets["cameras"] == {"driveway": 2}

    both = store.query(EventQuery(start=DAY, end=DAY, labels=["tabby"], rois=["gate"]))
    assert ids(both) == [cat_gate.id]
    assert both.facets["rois"] == {"gate": 1, "door": 1}
    assert ids(store.query(EventQuery(cameras=["garden"]))) == [van.id]
    hour = store.query(EventQuery(start=DAY, end=DAY, hours=[11]))
    assert set(ids(hour)) == {cat_door.id, van.id}
    assert hour.facets["hours"] == {"10": 1, "11": 2}
    assert ids(
        store.query(
            EventQuery(
                start=DAY,
                end=DAY,
                hours=[11],
                cameras=["garden"],
                labels=["moving van"],
                rois=["gate"],
            )
        )
    ) == [van.id]
    paged = store.query(EventQuery(start=DAY, end=DAY, limit=2, offset=1))
    assert paged.total == 3 and ids(paged) == [cat_door.id, cat_gate.id]


def test_unique_keeps_the_first_event_of_each_sequence(store: HistoryStore) -> None:
    first = make_event(10, minute=0)
    second = make_event(10, minute=1, sequence=first.id)
    other = make_event(12)
    for event in (first, second, other):
        store.add(event)
    result = store.query(EventQuery(unique=True))
    assert ids(result) == [other.id, first.id]
    assert result.total == 2 and result.facets["labels"] == {"tabby": 2}


def test_delete_removes_rows_and_files(store: HistoryStore) -> None:
    event = make_event()
    store.add(event)
    image = store.file_path(event.id, "image")
    assert store.delete([event.id, "nope"]) == 1
    assert store.get(event.id) is None
    assert image is not None and not image.exists()
    assert store.stats() == {"count": 0, "bytes": 0}


def test_retention_by_age_then_by_size(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h", retain_days=7, max_disk_mb=10)
    store.open()
    old = make_event(day=DAY - timedelta(days=8))
    recent = [make_event(hour=h) for h in range(5)]
    for event in (old, *recent):
        store.add(event)
    assert store.enforce_retention(today=DAY) == 1
    assert store.get(old.id) is None and not (tmp_path / "h" / str(old.timestamp.date())).exists()
    per_event = store.stats()["bytes"] // 5
    store.max_bytes = per_event * 3
    store.enforce_retention(today=DAY)
    assert store.stats()["count"] == 3
    assert store.get(recent[0].id) is None and store.get(recent[4].id) is not None
    store.close()


def test_size_cap_holds_while_adding(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h", max_disk_mb=10)
    store.open()
    store.max_bytes = 3 * (len(IMAGE) + 20_000)
    for hour in range(6):
        store.add(make_event(hour=hour))
    assert store.stats()["bytes"] <= store.max_bytes
    assert store.stats()["count"] < 6
    store.close()


def test_reopen_cleans_orphans_and_rows_without_files(tmp_path: Path) -> None:
    root = tmp_path / "history"
    store = HistoryStore(root)
    store.open()
    kept, lost = make_event(10), make_event(11)
    store.add(kept)
    store.add(lost)
    store.close()
    # A crash between file write and commit, and a hand-edited folder:
    (root / "2026-11-20" / "20261120-000000-000000-abcdef.jpg").write_bytes(IMAGE)
    (root / "2026-11-20" / "half-written.jpg.tmp").write_bytes(b"\xff\xd8")
    (root / "2026-11-20" / f"{lost.id}.jpg").unlink()
    store = HistoryStore(root)
    store.open()
    assert store.get(kept.id) is not None and store.get(lost.id) is None
    assert sorted(p.name for p in (root / "2026-11-20").iterdir()) == sorted(
        [f"{kept.id}.jpg", f"{kept.id}.thumb.jpg"]
    )
    assert store.stats()["count"] == 1
    assert (root / INDEX_FILE).exists()
    store.close()


def test_days_lists_days_with_counts(store: HistoryStore) -> None:
    store.add(make_event(10))
    store.add(make_event(11, camera="garden"))
    store.add(make_event(9, day=DAY - timedelta(days=2)))
    assert store.days() == [{"day": "2026-11-20", "count": 2}, {"day": "2026-11-18", "count": 1}]
    assert store.days("garden") == [{"day": "2026-11-20", "count": 1}]
