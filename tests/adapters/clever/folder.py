"""Changing the simulator's CSV folder from a test, as a district's SIS export would."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from adapters.clever._sim_data import clever_id
from tests.csv_files import Row, rewrite_csv


def rows(folder: Path, name: str) -> list[Row]:
    """The rows of ``name`` in ``folder``."""
    with (folder / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def rewrite(folder: Path, name: str, change: Callable[[list[Row]], list[Row]]) -> None:
    """Rewrite ``folder/name`` with the rows ``change`` makes of its rows (see :func:`rewrite_csv`)."""
    rewrite_csv(folder / name, change)


def set_cell(folder: Path, name: str, sourced_id: str, column: str, value: str) -> None:
    """Set ``column`` of the row ``sourced_id`` in ``name``."""

    def change(found: list[Row]) -> list[Row]:
        (row,) = [row for row in found if row["sourcedId"] == sourced_id]
        assert row[column] != value
        row[column] = value
        return found

    rewrite(folder, name, change)


def drop_rows(folder: Path, name: str, keep: Callable[[Row], bool]) -> None:
    """Remove from ``name`` the rows ``keep`` refuses."""
    rewrite(folder, name, lambda found: [row for row in found if keep(row)])


def user_id(sourced_id: str) -> str:
    """The Clever id the simulator serves the OneRoster user ``sourced_id`` under."""
    return clever_id("user", sourced_id)


def section_id(sourced_id: str) -> str:
    """The Clever id of the OneRoster class ``sourced_id``."""
    return clever_id("section", sourced_id)
