"""Storage faults: a full disk, a folder edited by hand, a lost or damaged index."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from clevercam_mqtt.events import Event, new_event_id
from clevercam_mqtt.store import INDEX_FILE, UNINDEXED, HistoryStore, StoreError
from tests.helpers.camera import LocalCamera
from tests.helpers.history_check import check_history
from tests.helpers.recording import recorded_service
from tests.helpers.scenes import scene_jpeg
from tests.helpers.service import camera_config, service_config
from tests.helpers.small_disk import fill, small_disk
from tests.helpers.waiting import wait_for

IMAGE = scene_jpeg("cat")  # about 180 kB, as a real 1019x844 snapshot
START = datetime(2026, 11, 20, 8, 0).astimezone()
STORE_LOG = "clevercam_mqtt.store"


def event_at(minutes: int) -> Event:
    timestamp = START + timedelta(minutes=minutes)
    event_id = new_event_id(timestamp)
    return Event(
        id=event_id, camera="driveway", roi="gate", labels=["tabby"], scores=[0.6], motion=0.2,
        timestamp=timestamp, sequence_id=event_id, image=IMAGE, width=1019, height=844,
    )  # fmt: skip


def test_a_full_disk_makes_room_by_dropping_the_oldest_events(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The history fills a 3 MB disk long before its own 10 MB cap."""
    with small_disk(tmp_path / "disk", 3 * 1024) as disk:
        store = HistoryStore(disk / "history", max_disk_mb=10)
        store.open()
        events = [event_at(minute) for minute in range(40)]
        for event in events:
            store.add(event)  # never raises: the oldest events make room
        kept = [e.id for e in events if store.get(e.id) is not None]
        assert 3 < len(kept) < len(events)
        assert kept == [e.id for e in events[-len(kept) :]]  # the newest ones
        assert store.stats() == {
            "count": len(kept),
            "bytes": check_history(disk / "history").bytes_in_rows,
        }
        store.close()
        check_history(disk / "history").assert_consistent()
    assert any("the disk is full; removed the" in r.getMessage() for r in caplog.records)


def test_a_disk_full_of_other_files_is_a_clear_error_and_no_damage(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 2 * 1024) as disk:
        store = HistoryStore(disk / "history")
        store.open()
        ballast = fill(disk)
        event = event_at(0)
        with pytest.raises(StoreError) as caught:
            store.add(event)
        assert str(caught.value) == (
            f"cannot store event {event.id}: the disk of {disk / 'history'} is full"
        )
        assert store.get(event.id) is None
        check_history(disk / "history").assert_consistent()

        ballast.unlink()
        store.add(event)  # room again: the same event now goes in whole
        assert store.file_path(event.id, "image") is not None
        store.close()
        report = check_history(disk / "history")
        report.assert_consistent()
        assert report.ids == [event.id]


