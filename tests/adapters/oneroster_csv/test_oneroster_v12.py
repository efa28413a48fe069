"""A small OneRoster 1.2 set (roles.csv, gradebook, Homeroom extension files) mapped field by field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from adapters.oneroster_csv import OneRosterCsvAdapter
from hub.sdk import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Organization,
    Score,
    Section,
    Student,
    Teacher,
)

from .conftest import V12_FILES
from .csv_sets import adapter_for, fetch_all, write_set

UTC = dt.UTC


async def test_report_counts_every_entity_and_the_skipped_rows(v12_dir: Path) -> None:
    report = await adapter_for(v12_dir).open()

    assert report.counts == {
        "Organization": 3,
        "AcademicSession": 4,
        "Course": 1,
        "Section": 3,
        "Student": 3,
        "Teacher": 2,
        "Guardian": 3,
        "Enrollment": 6,
        "Assignment": 2,
        "Score": 3,
        "CourseGrade": 3,
        "AttendanceEvent": 5,
        "skipped": 2,  # stu9 tobedeleted, e6 inactive
    }
    assert report.rejected == []
    assert [(p.where, p.line, p.column) for p in report.problems] == [
        ("users.csv", 5, "role"),  # tch1: teacher and parent -> staff only
        ("users.csv", 9, "agentSourcedIds"),  # rel1 lists tch1, who is served as staff
    ]


async def test_version_comes_from_the_manifest(v12: OneRosterCsvAdapter) -> None:
    assert v12.version == "1.2"


async def test_orgs_sessions_and_courses(v12: OneRosterCsvAdapter) -> None:
    orgs = await fetch_all(v12, Organization)
    assert orgs["s1"] == Organization(
        vendor_id="s1", name="Maple High", type="school", identifier="S-001", parent_id="d1"
    )
    assert orgs["d1"].type == "district"
    assert orgs["d1"].parent_id is None

    sessions = await fetch_all(v12, AcademicSession)
    assert sessions["gp1"] == AcademicSession(
        vendor_id="gp1",
        title="Q1",
        type="gradingPeriod",
        start_date=dt.date(2024, 8, 15),
        end_date=dt.date(2024, 10, 18),
        school_year="2025",
        parent_id="f2024",
    )

    courses = await fetch_all(v12, Course)
    assert courses["c-alg"] == Course(
        vendor_id="c-alg",
        title="Algebra I",
        course_code="ALG1",
        grades=("09", "10"),
        subjects=("Mathematics",),
        org_id="d1",
        school_year_id="y2025",
    )


async def test_sections(v12: OneRosterCsvAdapter) -> None:
    sections = await fetch_all(v12, Section)
    assert sections["k1"] == Section(
        vendor_id="k1",
        title="Algebra I - P1",
        class_code="ALG1-1",
        class_type="scheduled",
        location="Room 12",
        periods=("1", "2"),
        subjects=("Mathematics",),
        grades=("09",),
        course_id="c-alg",
        school_id="s1",
        term_ids=("f2024", "sp2025"),
    )
    assert sections["k2"].class_type == "scheduled"  # "Scheduled" in the file
    assert sections["k3"].class_type == "homeroom"
    assert sections["k3"].location is None


async def test_students_join_roles_demographics_and_guardians(v12: OneRosterCsvAdapter) -> None:
    students = await fetch_all(v12, Student)
    assert students["stu1"] == Student(
        vendor_id="stu1",
        given_name="Ana",
        family_name="Lopez",
        middle_name="María",
        preferred_name="Annie",
        email="ana@maple.k12.us",
        username="alopez",
        identifier="1001",
        enabled=True,
        grade_level="09",
        birth_date=dt.date(2010, 3, 4),
        sex="female",
        races=("asian", "white"),
        hispanic_or_latino=False,
        programs=("IEP", "ELL"),
        directory_opt_out=True,
        school_id="s1",
        school_ids=("s1",),
        guardian_ids=("gua1",),
    )
    stu2, stu3 = students["stu2"], students["stu3"]
    # Demographics row with blank cells: flags unknown, programs empty, not opted out.
    assert (stu2.races, stu2.hispanic_or_latino, stu2.programs, stu2.directory_opt_out) == (
        None,
        None,
        (),
        False,
    )
    assert stu2.grade_level == "KG"
    assert stu2.school_id == "s2"  # no primaryOrgSourcedId: the primary role's org
    assert stu2.guardian_ids == ("gua2",)  # listed only on the guardian's side
    # No demographics row at all: programs unknown.
    assert (stu3.birth_date, stu3.programs, stu3.directory_opt_out) == (None, None, False)
    assert stu3.school_ids == ("s1", "s2")
    assert stu3.school_id == "s1"
    assert "stu9" not in students  # tobedeleted


async def test_staff_and_guardians(v12: OneRosterCsvAdapter) -> None:
    teachers = await fetch_all(v12, Teacher)
    assert teachers["tch1"] == Teacher(
        vendor_id="tch1",
        given_name="Tara",
        family_name="Kim",
        email="tkim@maple.k12.us",
        username="tkim",
        identifier="T-1",
        enabled=True,
        phone="(555) 010-0001",
        role="teacher",
        school_ids=("s1",),
    )
    assert (teachers["prn1"].role, teachers["prn1"].enabled) == ("principal", False)

    guardians = await fetch_all(v12, Guardian)
    assert guardians["gua1"] == Guardian(
        vendor_id="gua1",
        given_name="Gil",
        family_name="Lopez",
        email="gil@example.com",
        enabled=True,
        phone="(555) 010-0002",
        relationship="guardian",
        student_ids=("stu1",),  # listed only on the student's side
    )
    relationships = {vendor_id: g.relationship for vendor_id, g in guardians.items()}
    assert relationships == {"gua1": "guardian", "gua2": "parent", "rel1": "relative"}
    assert guardians["rel1"].student_ids == ("stu3",)


async def test_enrollments(v12: OneRosterCsvAdapter) -> None:
    enrollments = await fetch_all(v12, Enrollment)
    assert list(enrollments) == ["e1", "e2", "e3", "e4", "e5", "e7"]
    assert enrollments["e1"] == Enrollment(
        vendor_id="e1",
        role="student",
        primary=False,
        begin_date=dt.date(2024, 8, 15),
        end_date=dt.date(2025, 6, 13),
        section_id="k1",
        person_id="stu1",
        school_id="s1",
    )
    assert enrollments["e2"].school_id == "s2"  # blank: the class's school
    assert enrollments["e3"].role == "student"  # "Student"
    assert enrollments["e5"].role == "administrator"


async def test_gradebook(v12: OneRosterCsvAdapter) -> None:
    assignments = await fetch_all(v12, Assignment)
    assert assignments["li1"] == Assignment(
        vendor_id="li1",
        title="Quiz 1",
        description="Linear equations",
        assign_date=dt.datetime(2024, 9, 1, tzinfo=UTC),
        due_date=dt.datetime(2024, 9, 9, 4, 59, tzinfo=UTC),  # 23:59 at -05:00
        category="Tests",
        points_possible=20.0,
        section_id="k1",
        grading_period_id="gp1",
    )
    assert assignments["li2"].due_date == dt.datetime(2024, 9, 10, tzinfo=UTC)

    scores = await fetch_all(v12, Score)
    assert scores["res1"] == Score(
        vendor_id="res1",
        assignment_id="li1",
        student_id="stu1",
        section_id="k1",
        score=18.0,
        score_status="FULLY_GRADED",
        late=False,
        missing=False,
        submitted_at=dt.datetime(2024, 9, 9, tzinfo=UTC),
        comment="Nice work",
    )
    assert scores["res2"] == Score(
        vendor_id="res2",
        assignment_id="li1",
        student_id="stu3",
        section_id="k1",  # no classSourcedId: the line item's class
        score_status="NOT_SUBMITTED",
        missing=True,
    )
    assert scores["res3"] == Score(
        vendor_id="res3",
        assignment_id="li2",
        student_id="stu2",
        section_id="k2",
        score=7.5,
        score_status="PARTIALLY_GRADED",
        late=True,
        missing=False,
        submitted_at=dt.datetime(2024, 9, 11, 15, 30, tzinfo=UTC),
    )


async def test_course_grades_and_attendance(v12: OneRosterCsvAdapter) -> None:
    grades = await fetch_all(v12, CourseGrade)
    assert grades["cg1"] == CourseGrade(
        vendor_id="cg1", student_id="stu1", section_id="k1", term_id="f2024", letter_grade="A-", percent=91.5
    )
    assert grades["cg3"] == CourseGrade(vendor_id="cg3", student_id="stu3", section_id="k1")

    marks = await fetch_all(v12, AttendanceEvent)
    assert marks["a1"] == AttendanceEvent(
        vendor_id="a1",
        student_id="stu1",
        date=dt.date(2024, 9, 3),
        status="PRESENT",
        section_id="k1",
        school_id="s1",
    )
    statuses = {vendor_id: mark.status for vendor_id, mark in marks.items()}
    assert statuses == {
        "a1": "PRESENT",
        "a2": "TARDY",
        "a3": "ABSENT",
        "a4": "EARLY_DEPARTURE",
        "a5": "EXCUSED",
    }
    # Blank schools: from the class (a2), else from the student (a3).
    assert marks["a2"].school_id == "s1"
    assert marks["a3"].school_id == "s2"


async def test_misspelled_preferred_name_header_is_accepted(tmp_path: Path) -> None:
    files = dict(V12_FILES)
    files["users.csv"] = files["users.csv"].replace("preferredGivenName", "prefferedGivenName")
    files["roles.csv"] = files["roles.csv"].replace("dateLastModified", "dataLastModified")
    adapter = adapter_for(write_set(tmp_path / "typo", files))

    report = await adapter.open()

    students = await fetch_all(adapter, Student)
    assert students["stu1"].preferred_name == "Annie"
    assert not [p for p in report.problems if p.reason == "unknown column ignored"]
