"""Canvas JSON -> unified records.

Id conventions (all Canvas ids as decimal text):

- Course, Section, AcademicSession (enrollment term), people (users),
  Enrollment and CourseGrade (both: the enrollment's id) keep their Canvas id.
- Assignment: ``"<section id>.<assignment id>"``. A Canvas assignment belongs
  to a course, a unified assignment to a section: a course with several
  sections gives one record per section that sees the assignment, with that
  section's dates (its override, if any).
- Score: ``"<section id>.<assignment id>.<user id>"``, so a single score can
  be read back (``GET /sections/:s/assignments/:a/submissions/:u``).

SIS ids, which the identity map matches on: a user's ``sis_user_id`` is the
person's ``identifier``; a section's ``sis_section_id`` is its ``class_code``
(the unified Section has no other SIS field). ``course_code`` is Canvas's own.

Every builder returns ``None`` for an object it cannot map (no id, or a kind
the hub does not model) rather than failing the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from adapters.canvas import _values as v
from hub.sdk import (
    AcademicSession,
    Assignment,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Person,
    Score,
    Section,
    Student,
    Teacher,
)

__all__ = [
    "ENROLLMENT_TYPES",
    "OBSERVER",
    "ROLE_OF_TYPE",
    "Json",
    "assignment",
    "assignment_key",
    "course",
    "course_grade",
    "enrollment",
    "guardian",
    "person",
    "score",
    "score_key",
    "section",
    "section_override",
    "split_key",
    "student",
    "teacher",
    "term",
]

Json = dict[str, Any]
P = TypeVar("P", bound=Person)

ROLE_OF_TYPE = {"StudentEnrollment": "student", "TeacherEnrollment": "teacher", "TaEnrollment": "aide"}
"""Canvas enrollment types the hub models, and their unified roles."""
ENROLLMENT_TYPES = tuple(ROLE_OF_TYPE)
OBSERVER = "ObserverEnrollment"
"""A guardian's place in a course: a link to a student (``associated_user_id``), not an enrollment."""

_SCORE_STATUS = {
    "unsubmitted": "NOT_SUBMITTED",
    "submitted": "SUBMITTED",
    "pending_review": "PARTIALLY_GRADED",
    "graded": "FULLY_GRADED",
}
_GONE = frozenset({"deleted", "rejected"})
_ENDED = frozenset({"completed", "inactive"})


def assignment_key(section_id: str, assignment_id: str) -> str:
    """The vendor id of an assignment as one section sees it."""
    return f"{section_id}.{assignment_id}"


def score_key(section_id: str, assignment_id: str, user_id: str) -> str:
    """The vendor id of one student's submission (in the section they take it in)."""
    return f"{section_id}.{assignment_id}.{user_id}"


def split_key(value: str, parts: int) -> tuple[str, ...] | None:
    """The Canvas ids of a composite vendor id, or ``None`` when it is not one."""
    pieces = tuple(value.split("."))
    if len(pieces) != parts or not all(v.ident(piece) == piece for piece in pieces):
        return None
    return pieces


def term(obj: Json) -> AcademicSession | None:
    """An enrollment term. Canvas terms have no kind; they are all ``term``."""
    vendor_id = v.ident(obj.get("id"))
    if vendor_id is None or obj.get("workflow_state") in _GONE:
        return None
    return AcademicSession(
        vendor_id=vendor_id,
        title=v.text(obj.get("name")),
        type="term",
        start_date=v.date(obj.get("start_at")),
        end_date=v.date(obj.get("end_at")),
    )


def course(obj: Json) -> Course | None:
    """A course: its name and Canvas's short ``course_code``."""
    vendor_id = v.ident(obj.get("id"))
    if vendor_id is None:
        return None
    return Course(
        vendor_id=vendor_id, title=v.text(obj.get("name")), course_code=v.text(obj.get("course_code"))
    )


def section(obj: Json, term_id: str | None) -> Section | None:
    """A course section; ``term_id`` is its course's enrollment term (sections name none)."""
    vendor_id = v.ident(obj.get("id"))
    if vendor_id is None:
        return None
    return Section(
        vendor_id=vendor_id,
        title=v.text(obj.get("name")),
        class_code=v.text(obj.get("sis_section_id")),
        course_id=v.ident(obj.get("course_id")),
        term_ids=(term_id,) if term_id else (),
    )


def _names(obj: Json) -> tuple[str | None, str | None]:
    """(given, family): ``first_name``/``last_name``, else from ``sortable_name`` ("Last, First")."""
    given, family = v.text(obj.get("first_name")), v.text(obj.get("last_name"))
    if given is None or family is None:
        sortable = v.text(obj.get("sortable_name")) or ""
        last, comma, first = sortable.partition(",")
        if comma:
            family = family or v.text(last)
            given = given or v.text(first)
    return given, family


def person(obj: Json, record_type: type[P], **links: Any) -> P | None:
    """A user as a Student, Teacher or Guardian; ``links`` fills the kind's own attributes."""
    vendor_id = v.ident(obj.get("id"))
    if vendor_id is None:
        return None
    given, family = _names(obj)
    record = record_type(
        vendor_id=vendor_id,
        given_name=given,
        family_name=family,
        email=v.text(obj.get("email")),
        username=v.text(obj.get("login_id")),
        identifier=v.text(obj.get("sis_user_id")),
    )
    for name, value in links.items():
        setattr(record, name, value)
    return record


