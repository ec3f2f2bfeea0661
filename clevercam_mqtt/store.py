"""The history: an SQLite index (WAL) beside JPEG files under `YYYY-MM-DD/` folders.

A write is all or nothing: the files are written to temporary names, flushed and renamed,
and only then is the row committed. A delete removes the row first, then the files. A
crash in between leaves at worst an orphan file, which `open()` removes on the next start,
so the index never points at a missing image. `open()` only touches event files in day
folders; anything else a user keeps beside the history is left alone. When the disk is
full, the oldest events make room for the new one.

The class is synchronous and thread-safe; async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import Embedding
from .events import Event
from .frame import thumbnail_jpeg

_LOGGER = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    roi TEXT NOT NULL,
    roi_name TEXT NOT NULL,
    labels TEXT NOT NULL,
    scores TEXT NOT NULL,
    top_label TEXT NOT NULL,
    top_score REAL NOT NULL,
    motion REAL NOT NULL,
    ts REAL NOT NULL,
    timestamp TEXT NOT NULL,
    day TEXT NOT NULL,
    hour INTEGER NOT NULL,
    sequence_id TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    image TEXT NOT NULL,
    thumbnail TEXT NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_day ON events(day);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE INDEX IF NOT EXISTS events_camera_ts ON events(camera, ts);
CREATE INDEX IF NOT EXISTS events_sequence ON events(sequence_id);
CREATE TABLE IF NOT EXISTS event_labels (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    label TEXT NOT NULL COLLATE NOCASE,
    score REAL NOT NULL,
    PRIMARY KEY (event_id, label)
);
CREATE INDEX IF NOT EXISTS event_labels_label ON event_labels(label);
CREATE TABLE IF NOT EXISTS event_embeddings (
    event_id TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vector BLOB NOT NULL
);
"""

INDEX_FILE = "index.sqlite3"
TMP_SUFFIX = ".tmp"
UNINDEXED = "unindexed"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EVENT_FILE = re.compile(r"^[\w-]+\.(thumb\.)?jpg(\.tmp)?$")
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class StoreError(Exception):
    """The history cannot be written (disk full, permissions)."""


@dataclass
class EventQuery:
    """Filters of the history; empty lists mean 'any'."""

    start: date | None = None
    end: date | None = None
    labels: list[str] = field(default_factory=list)
    rois: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    hours: list[int] = field(default_factory=list)
    unique: bool = False
    limit: int = 100
    offset: int = 0


@dataclass
class QueryResult:
    events: list[dict[str, Any]]
    total: int
    facets: dict[str, dict[str, int]]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _day_dirs(root: Path) -> list[Path]:
    """The history's own folders (YYYY-MM-DD); other folders belong to the user."""
    return [p for p in root.iterdir() if p.is_dir() and _DAY.match(p.name)]


def _event_files(day_dir: Path) -> list[Path]:
    return [p for p in day_dir.iterdir() if p.is_file() and _EVENT_FILE.match(p.name)]


def is_disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def row_to_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "camera": row["camera"],
        "roi": row["roi"],
        "roi_name": row["roi_name"],
        "labels": json.loads(row["labels"]),
        "scores": json.loads(row["scores"]),
        "motion": row["motion"],
        "timestamp": row["timestamp"],
        "sequence_id": row["sequence_id"],
        "width": row["width"],
        "height": row["height"],
        "image_url": f"/api/events/{row['id']}/image",
        "thumbnail_url": f"/api/events/{row['id']}/thumbnail",
    }


