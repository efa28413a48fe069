"""The demo's changing gradebook: a few scores and attendance marks changed every minute.

Written into the demo's generated OneRoster files, which its simulated SIS
and LMS serve: their change feeds carry the changes to the hub's mirrors and
from there to subscriptions, so a dashboard visibly updates. Only the
demo's own generated data is changed, never a district's export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["DemoChanges", "rewrite_csv"]

Row = dict[str, str]
_STATUSES = ("present", "absent", "tardy", "excused")


class DemoChanges:
    """Every ``interval`` seconds, ``count`` scores and ``count`` attendance marks of
    ``folder`` change (in a daemon thread, until :meth:`stop`)."""

    def __init__(
        self, folder: Path, *, interval: float = 60.0, count: int = 3, seed: int | None = None
    ) -> None:
        self.folder = folder
        self.interval = interval
        self.count = count
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-changes", daemon=True)

    def start(self) -> DemoChanges:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def change_once(self) -> list[str]:
        """Change the rows now; returns the sourcedIds changed (scores, then marks)."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        changed: list[str] = []

        def scores(rows: list[Row]) -> list[Row]:
            graded = [row for row in rows if row.get("score", "").replace(".", "", 1).isdigit()]
            for row in self._random.sample(graded, min(self.count, len(graded))):
                choices = [str(value) for value in range(55, 101) if str(value) != row["score"]]
                row["score"] = self._random.choice(choices)
                row["dateLastModified"] = stamp
                changed.append(row["sourcedId"])
            return rows

        def marks(rows: list[Row]) -> list[Row]:
            for row in self._random.sample(rows, min(self.count, len(rows))):
                others = [status for status in _STATUSES if status != row.get("attendanceStatus")]
                row["attendanceStatus"] = self._random.choice(others)
                row["dateLastModified"] = stamp
                changed.append(row["sourcedId"])
            return rows

        rewrite_csv(self.folder / "results.csv", scores)
        rewrite_csv(self.folder / "attendance.csv", marks)
        return changed

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.change_once()
            except (OSError, ValueError, csv.Error):
                continue  # the files are being replaced: next minute


def rewrite_csv(path: Path, change: Callable[[list[Row]], list[Row]]) -> None:
    """Rewrite ``path`` with ``change``'s rows, atomically (readers never see half a file)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        header, rows = list(reader.fieldnames or ()), list(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(change(rows))
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(out.getvalue(), encoding="utf-8")
    os.replace(temporary, path)