async def test_the_service_keeps_monitoring_while_the_disk_is_full(
    tmp_path: Path, camera: LocalCamera, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with small_disk(tmp_path / "disk", 2 * 1024) as disk:
        config = service_config(
            tmp_path, [camera_config(camera.url("open"))], storage={"path": str(disk / "data")}
        )
        async with recorded_service(tmp_path, config) as (service, bus):
            state = service.states["driveway"]
            await wait_for(lambda: state.frames_checked >= 2, 20, "first frames")
            ballast = fill(disk)
            camera.set_image(scene_jpeg("cat"))
            await wait_for(lambda: bus.of(Event), 20, "a cat event")
            lost = bus.of(Event)[0]
            assert service.store.get(lost.id) is None
            checked = state.frames_checked
            await wait_for(lambda: state.frames_checked >= checked + 3, 20, "frames after it")
            assert state.ok is True
            assert f"[driveway] cannot store event {lost.id}: the disk of" in caplog.text

            ballast.unlink()
            camera.set_image(scene_jpeg("empty"))
            await wait_for(lambda: len(bus.of(Event)) == 1 and state.frames_checked > checked + 5,
                           20, "the empty scene")  # fmt: skip
            camera.set_image(scene_jpeg("cat"))
            await wait_for(lambda: service.store.stats()["count"] == 1, 20, "a stored event")
        check_history(disk / "data").assert_consistent()


def history_with_events(root: Path, count: int) -> list[Event]:
    store = HistoryStore(root)
    store.open()
    events = [event_at(minute) for minute in range(count)]
    events.append(event_at(60 * 24))  # the next day
    for event in events:
        store.add(event)
    store.close()
    return events


def test_a_history_folder_edited_by_hand(tmp_path: Path) -> None:
    root = tmp_path / "history"
    events = history_with_events(root, 5)
    day = root / "2026-11-20"
    (day / f"{events[0].id}.jpg").unlink()  # an image deleted by hand
    (day / f"{events[1].id}.thumb.jpg").unlink()  # a thumbnail deleted by hand
    (day / f"{events[2].id}.jpg").rename(day / "renamed.jpg")
    (day / "20261120-090000-000000-abcdef.jpg").write_bytes(IMAGE)  # a stray event file
    (day / "left-over.jpg.tmp").write_bytes(b"\xff\xd8")
    (day / "notes.txt").write_text("the cat is called Mia")  # the user's own file
    mine = root / "my-photos"  # the user's own folder beside the history
    mine.mkdir()
    (mine / "best-cat.jpg").write_bytes(IMAGE)
    (root / "2026-11-21").rename(root / "2026-11-21-backup")

    store = HistoryStore(root)
    store.open()
    survivors = {e.id for e in events if store.get(e.id) is not None}
    assert survivors == {events[3].id, events[4].id}
    store.close()
    check_history(root).assert_consistent()
    assert sorted(p.name for p in day.iterdir()) == sorted(
        [f"{e}.jpg" for e in survivors] + [f"{e}.thumb.jpg" for e in survivors] + ["notes.txt"]
    )
    assert (mine / "best-cat.jpg").read_bytes() == IMAGE
    assert len(list((root / "2026-11-21-backup").iterdir())) == 2


def test_a_deleted_index_keeps_the_images(tmp_path: Path) -> None:
    root = tmp_path / "history"
    events = history_with_events(root, 3)
    (root / INDEX_FILE).unlink()
    store = HistoryStore(root)
    store.open()
    assert store.stats()["count"] == 0
    store.add(event_at(120))
    store.close()
    kept = sorted(p.name for p in (root / UNINDEXED).rglob("*.jpg"))
    assert kept == sorted([f"{e.id}.jpg" for e in events] + [f"{e.id}.thumb.jpg" for e in events])
    check_history(root).assert_consistent()


def test_a_damaged_index_is_set_aside_and_a_new_one_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "history"
    events = history_with_events(root, 2)
    damaged = b"this is not an SQLite database, a power cut wrote over it" * 100
    (root / INDEX_FILE).write_bytes(damaged)
    store = HistoryStore(root)
    store.open()
    store.add(event_at(30))
    store.close()
    aside = list(root.glob(f"{INDEX_FILE}.damaged-*"))
    assert [p.read_bytes() for p in aside] == [damaged]
    assert len(list((root / UNINDEXED).rglob("*.jpg"))) == 2 * len(events)
    assert "History index was damaged" in caplog.text
    check_history(root).assert_consistent()
    with sqlite3.connect(root / INDEX_FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


def test_an_index_edited_to_point_outside_is_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "history"
    events = history_with_events(root, 2)
    secret = tmp_path / "secret.txt"
    secret.write_text("not a picture")
    store = HistoryStore(root)
    store.open()
    with sqlite3.connect(root / INDEX_FILE) as db:
        db.execute(
            "UPDATE events SET image = '../secret.txt', thumbnail = '/etc/hostname' WHERE id = ?",
            (events[0].id,),
        )
    assert store.file_path(events[0].id, "image") is None
    assert store.file_path(events[0].id, "thumbnail") is None
    assert store.delete([events[0].id]) == 1
    store.close()
    assert secret.read_text() == "not a picture" and Path("/etc/hostname").exists()

    with sqlite3.connect(root / INDEX_FILE) as db:  # and at the next start
        db.execute("UPDATE events SET image = '../secret.txt' WHERE id = ?", (events[1].id,))
    store = HistoryStore(root)
    store.open()
    assert store.get(events[1].id) is None
    store.close()
    assert secret.read_text() == "not a picture"
    check_history(root).assert_consistent()


def test_an_index_that_cannot_be_opened_is_not_mistaken_for_a_damaged_one(tmp_path: Path) -> None:
    """Only corruption sets an index aside; any other failure stops with the reason."""
    root = tmp_path / "history"
    (root / INDEX_FILE).mkdir(parents=True)  # e.g. a bad mount: the name is there, unusable
    store = HistoryStore(root)
    with pytest.raises(StoreError, match="cannot open the history index"):
        store.open()
    assert (root / INDEX_FILE).is_dir() and not list(root.glob("*.damaged-*"))