def enrollment(obj: Json) -> Enrollment | None:
    """A student, teacher or TA enrollment (observers and designers are not enrollments here).

    Canvas dates are often only on the section, course or term; then the
    enrollment has none. A concluded or deactivated enrollment without an
    ``end_at`` ends on the day it was last changed, so the hub does not take
    it for a current one.
    """
    vendor_id = v.ident(obj.get("id"))
    role = ROLE_OF_TYPE.get(str(obj.get("type")))
    state = obj.get("enrollment_state")
    if vendor_id is None or role is None or state in _GONE:
        return None
    end = v.date(obj.get("end_at"))
    if end is None and state in _ENDED:
        end = v.date(obj.get("updated_at"))
    return Enrollment(
        vendor_id=vendor_id,
        role=role,
        begin_date=v.date(obj.get("start_at")),
        end_date=end,
        section_id=v.ident(obj.get("course_section_id")),
        person_id=v.ident(obj.get("user_id")),
    )


def course_grade(obj: Json) -> CourseGrade | None:
    """A student enrollment's current grade: ``current_score`` and ``current_grade``.

    An enrollment whose grades hold neither (nothing graded yet, or grades
    hidden from the token) has no course grade.
    """
    vendor_id = v.ident(obj.get("id"))
    grades = obj.get("grades")
    if vendor_id is None or obj.get("type") != "StudentEnrollment" or not isinstance(grades, Mapping):
        return None
    if obj.get("enrollment_state") in _GONE:
        return None
    percent, letter = v.number(grades.get("current_score")), v.text(grades.get("current_grade"))
    if percent is None and letter is None:
        return None
    return CourseGrade(
        vendor_id=vendor_id,
        student_id=v.ident(obj.get("user_id")),
        section_id=v.ident(obj.get("course_section_id")),
        letter_grade=letter,
        percent=percent,
    )


def section_override(obj: Json, section_id: str) -> Json | None:
    """How ``section_id`` sees an assignment: its override (``{}`` for none), or
    ``None`` when the assignment is only for other sections or students.

    Needs the assignment read with ``include[]=overrides``.
    """
    overrides = obj.get("overrides")
    found: Json | None = None
    if isinstance(overrides, list):
        for item in overrides:
            if isinstance(item, dict) and v.ident(item.get("course_section_id")) == section_id:
                found = item
                break
    if obj.get("only_visible_to_overrides") is True and found is None:
        return None
    return found or {}


def assignment(obj: Json, section_id: str, categories: Mapping[str, str]) -> Assignment | None:
    """An assignment as ``section_id`` sees it, or ``None`` if that section does not.

    ``assign_date`` is when it unlocks (the section's, else the assignment's),
    else when it was created; ``due_date`` the section's due date, else the
    assignment's. ``category`` is its assignment group's name, from
    ``categories`` (group id -> name). ``description`` is Canvas's HTML.
    """
    assignment_id = v.ident(obj.get("id"))
    override = section_override(obj, section_id)
    if assignment_id is None or override is None or obj.get("workflow_state") == "deleted":
        return None
    group = v.ident(obj.get("assignment_group_id"))
    return Assignment(
        vendor_id=assignment_key(section_id, assignment_id),
        title=v.text(obj.get("name")),
        description=v.text(obj.get("description")),
        assign_date=(
            v.datetime(override.get("unlock_at"))
            or v.datetime(obj.get("unlock_at"))
            or v.datetime(obj.get("created_at"))
        ),
        due_date=v.datetime(override.get("due_at")) or v.datetime(obj.get("due_at")),
        category=categories.get(group) if group else None,
        points_possible=v.number(obj.get("points_possible")),
        section_id=section_id,
    )


def _last_comment(obj: Json) -> str | None:
    comments = obj.get("submission_comments")
    if not isinstance(comments, list):
        return None
    texts = [v.text(item.get("comment")) for item in comments if isinstance(item, dict)]
    found = [text for text in texts if text]
    return found[-1] if found else None


def score(obj: Json, section_id: str) -> Score | None:
    """A submission, read in ``section_id``.

    ``score_status``: excused -> ``EXEMPT``; otherwise by ``workflow_state``
    (unsubmitted, submitted, pending_review -> ``PARTIALLY_GRADED``, graded).
    ``comment`` is the latest submission comment (read with
    ``include[]=submission_comments``).
    """
    assignment_id, user_id = v.ident(obj.get("assignment_id")), v.ident(obj.get("user_id"))
    if assignment_id is None or user_id is None:
        return None
    status = "EXEMPT" if obj.get("excused") is True else _SCORE_STATUS.get(str(obj.get("workflow_state")))
    return Score(
        vendor_id=score_key(section_id, assignment_id, user_id),
        assignment_id=assignment_key(section_id, assignment_id),
        student_id=user_id,
        section_id=section_id,
        score=v.number(obj.get("score")),
        score_status=status,
        late=v.boolean(obj.get("late")),
        missing=v.boolean(obj.get("missing")),
        submitted_at=v.datetime(obj.get("submitted_at")),
        comment=_last_comment(obj),
    )


def guardian(obj: Json, student_ids: tuple[str, ...] = ()) -> Guardian | None:
    """An observer as a guardian (Canvas does not say parent, guardian or relative)."""
    return person(obj, Guardian, student_ids=student_ids)


def student(obj: Json, guardian_ids: tuple[str, ...] = ()) -> Student | None:
    """A user with a student enrollment."""
    return person(obj, Student, guardian_ids=guardian_ids)


def teacher(obj: Json, role: str | None) -> Teacher | None:
    """A user with a teacher (``teacher``) or TA (``aide``) enrollment."""
    return person(obj, Teacher, role=role)
