"""Clever's value readers, and the simulator's grades, over the SDK's shared parsers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from adapters.clever import _values as v
from adapters.clever._sim_data import load_district
from tests.adapters.clever.folder import rewrite
from tests.csv_files import Row
from tests.support import make_district


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5/25/2017", dt.date(2017, 5, 25)),
        ("12/1/2010", dt.date(2010, 12, 1)),
        ("2017-05-25", dt.date(2017, 5, 25)),
        ("2019-07-24T19:05:13.487Z", dt.date(2019, 7, 24)),
    ],
)
def test_dates(value: str, expected: dt.date) -> None:
    assert v.date(value) == expected


@pytest.mark.parametrize("value", ["25/5/2017", "2/30/2020", "2017/05/25", "5/25/17", "", None, 20170525])
def test_unreadable_dates_are_none(value: Any) -> None:
    assert v.date(value) is None


def _student_grades(folder: Path) -> dict[str, str | None]:
    district = load_district(folder)
    students = (
        user["roles"]["student"] for user in district.collections["users"] if "student" in user["roles"]
    )
    return {student["sis_id"]: student.get("grade") for student in students}


def test_simulator_reads_grade_cells_as_oneroster_csv_does(tmp_path: Path) -> None:
    folder = make_district(tmp_path / "district", 50)
    spellings = {"K": "Kindergarten", "0": "Kindergarten", "PreK": "PreKindergarten", "9": "9", "09": "9"}
    changed: dict[str, str] = {}

    def respell(rows: list[Row]) -> list[Row]:
        graded = [row for row in rows if row["grades"]]
        for row, cell in zip(graded, spellings, strict=False):
            row["grades"] = cell
            changed[row["sourcedId"]] = spellings[cell]
        return rows

    rewrite(folder, "users.csv", respell)
    assert len(changed) == len(spellings)
    grades = _student_grades(folder)
    assert {sourced_id: grades[sourced_id] for sourced_id in changed} == changed
