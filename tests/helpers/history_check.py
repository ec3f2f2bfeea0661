"""An outside look at a history folder: does the index agree with the files on disk?

It opens the SQLite index read-only beside the service (WAL lets it), so it can be used on
a running service, after a crash, or after a clean stop.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from clevercam_mqtt.store import INDEX_FILE

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class HistoryReport:
    integrity: str
    ids: list[str]
    row_files: set[str]
    files: set[str]
    temporary: set[str]
    bytes_in_rows: int

    @property
    def missing(self) -> set[str]:
        """Files a row points at that are not on disk (must never happen)."""
        return self.row_files - self.files

    @property
    def orphans(self) -> set[str]:
        """Event files no row refers to (a crash leftover until the next start)."""
        return self.files - self.row_files

    def assert_consistent(self) -> None:
        assert self.integrity == "ok", self.integrity
        assert not self.missing, f"rows without files: {sorted(self.missing)[:5]}"
        assert not self.orphans, f"files without rows: {sorted(self.orphans)[:5]}"
        assert not self.temporary, f"temporary files left: {sorted(self.temporary)[:5]}"
        assert len(self.ids) == len(set(self.ids)), "an event is stored twice"


def count_events(root: Path) -> int:
    """Rows in the index right now (0 before the service created it)."""
    if not (root / INDEX_FILE).exists():
        return 0
    with sqlite3.connect(f"file:{root / INDEX_FILE}?mode=ro", uri=True, timeout=10) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is not written yet
            return 0


def check_history(root: Path) -> HistoryReport:
    db = sqlite3.connect(f"file:{root / INDEX_FILE}?mode=ro", uri=True, timeout=10)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows = db.execute("SELECT id, image, thumbnail, bytes FROM events").fetchall()
    finally:
        db.close()
    files: set[str] = set()
    temporary: set[str] = set()
    for day in root.iterdir():
        if not (day.is_dir() and DAY.match(day.name)):
            continue
        for file in day.iterdir():
            name = f"{day.name}/{file.name}"
            if file.name.endswith(".tmp"):
                temporary.add(name)
            elif file.name.endswith(".jpg"):
                files.add(name)
    return HistoryReport(
        integrity=integrity,
        ids=[row[0] for row in rows],
        row_files={row[1] for row in rows} | {row[2] for row in rows},
        files=files,
        temporary=temporary,
        bytes_in_rows=sum(row[3] for row in rows),
    )
