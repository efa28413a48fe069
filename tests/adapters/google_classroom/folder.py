"""Changing the simulated Classroom's CSV folder from a test."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from tests.csv_files import Row, rewrite_csv


def rewrite(folder: Path, name: str, change: Callable[[list[Row]], list[Row]]) -> None:
    """Rewrite ``folder/name`` with the rows ``change`` makes of its rows (see :func:`rewrite_csv`)."""
    rewrite_csv(folder / name, change)


def set_cells(folder: Path, name: str, sourced_id: str, **cells: str) -> None:
    """Set ``cells`` of the row ``sourced_id`` of ``folder/name``."""

    def change(rows: list[Row]) -> list[Row]:
        found = [row for row in rows if row["sourcedId"] == sourced_id]
        assert found, f"{sourced_id} not in {name}"
        found[0].update(cells)
        return rows

    rewrite(folder, name, change)


def drop_row(folder: Path, name: str, sourced_id: str) -> None:
    """Remove the row ``sourced_id`` from ``folder/name``."""

    def change(rows: list[Row]) -> list[Row]:
        kept = [row for row in rows if row["sourcedId"] != sourced_id]
        assert len(kept) == len(rows) - 1, f"{sourced_id} not in {name}"
        return kept

    rewrite(folder, name, change)


def first_row(folder: Path, name: str, **matching: str) -> Row:
    """The first row of ``folder/name`` whose cells match ``matching``."""
    with (folder / name).open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            if all(row.get(key) == value for key, value in matching.items()):
                return row
    raise AssertionError(f"no row of {name} matches {matching}")
