"""Changing a OneRoster CSV file from a test, the way an export is replaced.

Every simulator (and the CSV source) notices a changed file by its size and
modification time; the time moves on by a second here, as a file system's
clock may be coarser than a test is fast."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["Row", "csv_rows", "rewrite_csv"]

Row = dict[str, str]


def csv_rows(path: Path) -> list[Row]:
    """The rows of the CSV file at ``path``, by header name."""
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def rewrite_csv(path: Path, change: Callable[[list[Row]], list[Row]]) -> None:
    """Rewrite the CSV file at ``path`` with the rows ``change`` makes of its rows
    (same header), its modification time a second later than before."""
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        header, rows = list(reader.fieldnames or ()), list(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(change(rows))
    before = path.stat().st_mtime_ns
    path.write_text(out.getvalue(), encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))