class HistoryStore:
    def __init__(
        self, path: Path, retain_days: int = 30, max_disk_mb: int = 2000, thumbnail_size: int = 224
    ) -> None:
        self.path = path
        self.retain_days = retain_days
        self.max_bytes = max_disk_mb * 1024 * 1024
        self.thumbnail_size = thumbnail_size
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._total_bytes = 0

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        """Open (or create) the index and make index and files agree."""
        self.path.mkdir(parents=True, exist_ok=True)
        index = self.path / INDEX_FILE
        fresh = not index.exists() or index.stat().st_size == 0
        try:
            db = self._connect()
        except sqlite3.DatabaseError as error:
            if getattr(error, "sqlite_errorcode", None) not in _DAMAGED:
                raise StoreError(f"cannot open the history index {index}: {error}") from error
            self._set_aside(error)
            fresh, db = True, self._connect()
        self._db = db
        with self._lock:
            if fresh:
                self._keep_unindexed()
            self._reconcile()
            self._total_bytes = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM events").fetchone()[
                0
            ]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path / INDEX_FILE, check_same_thread=False, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _set_aside(self, error: sqlite3.DatabaseError) -> None:
        """A damaged index (power cut on an SD card) is kept for inspection, not reused."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            source = self.path / (INDEX_FILE + suffix)
            if source.exists():
                os.replace(source, self.path / f"{INDEX_FILE}{suffix}.damaged-{stamp}")
        _LOGGER.error(
            "History index was damaged (%s): kept as %s.damaged-%s, starting a new one",
            error, INDEX_FILE, stamp,
        )  # fmt: skip

    def _keep_unindexed(self) -> None:
        """Images found without an index are moved aside, never deleted: they are photos."""
        moved = 0
        for day_dir in _day_dirs(self.path):
            target = self.path / UNINDEXED / day_dir.name
            for file in _event_files(day_dir):
                if file.name.endswith(TMP_SUFFIX):
                    continue  # half-written: removed as an orphan
                target.mkdir(parents=True, exist_ok=True)
                os.replace(file, target / file.name)
                moved += 1
        if moved:
            _LOGGER.warning(
                "History: the index is new but %d image files exist; moved to %s",
                moved, self.path / UNINDEXED,
            )  # fmt: skip

    def _inside(self, relative: str) -> Path | None:
        """A file the index names, only if it lies in a day folder of the history: an index
        edited by hand never makes the service serve or delete a file elsewhere."""
        parts = Path(relative).parts
        if len(parts) != 2 or not _DAY.match(parts[0]) or not _EVENT_FILE.match(parts[1]):
            return None
        return self.path / relative

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the history is not open")
        return self._db

    def _reconcile(self) -> None:
        """Drop rows whose image is gone and files no row refers to (crash or hand edits)."""
        known: set[str] = set()
        missing: list[str] = []
        for row in self.db.execute("SELECT id, image, thumbnail FROM events"):
            image, thumb = self._inside(row["image"]), self._inside(row["thumbnail"])
            if image and thumb and image.is_file() and thumb.is_file():
                known.update((row["image"], row["thumbnail"]))
            else:
                missing.append(row["id"])
        if missing:
            _LOGGER.warning(
                "History: %d events lost their image files; removing them", len(missing)
            )
            self._delete_rows(missing)
        orphans = 0
        for day_dir in _day_dirs(self.path):
            for file in _event_files(day_dir):
                if f"{day_dir.name}/{file.name}" not in known:
                    _unlink(file)
                    orphans += 1
            if not any(day_dir.iterdir()):
                day_dir.rmdir()
        if orphans:
            _LOGGER.warning("History: removed %d files that no event refers to", orphans)

    # -- writes ----------------------------------------------------------------------------

    def add(self, event: Event) -> None:
        """Save image, thumbnail and row; on failure nothing of the event remains."""
        local = event.timestamp.astimezone()
        day = local.strftime("%Y-%m-%d")
        image_rel, thumb_rel = f"{day}/{event.id}.jpg", f"{day}/{event.id}.thumb.jpg"
        thumbnail = thumbnail_jpeg(event.image, self.thumbnail_size)
        size = len(event.image) + len(thumbnail)

        def write() -> None:
            try:
                (self.path / day).mkdir(exist_ok=True)
                _write_atomic(self.path / image_rel, event.image)
                _write_atomic(self.path / thumb_rel, thumbnail)
                self._insert(event, local, day, image_rel, thumb_rel, size)
            except BaseException:
                for rel in (image_rel, thumb_rel):
                    _unlink(self.path / rel)
                    _unlink(self.path / (rel + TMP_SUFFIX))
                raise

        with self._lock:
            if self.db.execute("SELECT 1 FROM events WHERE id = ?", (event.id,)).fetchone():
                raise StoreError(f"event {event.id} is already stored")
            try:
                try:
                    write()
                except (OSError, sqlite3.Error) as error:
                    if not (is_disk_full(error) and self._make_room(2 * size)):
                        raise
                    write()
            except (OSError, sqlite3.Error) as error:
                if is_disk_full(error):
                    raise StoreError(
                        f"cannot store event {event.id}: the disk of {self.path} is full"
                    ) from error
                raise StoreError(f"cannot store event {event.id}: {error}") from error
            self._total_bytes += size
        event.image_path, event.thumbnail_path = image_rel, thumb_rel
        if self._total_bytes > self.max_bytes:
            self.enforce_retention()

    def _insert(
        self, event: Event, local: datetime, day: str, image: str, thumb: str, size: int
    ) -> None:
        top_label, top_score = (event.labels[0], event.scores[0]) if event.labels else ("", 0.0)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    event.id, event.camera, event.roi, event.roi_name or event.roi,
                    json.dumps(event.labels), json.dumps(event.scores), top_label, top_score,
                    event.motion, local.timestamp(), local.isoformat(timespec="milliseconds"),
                    day, local.hour, event.sequence_id, event.width, event.height, image, thumb,
                    size,
                ),
            )  # fmt: skip
            self.db.executemany(
                "INSERT OR IGNORE INTO event_labels VALUES (?,?,?)",
                [(event.id, lbl, sc) for lbl, sc in zip(event.labels, event.scores, strict=True)],
            )  # fmt: skip
            if event.embedding is not None:
                vector = np.asarray(event.embedding.vector, dtype="<f4").tobytes()
                self.db.execute(
                    "INSERT INTO event_embeddings VALUES (?,?,?)",
                    (event.id, event.embedding.model, vector),
                )
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # SQLite already rolled back on SQLITE_FULL
                self.db.execute("ROLLBACK")
            raise

    def delete(self, ids: Sequence[str]) -> int:
        """Remove events (rows first, then files); returns how many existed."""
        with self._lock:
            return self._delete_rows(list(ids))

    def _delete_rows(self, ids: list[str]) -> int:
        removed = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT image, thumbnail, bytes FROM events WHERE id IN ({marks})", chunk
            ).fetchall()
            self.db.execute(f"DELETE FROM events WHERE id IN ({marks})", chunk)
            for row in rows:
                for rel in (row["image"], row["thumbnail"]):
                    if path := self._inside(rel):
                        _unlink(path)
                self._total_bytes -= row["bytes"]
            removed += len(rows)
        return removed

    def _make_room(self, needed: int) -> bool:
        """Disk full: drop the oldest events worth `needed` bytes; False when none are left."""
        batch: list[str] = []
        for row in self.db.execute("SELECT id, bytes FROM events ORDER BY ts LIMIT 100"):
            batch.append(row["id"])
            needed -= row["bytes"]
            if needed <= 0:
                break
        if not batch:
            return False
        removed = self._delete_rows(batch)
        # The write-ahead log only shrinks at a truncating checkpoint; on a full disk it may
        # hold more than the images just freed.
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _LOGGER.warning("History: the disk is full; removed the %d oldest events", removed)
        return removed > 0

    def enforce_retention(self, today: date | None = None) -> int:
        """Delete events older than retain_days, then the oldest until under max_disk_mb."""
        today = today or date.today()
        cutoff = (today - timedelta(days=self.retain_days)).isoformat()
        removed = 0
        with self._lock:
            old = [r[0] for r in self.db.execute("SELECT id FROM events WHERE day < ?", (cutoff,))]
            removed += self._delete_rows(old)
            while self._total_bytes > self.max_bytes:
                excess, batch = self._total_bytes - self.max_bytes, []
                for row in self.db.execute("SELECT id, bytes FROM events ORDER BY ts LIMIT 200"):
                    batch.append(row["id"])
                    excess -= row["bytes"]
                    if excess <= 0:
                        break
                if not batch:
                    break
                removed += self._delete_rows(batch)
            self._remove_empty_days()
        if removed:
            _LOGGER.info("Retention removed %d events", removed)
        return removed

    def _remove_empty_days(self) -> None:
        for day_dir in _day_dirs(self.path):
            if not any(day_dir.iterdir()):
                day_dir.rmdir()

    # -- reads -----------------------------------------------------------------------------

    def get(self, event_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.db.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        return row_to_dict(row) if row else None

    def embeddings(self, ids: Sequence[str]) -> dict[str, Embedding]:
        """The stored embeddings of these events (events without one are left out)."""
        found: dict[str, Embedding] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for row in self.db.execute(
                    f"SELECT * FROM event_embeddings WHERE event_id IN ({marks})", chunk
                ):
                    vector = np.frombuffer(row["vector"], dtype="<f4").astype(np.float32)
                    found[row["event_id"]] = Embedding(row["model"], vector)
        return found

    def file_path(self, event_id: str, kind: str) -> Path | None:
        """Image or thumbnail of an event, looked up by id only (never a request path)."""
        column = {"image": "image", "thumbnail": "thumbnail"}[kind]
        with self._lock:
            row = self.db.execute(
                f"SELECT {column} FROM events WHERE id = ?", (event_id,)
            ).fetchone()
        if row is None:
            return None
        path = self._inside(row[0])
        return path if path is not None and path.is_file() else None

    def query(self, query: EventQuery) -> QueryResult:
        with self._lock:
            where, params = self._where(query, skip=None)
            base = f"SELECT * FROM events WHERE {where}"
            if query.unique:
                base = (
                    f"SELECT * FROM events WHERE id IN (SELECT id FROM "
                    f"(SELECT id, MIN(ts) FROM events WHERE {where} GROUP BY sequence_id))"
                )
            total = self.db.execute(f"SELECT COUNT(*) FROM ({base})", params).fetchone()[0]
            rows = self.db.execute(
                f"{base} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            ).fetchall()
            facets = {
                "labels": self._facet(query, "labels"),
                "rois": self._facet(query, "rois"),
                "cameras": self._facet(query, "cameras"),
                "hours": self._facet(query, "hours"),
            }
        return QueryResult([row_to_dict(r) for r in rows], total, facets)

    def _where(self, query: EventQuery, skip: str | None) -> tuple[str, list[Any]]:
        """SQL conditions of a query; `skip` leaves one dimension out (for its facet counts)."""
        clauses: list[str] = ["1=1"]
        params: list[Any] = []
        if query.start:
            clauses.append("day >= ?")
            params.append(query.start.isoformat())
        if query.end:
            clauses.append("day <= ?")
            params.append(query.end.isoformat())

        def any_of(column: str, values: Iterable[Any]) -> None:
            values = list(values)
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)

        if query.cameras and skip != "cameras":
            any_of("camera", query.cameras)
        if query.rois and skip != "rois":
            any_of("roi", query.rois)
        if query.hours and skip != "hours":
            any_of("hour", query.hours)
        if query.labels and skip != "labels":
            marks = ",".join("?" * len(query.labels))
            clauses.append(f"id IN (SELECT event_id FROM event_labels WHERE label IN ({marks}))")
            params.extend(query.labels)
        return " AND ".join(clauses), params

    def _facet(self, query: EventQuery, dimension: str) -> dict[str, int]:
        where, params = self._where(query, skip=dimension)
        if query.unique:
            where = (
                f"id IN (SELECT id FROM (SELECT id, MIN(ts) FROM events WHERE {where} "
                "GROUP BY sequence_id))"
            )
        if dimension == "labels":
            sql = (
                "SELECT label AS k, COUNT(*) AS n FROM event_labels WHERE event_id IN "
                f"(SELECT id FROM events WHERE {where}) GROUP BY label ORDER BY n DESC"
            )
        else:
            column = {"rois": "roi", "cameras": "camera", "hours": "hour"}[dimension]
            sql = f"SELECT {column} AS k, COUNT(*) AS n FROM events WHERE {where} GROUP BY {column}"
        return {str(row["k"]): row["n"] for row in self.db.execute(sql, params)}

    def days(self, camera: str | None = None) -> list[dict[str, Any]]:
        """Days that hold events, newest first, with their counts (media browsing)."""
        sql = "SELECT day, COUNT(*) AS n FROM events"
        params: list[Any] = []
        if camera:
            sql += " WHERE camera = ?"
            params.append(camera)
        with self._lock:
            rows = self.db.execute(f"{sql} GROUP BY day ORDER BY day DESC", params).fetchall()
        return [{"day": row["day"], "count": row["n"]} for row in rows]

    def stats(self) -> dict[str, int]:
        with self._lock:
            count = self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        return {"count": count, "bytes": self._total_bytes}

    def count_since(self, camera: str, since: datetime) -> int:
        with self._lock:
            row = self.db.execute(
                "SELECT COUNT(*) FROM events WHERE camera = ? AND ts >= ?",
                (camera, since.timestamp()),
            ).fetchone()
        return int(row[0])
