"""A damaged copy of the shared sample: every bad row is reported with file and line, the rest loads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.oneroster_csv import OneRosterCsvAdapter
from hub.sdk import AcademicSession, Enrollment, LoadReport, Organization, Student
from tests.conftest import shared_path

from .conftest import SAMPLE
from .csv_sets import adapter_for, copy_set, fetch_all, read_lines, write_lines

SCHOOL_YEAR = "255901001_2021_2020-2021_SchoolYear"


def damage(folder: Path) -> None:
    """Break the copy the ways real feeds are broken (line numbers noted for the asserts)."""
    orgs = read_lines(folder / "orgs.csv")
    header = orgs[0].split(",")
    header[0], header[1] = " SourcedId ", "STATUS"
    orgs[0] = ",".join([*header, "favoriteColor"])
    orgs[1] += ",blue"
    orgs[2] = orgs[2].replace(",school,", ",School,") + ",green"
    write_lines(folder / "orgs.csv", orgs, bom=True)

    sessions = read_lines(folder / "academicSessions.csv")
    sessions[2] = sessions[2].replace(",semester,", ",Semester,")
    sessions.append("bad-dates,,,Bad Term,term,2020-13-45,2020-12-18,,2021")  # line 5
    sessions.append(f"us-dates,,,US Term,SEMESTER,8/17/2020,12/18/2020,{SCHOOL_YEAR},2021")  # line 6
    write_lines(folder / "academicSessions.csv", sessions)

    users = read_lines(folder / "users.csv")
    users[1] = users[1].replace(",true,", ",TRUE,", 1)  # Mary
    users[2] = users[2].replace(",09,", ",9,")  # Kyle
    users.append(",,,true,255901001,student,No Id,,No,Id,,,,,,,09,")  # line 12: no sourcedId
    users.append("604874,,,true,255901001,student,Kyle Two,,Kyle,Two,,,,,,,09,")  # line 13: duplicate
    users.append("605099,,,true,255901001,student")  # line 14: trailing cells missing: padded
    users.append("605100,,")  # line 15: too few cells even for the optional ones to be padded
    write_lines(folder / "users.csv", users)

    enrollments = read_lines(folder / "enrollments.csv")
    enrollments[1] = enrollments[1].replace(",student,", ",Student,")
    enrollments[21] = enrollments[21].replace(",teacher,true,", ",teacher,Y,")
    enrollments.append("BROKEN-ENR,,,NoSuchClass,255901001,604863,student,,2020-08-17,2020-12-18")  # line 26
    write_lines(folder / "enrollments.csv", enrollments)

    demographics = read_lines(folder / "demographics.csv")
    demographics[1] = "604863,,,1997-05-30,female,false,T,false,false,N,false,Y,,,,"  # Mary
    demographics[2] = demographics[2].replace("1997-07-31", "31/07/1997")  # day first: not a date
    write_lines(folder / "demographics.csv", demographics)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = copy_set(shared_path(*SAMPLE), tmp_path / "broken")
    damage(folder)
    return folder


@pytest.fixture
async def opened(broken: Path) -> tuple[OneRosterCsvAdapter, LoadReport]:
    adapter = adapter_for(broken)
    return adapter, await adapter.open()


async def test_each_bad_row_is_rejected_with_file_line_and_column(
    opened: tuple[OneRosterCsvAdapter, LoadReport],
) -> None:
    _, report = opened
    rejected = sorted((p.where, p.line, p.column or "") for p in report.rejected)

    assert rejected == [
        ("academicSessions.csv", 5, "startDate"),
        ("enrollments.csv", 26, "classSourcedId"),
        ("users.csv", 12, "sourcedId"),
        ("users.csv", 13, "sourcedId"),
        ("users.csv", 15, "role"),
    ]
    reasons = {(p.where, p.line): p.reason for p in report.rejected}
    assert reasons[("users.csv", 13)] == "duplicate sourcedId (first at line 3)"
    assert reasons[("users.csv", 15)].startswith("user has no role")
    assert reasons[("enrollments.csv", 26)] == "no such class"


async def test_warnings_keep_the_row(opened: tuple[OneRosterCsvAdapter, LoadReport]) -> None:
    _, report = opened
    warnings = sorted((p.where, p.line, p.column or "") for p in report.problems if not p.rejected)

    assert warnings == [
        ("demographics.csv", 3, "birthDate"),
        ("orgs.csv", 1, "favoriteColor"),
        ("users.csv", 0, ""),  # trailing empty cells on the staff rows
        ("users.csv", 0, ""),  # rows 14 and 15 lack cells: padded
    ]


async def test_good_rows_still_load(opened: tuple[OneRosterCsvAdapter, LoadReport]) -> None:
    adapter, report = opened

    assert report.counts["AcademicSession"] == 4
    assert report.counts["Student"] == 9  # line 14, padded, is a student too
    assert report.counts["Teacher"] == 2
    assert report.counts["Enrollment"] == 24
    assert report.counts["Organization"] == 2

    orgs = await fetch_all(adapter, Organization)
    assert orgs["255901001"].type == "school"
    assert orgs["255901001"].parent_id == "255901"

    sessions = await fetch_all(adapter, AcademicSession)
    assert sessions["255901001_2021_2020-2021_Fall"].type == "semester"
    assert sessions["us-dates"] == AcademicSession(
        vendor_id="us-dates",
        title="US Term",
        type="semester",
        start_date=dt.date(2020, 8, 17),
        end_date=dt.date(2020, 12, 18),
        school_year="2021",
        parent_id=SCHOOL_YEAR,
    )

    students = await fetch_all(adapter, Student)
    mary, kyle = students["604863"], students["604874"]
    assert (mary.enabled, mary.races, mary.hispanic_or_latino) == (True, ("asian",), True)
    assert (kyle.given_name, kyle.grade_level, kyle.birth_date, kyle.sex) == ("Kyle", "09", None, "male")

    enrollments = await fetch_all(adapter, Enrollment)
    assert enrollments["6F4283DC-F831-4437-A9A3-E030C7AF0493"].role == "student"
    assert enrollments["7381FA73-FC6A-42C8-8951-32346DEB84E1"].primary is True


async def test_problems_carry_no_personal_values(opened: tuple[OneRosterCsvAdapter, LoadReport]) -> None:
    _, report = opened
    text = "\n".join(str(problem) for problem in report.problems)

    for personal in ("31/07/1997", "1997", "Kyle", "Two", "Mary", "Archer", "NoSuchClass"):
        assert personal not in text


async def test_open_is_idempotent(opened: tuple[OneRosterCsvAdapter, LoadReport]) -> None:
    adapter, first = opened
    before = await fetch_all(adapter, Student)

    again = await adapter.open()

    assert again == first
    assert await fetch_all(adapter, Student) == before
