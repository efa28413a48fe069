"""The Ed-Fi LMS-Toolkit OneRoster 1.1 sample (shared data), as a folder and as a zip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub.sdk import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Entity,
    FetchRequest,
    FileStats,
    Guardian,
    Organization,
    Record,
    Score,
    Section,
    Student,
    Teacher,
)
from tests.conftest import shared_path

from .conftest import SAMPLE
from .csv_sets import adapter_for, fetch_all, of_type, zip_set

RECORD_TYPES: tuple[type[Record], ...] = (
    Organization,
    AcademicSession,
    Course,
    Section,
    Student,
    Teacher,
    Guardian,
    Enrollment,
    Assignment,
    Score,
    CourseGrade,
    AttendanceEvent,
)
FALL = "255901001_2021_2020-2021_Fall"
SPRING = "255901001_2021_2020-2021_Spring"


@pytest.fixture
def sample() -> Path:
    return shared_path(*SAMPLE)


async def test_sample_loads_without_rejected_rows(sample: Path) -> None:
    adapter = adapter_for(sample)
    report = await adapter.open()

    assert report.rejected == []
    assert report.counts == {
        "Organization": 2,
        "AcademicSession": 3,
        "Course": 2,
        "Section": 2,
        "Student": 8,
        "Teacher": 2,
        "Guardian": 0,
        "Enrollment": 24,
        "Assignment": 0,
        "Score": 0,
        "CourseGrade": 0,
        "AttendanceEvent": 0,
        "skipped": 0,
    }
    # The two staff rows end in a trailing comma: noted once for the file, not rejected.
    assert [(p.where, p.line, p.rejected) for p in report.problems] == [("users.csv", 0, False)]
    assert "first at line 10" in report.problems[0].reason
    assert report.files["users.csv"] == FileStats(read=10, accepted=10, warned=0, rejected=0, skipped=0)
    assert adapter.version == "1.1"


async def test_sample_student_mary_archer(sample: Path) -> None:
    adapter = adapter_for(sample)
    await adapter.open()

    mary = (await fetch_all(adapter, Student))["604863"]

    assert mary == Student(
        vendor_id="604863",
        given_name="Mary",
        family_name="Archer",
        email="Mary.Archer@studentgps.org",
        username="Mary Archer",
        enabled=True,
        grade_level="09",
        birth_date=dt.date(1997, 5, 30),
        sex="female",
        races=("asian",),
        hispanic_or_latino=True,
        programs=(),  # a demographics row without the extension column
        directory_opt_out=False,
        school_id="255901001",
        school_ids=("255901001",),
    )


async def test_sample_orgs_sessions_courses_sections_staff(sample: Path) -> None:
    adapter = adapter_for(sample)
    await adapter.open()

    orgs = await fetch_all(adapter, Organization)
    assert orgs["255901001"] == Organization(
        vendor_id="255901001", name="Grand Bend High School", type="school", parent_id="255901"
    )
    sessions = await fetch_all(adapter, AcademicSession)
    assert sessions[FALL] == AcademicSession(
        vendor_id=FALL,
        title="2020-2021 Fall Semester",
        type="semester",
        start_date=dt.date(2020, 8, 17),
        end_date=dt.date(2020, 12, 18),
        school_year="2021",
    )
    assert [s.type for s in sessions.values()] == ["schoolYear", "semester", "semester"]

    courses = await fetch_all(adapter, Course)
    assert courses["ENG-1"].org_id == "255901"
    assert courses["ENG-1"].school_year_id == "255901001_2021_2020-2021_SchoolYear"

    sections = await fetch_all(adapter, Section)
    assert [s.term_ids for s in sections.values()] == [(FALL, SPRING), (FALL, SPRING)]
    english = sections["25590100101Trad120ENG112011"]
    assert (english.course_id, english.school_id, english.periods) == ("ENG-1", "255901001", ("1",))

    teachers = await fetch_all(adapter, Teacher)
    assert teachers["207270"] == Teacher(
        vendor_id="207270",
        given_name="Kelley",
        family_name="Christian",
        middle_name="Heidi",
        email="Kelley.Christian@studentgps.org",
        username="Kelley Heidi Christian",
        enabled=True,
        role="teacher",
        school_ids=("255901001",),
    )


async def test_sample_enrollments(sample: Path) -> None:
    adapter = adapter_for(sample)
    await adapter.open()

    result = await adapter.fetch(
        FetchRequest(Entity.ENROLLMENT, frozenset({"role", "begin_date"}), filters={"person_id": ("604863",)})
    )
    assert result.total == 4
    assert [(e.role, e.begin_date) for e in of_type(result.records, Enrollment)] == [
        ("student", dt.date(2020, 8, 17)),
        ("student", dt.date(2020, 8, 17)),
        ("student", dt.date(2021, 1, 4)),
        ("student", dt.date(2021, 1, 4)),
    ]
    teachers = await adapter.fetch(
        FetchRequest(Entity.ENROLLMENT, frozenset({"primary"}), filters={"role": ("teacher",)})
    )
    assert teachers.total == 4
    assert all(e.primary is True for e in of_type(teachers.records, Enrollment))


@pytest.mark.parametrize("wrap", [None, "OneRoster 1.1 Sample Data"])
async def test_zipped_sample_gives_the_same_records(sample: Path, tmp_path: Path, wrap: str | None) -> None:
    folder = adapter_for(sample)
    zipped = adapter_for(zip_set(sample, tmp_path / "sample.zip", wrap=wrap))
    folder_report = await folder.open()
    zip_report = await zipped.open()

    assert zip_report == folder_report
    for record_type in RECORD_TYPES:
        assert await fetch_all(zipped, record_type) == await fetch_all(folder, record_type)
