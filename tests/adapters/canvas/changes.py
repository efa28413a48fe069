"""Changing the Canvas simulator's CSV folder from a test, on a clock the test moves."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from adapters.canvas._sim_data import CanvasDistrict
from tests.csv_files import Row, rewrite_csv

T0 = dt.datetime(2027, 1, 11, 9, 0, tzinfo=dt.UTC)
"""A Monday after the generated school days: every date in the files is before it."""


class Clock:
    """A wall clock that stands still until the test moves it."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def rewrite(path: Path, change: Callable[[list[Row]], list[Row]]) -> None:
    """Rewrite the CSV file at ``path`` through ``change`` (see :func:`rewrite_csv`)."""
    rewrite_csv(path, change)


def edit(folder: Path, name: str, sourced_ids: set[str], **values: str) -> None:
    """Set ``values`` on the rows of ``name`` whose sourcedId is one of ``sourced_ids``."""

    def change(found: list[Row]) -> list[Row]:
        for row in found:
            if row["sourcedId"] in sourced_ids:
                row.update(values)
        return found

    rewrite(folder / name, change)


def result_row(folder: Path, status: str = "fully graded", skip: int = 0) -> Row:
    """A row of ``results.csv`` with ``status`` (the ``skip``-th one)."""
    return [row for row in rows(folder / "results.csv") if row["scoreStatus"] == status][skip]


def submission_ids(district: CanvasDistrict, row: Row) -> tuple[int, int, int]:
    """(section, assignment, user): the Canvas ids of a result row's submission."""
    return _submissions(district)[(row["lineItemSourcedId"], row["studentSourcedId"])]


def score_key(district: CanvasDistrict, row: Row) -> str:
    """The adapter's vendor id of a result row's score."""
    return ".".join(map(str, submission_ids(district, row)))


_INDEXES: dict[int, tuple[CanvasDistrict, dict[tuple[str, str], tuple[int, int, int]]]] = {}


def _submissions(district: CanvasDistrict) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(line item, student sourcedIds) -> the submission's Canvas ids, built once per district."""
    known = _INDEXES.get(id(district))
    if known is not None and known[0] is district:
        return known[1]
    users = {canvas: sis for sis, canvas in district.sis["user"].items()}
    items = {a["id"]: a["integration_id"] for a in district.by_id["assignment"].values()}
    index = {(items[key[1]], users[key[2]]): key for key in district.submission}
    _INDEXES[id(district)] = (district, index)
    return index
