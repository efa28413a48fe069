"""Classroom objects -> unified records, field by field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapters.google_classroom import _mapping as m
from hub.sdk import Student, Teacher

UTC = dt.UTC

COURSE = {
    "id": "12345",
    "name": "Science Class",
    "section": "Period 1",
    "descriptionHeading": "Welcome",
    "room": "Room1",
    "ownerId": "123",
    "courseState": "ACTIVE",
    "subject": "Science",
    "creationTime": "2020-04-05T19:41:15.292Z",
}
MEMBER = {
    "courseId": "123",
    "userId": "1",
    "profile": {
        "id": "1",
        "name": {"givenName": "Test", "familyName": "User", "fullName": "Test User"},
        "emailAddress": "test_user@email.com",
    },
}
WORK = {
    "courseId": "12345",
    "id": "777",
    "title": "Lab report",
    "description": "Write it up.",
    "state": "PUBLISHED",
    "creationTime": "2026-09-01T12:00:00.125Z",
    "dueDate": {"year": 2026, "month": 9, "day": 8},
    "dueTime": {"hours": 23, "minutes": 59},
    "maxPoints": 50,
    "gradeCategory": {"id": "9", "name": "Homework", "weight": 200000},
}


def submission(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "courseId": "12345",
        "courseWorkId": "777",
        "id": "Cg4I",
        "userId": "1",
        "creationTime": "2026-09-01T12:00:00Z",
        "updateTime": "2026-09-05T16:00:00Z",
        "state": "RETURNED",
        "late": True,
        "assignedGrade": 45,
        "draftGrade": 45,
        "submissionHistory": [
            {"stateHistory": {"state": "CREATED", "stateTimestamp": "2026-09-01T12:00:00Z"}},
            {"stateHistory": {"state": "TURNED_IN", "stateTimestamp": "2026-09-04T15:00:00Z"}},
            {"stateHistory": {"state": "RECLAIMED_BY_STUDENT", "stateTimestamp": "2026-09-04T16:00:00Z"}},
            {"stateHistory": {"state": "TURNED_IN", "stateTimestamp": "2026-09-05T09:30:00Z"}},
            {"gradeHistory": {"pointsEarned": 45, "gradeTimestamp": "2026-09-05T15:00:00Z"}},
            {"stateHistory": {"state": "RETURNED", "stateTimestamp": "2026-09-05T16:00:00Z"}},
        ],
    }
    base.update(overrides)
    return base


def test_a_course_is_a_section_and_a_course_with_the_same_vendor_id() -> None:
    section = m.section(COURSE)
    course = m.course(COURSE)
    assert section is not None and course is not None
    assert section.vendor_id == course.vendor_id == "12345"
    assert section.title == "Science Class - Period 1"
    assert section.location == "Room1"
    assert section.subjects == ("Science",)
    assert section.course_id == "12345"
    assert (section.class_code, section.school_id, section.term_ids) == (None, None, ())
    assert course.title == "Science Class" and course.subjects == ("Science",)


def test_the_class_code_is_the_courses_domain_alias() -> None:
    aliases = [{"alias": "p:project_name"}, {"alias": "d:cls-01-math-01"}, {"alias": "d:other"}]
    assert m.sis_id(aliases) == "cls-01-math-01"
    assert m.sis_id([{"alias": "p:x"}, {"alias": "d:"}, {}]) is None
    section = m.section(COURSE, m.sis_id(aliases))
    assert section is not None and section.class_code == "cls-01-math-01"


def test_a_course_without_a_section_label_is_titled_by_its_name() -> None:
    section = m.section({"id": "1", "name": "Biology"})
    assert section is not None and section.title == "Biology" and section.subjects == ()
    assert m.section({"name": "no id"}) is None and m.course({}) is None


def test_course_members_become_students_and_teachers_keyed_by_user_id_with_email() -> None:
    student = m.person(MEMBER, Student)
    teacher = m.person(MEMBER, Teacher)
    assert isinstance(student, Student) and isinstance(teacher, Teacher)
    for person in (student, teacher):
        assert person.vendor_id == "1"
        assert (person.given_name, person.family_name) == ("Test", "User")
        assert person.email == "test_user@email.com"
    assert teacher.role == "teacher"
    assert student.username is None and student.grade_level is None
    # The profile id stands in for a missing userId; no id at all is no record.
    assert m.person({"profile": {"id": "9"}}, Student) is not None
    assert m.person({"profile": {"name": {}}}, Student) is None


def test_enrollments_come_from_membership_and_the_owner_is_the_primary_teacher() -> None:
    owner = m.enrollment({"userId": "123"}, "teacher", "12345", "123")
    co_teacher = m.enrollment({"userId": "124"}, "teacher", "12345", "123")
    student = m.enrollment(MEMBER, "student", "12345", "123")
    assert owner is not None and co_teacher is not None and student is not None
    assert owner.vendor_id == "12345/teachers/123" and owner.primary is True
    assert co_teacher.primary is False
    assert student.vendor_id == "12345/students/1"
    assert (student.role, student.section_id, student.person_id) == ("student", "12345", "1")
    assert student.primary is None and student.begin_date is None and student.end_date is None
    assert m.enrollment({"userId": "124"}, "teacher", "12345", None) is not None


def test_course_work_becomes_an_assignment() -> None:
    found = m.assignment(WORK)
    assert found is not None
    assert found.vendor_id == "12345/777"
    assert found.title == "Lab report" and found.description == "Write it up."
    assert found.points_possible == 50.0
    assert found.assign_date == dt.datetime(2026, 9, 1, 12, 0, 0, 125_000, tzinfo=UTC)
    assert found.due_date == dt.datetime(2026, 9, 8, 23, 59, tzinfo=UTC)
    assert found.category == "Homework"
    assert found.section_id == "12345"
    assert found.grading_period_id is None


def test_ungraded_and_undated_course_work() -> None:
    found = m.assignment({**WORK, "maxPoints": 0, "dueDate": None, "gradeCategory": None})
    assert found is not None
    assert found.points_possible is None and found.due_date is None and found.category is None
    date_only = m.assignment({**WORK, "dueTime": None})
    assert date_only is not None and date_only.due_date == dt.datetime(2026, 9, 8, 23, 59, 59, tzinfo=UTC)
    assert m.assignment({"id": "1"}) is None


def test_a_returned_graded_submission_is_a_fully_graded_score() -> None:
    found = m.score(submission())
    assert found is not None
    assert found.vendor_id == "12345/777/Cg4I"
    assert found.assignment_id == "12345/777"
    assert found.student_id == "1" and found.section_id == "12345"
    assert found.score == 45.0
    assert found.score_status == "FULLY_GRADED"
    assert found.late is True
    # The last turn-in, not the first, nor the return.
    assert found.submitted_at == dt.datetime(2026, 9, 5, 9, 30, tzinfo=UTC)
    assert found.missing is None and found.comment is None


@pytest.mark.parametrize(
    ("state", "assigned", "draft", "expected"),
    [
        ("NEW", None, None, "NOT_SUBMITTED"),
        ("CREATED", None, None, "NOT_SUBMITTED"),
        ("RECLAIMED_BY_STUDENT", None, None, "NOT_SUBMITTED"),
        ("RECLAIMED_BY_STUDENT", 5.0, None, "NOT_SUBMITTED"),
        ("TURNED_IN", None, None, "SUBMITTED"),
        ("TURNED_IN", None, 8.0, "PARTIALLY_GRADED"),
        ("TURNED_IN", 8.0, None, "PARTIALLY_GRADED"),
        ("RETURNED", 8.0, 8.0, "FULLY_GRADED"),
        ("RETURNED", 0.0, None, "FULLY_GRADED"),
        ("RETURNED", None, None, "SUBMITTED"),
        ("SUBMISSION_STATE_UNSPECIFIED", None, None, None),
        (None, None, None, None),
    ],
)
def test_submission_states_map_to_score_statuses(
    state: Any, assigned: float | None, draft: float | None, expected: str | None
) -> None:
    assert m.score_status(state, assigned, draft) == expected


def test_a_draft_grade_is_never_the_score() -> None:
    found = m.score(submission(state="TURNED_IN", assignedGrade=None, draftGrade=30, late=None))
    assert found is not None
    assert found.score is None and found.score_status == "PARTIALLY_GRADED"
    assert found.late is False  # proto3 leaves false out


def test_submitted_at_falls_back_to_update_time_only_while_turned_in() -> None:
    turned_in = m.score(submission(state="TURNED_IN", submissionHistory=None))
    returned = m.score(submission(submissionHistory=None))
    created = m.score(submission(state="CREATED", submissionHistory=[], assignedGrade=None))
    assert turned_in is not None and returned is not None and created is not None
    assert turned_in.submitted_at == dt.datetime(2026, 9, 5, 16, 0, tzinfo=UTC)
    assert returned.submitted_at is None
    assert created.submitted_at is None and created.score_status == "NOT_SUBMITTED"


def test_guardian_links_merge_into_one_guardian_per_guardian_id() -> None:
    profile: dict[str, Any] = {
        "id": "999",
        "name": {"givenName": "First", "familyName": "Last"},
        "emailAddress": "name@email.com",
    }
    links: list[dict[str, Any]] = [
        {
            "studentId": "12345",
            "guardianId": "999",
            "guardianProfile": profile,
            "invitedEmailAddress": "x@y.z",
        },
        {"studentId": "12346", "guardianId": "999", "guardianProfile": profile},
        {"studentId": "12346", "guardianId": "999", "guardianProfile": profile},
        {"studentId": "12346", "guardianId": "555", "guardianProfile": {"id": "555"}},
        {"studentId": "12347"},
    ]
    found = {g.vendor_id: g for g in m.guardians(links)}
    assert set(found) == {"999", "555"}
    first = found["999"]
    assert (first.given_name, first.family_name, first.email) == ("First", "Last", "name@email.com")
    assert first.student_ids == ("12345", "12346")
    assert first.relationship is None
    assert found["555"].student_ids == ("12346",) and found["555"].email is None
