"""Canvas JSON -> unified records, field by field: the documented examples of
each Canvas model (reference notes, section 3.7) and the quirks around them."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.canvas import _mapping as m
from adapters.canvas import _values as v
from hub.sdk import (
    AcademicSession,
    Assignment,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Score,
    Section,
    Student,
    Teacher,
)

UTC = dt.UTC

# Assembled from the @model examples of canvas-lms (reference notes, 3.7).
COURSE = {
    "id": 370663,
    "uuid": "WvAHhY5FINzq5IyRIJybGeiXyFkG3SqHUPb7jZY5",
    "sis_import_id": 34,
    "name": "InstructureCon 2012",
    "course_code": "INSTCON12",
    "workflow_state": "available",
    "account_id": 81259,
    "root_account_id": 81259,
    "enrollment_term_id": 34,
    "start_at": "2012-06-01T00:00:00-06:00",
    "end_at": "2012-09-01T00:00:00-06:00",
}
ENROLLMENT = {
    "id": 1,
    "course_id": 1,
    "sis_course_id": "SHEL93921",
    "course_section_id": 1,
    "sis_section_id": "SHEL93921",
    "sis_user_id": "SHEL93921",
    "enrollment_state": "active",
    "type": "StudentEnrollment",
    "user_id": 1,
    "associated_user_id": None,
    "role": "StudentEnrollment",
    "role_id": 1,
    "created_at": "2012-04-18T23:08:51Z",
    "updated_at": "2012-04-18T23:08:51Z",
    "start_at": "2012-04-18T23:08:51Z",
    "end_at": "2012-04-18T23:08:51Z",
    "grades": {"html_url": "https://...", "current_score": 35, "current_grade": None, "final_score": 6.67},
    "user": {"id": 3, "name": "Student 1", "sortable_name": "1, Student", "short_name": "Stud 1"},
    "override_grade": "A",
    "override_score": 99.99,
}
USER = {
    "id": 2,
    "name": "Sheldon Cooper",
    "sortable_name": "Cooper, Sheldon",
    "last_name": "Cooper",
    "first_name": "Sheldon",
    "short_name": "Shelly",
    "sis_user_id": "SHEL93921",
    "sis_import_id": "18",
}
ASSIGNMENT = {
    "id": 4,
    "name": "some assignment",
    "description": "<p>Do the following:</p>...",
    "created_at": "2012-07-01T23:59:00-06:00",
    "updated_at": "2012-07-01T23:59:00-06:00",
    "due_at": "2012-07-01T23:59:00-06:00",
    "lock_at": "2012-07-01T23:59:00-06:00",
    "unlock_at": "2012-07-01T23:59:00-06:00",
    "has_overrides": True,
    "course_id": 123,
    "assignment_group_id": 2,
    "points_possible": 12.0,
    "submission_types": ["online_text_entry"],
    "grading_type": "points",
    "published": True,
    "position": 1,
}
DENVER_END_OF_JULY_1 = dt.datetime(2012, 7, 2, 5, 59, tzinfo=UTC)


def test_a_course() -> None:
    assert m.course(COURSE) == Course(
        vendor_id="370663", title="InstructureCon 2012", course_code="INSTCON12"
    )


def test_a_term_keeps_the_calendar_dates_it_was_written_with() -> None:
    term = {
        "id": "34",
        "name": "Fall 2012",
        "start_at": "2012-06-01T00:00:00-06:00",
        "end_at": "2012-09-01T23:59:59-06:00",
    }
    assert m.term(term) == AcademicSession(
        vendor_id="34",
        title="Fall 2012",
        type="term",
        start_date=dt.date(2012, 6, 1),
        end_date=dt.date(2012, 9, 1),
    )
    assert m.term({"id": 35, "workflow_state": "deleted"}) is None


def test_a_section_takes_its_courses_term_and_its_sis_id_as_class_code() -> None:
    section = {"id": 10, "sis_section_id": "test-sis-id", "course_id": 1, "name": "SIS Section"}
    assert m.section(section, "34") == Section(
        vendor_id="10", title="SIS Section", class_code="test-sis-id", course_id="1", term_ids=("34",)
    )
    assert m.section({"id": 11, "course_id": 1}, None) == Section(vendor_id="11", course_id="1")


def test_a_student_enrollment_and_its_grade() -> None:
    assert m.enrollment(ENROLLMENT) == Enrollment(
        vendor_id="1",
        role="student",
        begin_date=dt.date(2012, 4, 18),
        end_date=dt.date(2012, 4, 18),
        section_id="1",
        person_id="1",
    )
    assert m.course_grade(ENROLLMENT) == CourseGrade(
        vendor_id="1", student_id="1", section_id="1", letter_grade=None, percent=35.0
    )


@pytest.mark.parametrize(
    ("kind", "role"),
    [("TeacherEnrollment", "teacher"), ("TaEnrollment", "aide"), ("StudentEnrollment", "student")],
)
def test_enrollment_roles(kind: str, role: str) -> None:
    record = m.enrollment({**ENROLLMENT, "type": kind})
    assert record is not None and record.role == role


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "ObserverEnrollment", "associated_user_id": 7},  # a guardian link, not an enrollment
        {"type": "DesignerEnrollment"},
        {"type": "StudentEnrollment", "enrollment_state": "deleted"},
        {"id": None},
    ],
)
def test_what_is_not_an_enrollment(changes: dict[str, object]) -> None:
    assert m.enrollment({**ENROLLMENT, **changes}) is None


def test_a_concluded_enrollment_without_end_ends_when_it_last_changed() -> None:
    concluded = {
        **ENROLLMENT,
        "enrollment_state": "completed",
        "end_at": None,
        "updated_at": "2013-01-10T08:00:00Z",
    }
    record = m.enrollment(concluded)
    assert record is not None and record.end_date == dt.date(2013, 1, 10)


def test_no_course_grade_without_a_score_or_a_grade() -> None:
    empty = {**ENROLLMENT, "grades": {"current_score": None, "current_grade": None}}
    assert m.course_grade(empty) is None
    assert m.course_grade({**ENROLLMENT, "type": "TeacherEnrollment"}) is None
    lettered = {**ENROLLMENT, "grades": {"current_score": "91.5", "current_grade": "A-"}}
    assert m.course_grade(lettered) == CourseGrade(
        vendor_id="1", student_id="1", section_id="1", letter_grade="A-", percent=91.5
    )


def test_people() -> None:
    assert m.student(USER, ("9",)) == Student(
        vendor_id="2", given_name="Sheldon", family_name="Cooper", identifier="SHEL93921", guardian_ids=("9",)
    )
    assert m.teacher({**USER, "login_id": "shelly", "email": "s@example.edu"}, "aide") == Teacher(
        vendor_id="2",
        given_name="Sheldon",
        family_name="Cooper",
        identifier="SHEL93921",
        username="shelly",
        email="s@example.edu",
        role="aide",
    )
    # Without first and last names (older Canvas, or a lesser token): from "Last, First".
    bare = {"id": 3, "name": "Student 1", "sortable_name": "1, Student"}
    assert m.guardian(bare) == Guardian(vendor_id="3", given_name="Student", family_name="1")
    assert m.guardian({"id": 4, "name": "User 4"}) == Guardian(vendor_id="4")


def test_an_assignment_for_everyone() -> None:
    assert m.assignment(ASSIGNMENT, "77", {"2": "Homework"}) == Assignment(
        vendor_id="77.4",
        title="some assignment",
        description="<p>Do the following:</p>...",
        assign_date=DENVER_END_OF_JULY_1,
        due_date=DENVER_END_OF_JULY_1,
        category="Homework",
        points_possible=12.0,
        section_id="77",
    )


def test_an_assignment_for_some_sections_takes_their_dates() -> None:
    only_some = {
        **ASSIGNMENT,
        "only_visible_to_overrides": True,
        "due_at": None,
        "unlock_at": None,
        "overrides": [
            {
                "id": 1,
                "course_section_id": 77,
                "due_at": "2012-08-01T10:00:00Z",
                "unlock_at": "2012-07-20T10:00:00Z",
            },
            {"id": 2, "student_ids": [5, 6], "due_at": "2012-08-03T10:00:00Z"},
        ],
    }
    record = m.assignment(only_some, "77", {})
    assert record is not None
    assert record.due_date == dt.datetime(2012, 8, 1, 10, tzinfo=UTC)
    assert record.assign_date == dt.datetime(2012, 7, 20, 10, tzinfo=UTC)
    assert m.assignment(only_some, "78", {}) is None  # the other sections do not see it
    # Without an unlock date, the assignment's creation is its assign date.
    created = m.assignment({**ASSIGNMENT, "unlock_at": None, "created_at": "2012-06-01T00:00:00Z"}, "77", {})
    assert created is not None and created.assign_date == dt.datetime(2012, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("submission", "status"),
    [
        ({"workflow_state": "unsubmitted", "missing": True}, "NOT_SUBMITTED"),
        ({"workflow_state": "submitted"}, "SUBMITTED"),
        ({"workflow_state": "pending_review", "score": 3}, "PARTIALLY_GRADED"),
        ({"workflow_state": "graded", "score": 20.0}, "FULLY_GRADED"),
        ({"workflow_state": "graded", "excused": True}, "EXEMPT"),
        ({"workflow_state": "unsubmitted", "excused": True}, "EXEMPT"),
        ({"workflow_state": "deleted"}, None),
    ],
)
def test_score_statuses(submission: dict[str, object], status: str | None) -> None:
    record = m.score({"assignment_id": 5, "user_id": 6, **submission}, "7")
    assert record is not None and record.score_status == status


def test_a_score_with_comments_and_flags() -> None:
    submission = {
        "id": 1,
        "assignment_id": 356597,
        "user_id": "1163",
        "score": 18.5,
        "workflow_state": "graded",
        "late": True,
        "missing": False,
        "submitted_at": "2021-03-16T16:20:10Z",
        "submission_comments": [
            {"comment": "Good start."},
            {"comment": "  Check your units.  "},
            {"comment": ""},
        ],
    }
    assert m.score(submission, "219") == Score(
        vendor_id="219.356597.1163",
        assignment_id="219.356597",
        student_id="1163",
        section_id="219",
        score=18.5,
        score_status="FULLY_GRADED",
        late=True,
        missing=False,
        submitted_at=dt.datetime(2021, 3, 16, 16, 20, 10, tzinfo=UTC),
        comment="Check your units.",
    )
    assert m.score({"user_id": 1}, "2") is None


def test_composite_ids() -> None:
    assert m.split_key("77.4", 2) == ("77", "4")
    assert m.split_key("7.4.1163", 3) == ("7", "4", "1163")
    for bad in ("77", "77.4.5", "a/b.c", "..", "77.4.x/y"):
        assert m.split_key(bad, 2) is None
    assert m.split_key("1~2.3", 2) == ("1~2", "3")  # sharded Canvas ids


def test_values() -> None:
    assert [v.ident(x) for x in (12, "12", " 12 ", True, 1.5, "a.b", "a/b", None)] == [
        "12",
        "12",
        "12",
        None,
        None,
        None,
        None,
        None,
    ]
    assert v.number("nan") is None and v.number(True) is None and v.number("7") == 7.0
    assert v.datetime("2012-07-01T23:59:00-06:00") == DENVER_END_OF_JULY_1
    assert v.datetime("2012-07-01") == dt.datetime(2012, 7, 1, tzinfo=UTC)
    assert v.datetime("not a time") is None and v.date(None) is None
    assert v.boolean("true") is None and v.boolean(False) is False
