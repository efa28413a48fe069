"""One Classroom JSON object -> one unified record.

Builders read every attribute they can; the adapter projects records to the
fields asked for afterwards. A builder returns ``None`` for an object it
cannot use (no id) and never raises on a value.

Decisions where Classroom and the unified model differ:

- A Classroom **course** is one class: it becomes a Section *and* a Course
  with the same vendor id (Classroom has no catalogue shared by sections).
  Section title: ``name``, then `` - `` and ``section`` when set ("Biology -
  Period 2"); Course title: ``name``. ``room`` is the location, the newer
  ``subject`` the subjects, and the class code the course's domain alias
  (``d:<SIS id>``, read only when asked for: one call per course), which
  lets the hub match the course with its SIS section. Classroom has no
  school or terms.
- **People**: ``userProfile`` gives the names and ``emailAddress`` (the key
  the hub matches the same person in the SIS on). Classroom has no grade
  level, demographics, username or SIS identifier.
- **Enrollments** are derived from course membership (``student`` or
  ``teacher``); the course owner is the primary teacher. No dates: Classroom
  keeps current members only.
- **Assignments**: ``maxPoints`` -> points possible (absent or 0: ungraded),
  ``creationTime`` -> assign date, ``dueDate`` + ``dueTime`` -> due date (see
  :func:`~adapters.google_classroom._values.due_datetime`), the newer
  ``gradeCategory.name`` -> category.
- **Scores** (student submissions): ``assignedGrade`` -> score (a teacher's
  ``draftGrade`` is never disclosed: students do not see it either);
  status from ``state``, see :func:`score_status`; ``late`` as given;
  submitted at the last ``TURNED_IN`` of the submission history (or
  ``updateTime`` while the state is ``TURNED_IN`` and no history came).
  Classroom has no missing flag, no exemption and no comment on the API.
- **Guardians**: one Guardian per ``guardianId`` with every student it is
  linked to; Classroom does not say parent or guardian.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from adapters.google_classroom import _ids
from adapters.google_classroom import _values as v
from hub.sdk import Assignment, Course, Enrollment, Guardian, Score, Section, Student, Teacher

__all__ = [
    "Json",
    "assignment",
    "course",
    "enrollment",
    "guardians",
    "person",
    "score",
    "score_status",
    "section",
    "submitted_at",
]

Json = Mapping[str, Any]

NOT_SUBMITTED = "NOT_SUBMITTED"
SUBMITTED = "SUBMITTED"
PARTIALLY_GRADED = "PARTIALLY_GRADED"
FULLY_GRADED = "FULLY_GRADED"


def _mapping(value: Any) -> Json:
    return value if isinstance(value, Mapping) else {}


def _subjects(obj: Json) -> tuple[str, ...]:
    subject = v.text(obj.get("subject"))
    return (subject,) if subject else ()


def sis_id(aliases: Iterable[Json]) -> str | None:
    """The first domain alias (``d:<id>``) of a course, without the ``d:``.

    Districts that roster Classroom from their SIS give each course the SIS
    class id as a domain-scoped alias; it is the key the hub matches the
    course with the SIS section on. Project aliases (``p:``) are one
    developer project's names and are ignored.
    """
    for item in aliases:
        alias = v.text(item.get("alias"))
        if alias and alias.startswith("d:") and len(alias) > 2:
            return alias[2:]
    return None


def section(obj: Json, class_code: str | None = None) -> Section | None:
    """A Classroom course as the class it is; ``class_code`` is its SIS id (:func:`sis_id`)."""
    course_id = v.text(obj.get("id"))
    if course_id is None:
        return None
    name, label = v.text(obj.get("name")), v.text(obj.get("section"))
    title = f"{name} - {label}" if name and label else name or label
    return Section(
        vendor_id=course_id,
        title=title,
        class_code=class_code,
        location=v.text(obj.get("room")),
        subjects=_subjects(obj),
        course_id=course_id,
    )


def course(obj: Json) -> Course | None:
    """A Classroom course as a catalogue course of its own."""
    course_id = v.text(obj.get("id"))
    if course_id is None:
        return None
    return Course(vendor_id=course_id, title=v.text(obj.get("name")), subjects=_subjects(obj))


def _profile_fields(profile: Json) -> dict[str, Any]:
    name = _mapping(profile.get("name"))
    return {
        "given_name": v.text(name.get("givenName")),
        "family_name": v.text(name.get("familyName")),
        "email": v.text(profile.get("emailAddress")),
    }


def person(obj: Json, record_type: type[Student] | type[Teacher]) -> Student | Teacher | None:
    """A course's ``Student`` or ``Teacher`` object (``userId`` + ``profile``)."""
    profile = _mapping(obj.get("profile"))
    user_id = v.text(obj.get("userId")) or v.text(profile.get("id"))
    if user_id is None:
        return None
    record = record_type(vendor_id=user_id, **_profile_fields(profile))
    if isinstance(record, Teacher):
        record.role = "teacher"
    return record


def enrollment(obj: Json, role: str, course_id: str, owner_id: str | None) -> Enrollment | None:
    """A membership row of ``courses/{id}/students`` or ``/teachers``."""
    user_id = v.text(obj.get("userId")) or v.text(_mapping(obj.get("profile")).get("id"))
    if user_id is None:
        return None
    return Enrollment(
        vendor_id=_ids.enrollment_id(course_id, role, user_id),
        role=role,
        primary=(user_id == owner_id) if role == "teacher" and owner_id else None,
        section_id=course_id,
        person_id=user_id,
    )


def assignment(obj: Json) -> Assignment | None:
    """A ``CourseWork`` item."""
    course_id, work_id = v.text(obj.get("courseId")), v.text(obj.get("id"))
    if course_id is None or work_id is None:
        return None
    points = v.number(obj.get("maxPoints"))
    return Assignment(
        vendor_id=_ids.assignment_id(course_id, work_id),
        title=v.text(obj.get("title")),
        description=v.text(obj.get("description")),
        assign_date=v.timestamp(obj.get("creationTime")),
        due_date=v.due_datetime(obj.get("dueDate"), obj.get("dueTime")),
        category=v.text(_mapping(obj.get("gradeCategory")).get("name")),
        points_possible=points if points else None,
        section_id=course_id,
    )


def score_status(state: Any, assigned_grade: float | None, draft_grade: float | None) -> str | None:
    """The unified status of a submission.

    ``NEW``, ``CREATED``, ``RECLAIMED_BY_STUDENT`` -> ``NOT_SUBMITTED``;
    ``TURNED_IN`` -> ``SUBMITTED``, or ``PARTIALLY_GRADED`` once the teacher
    has put a (draft or assigned) grade on it without returning it yet;
    ``RETURNED`` -> ``FULLY_GRADED`` with an assigned grade, else
    ``SUBMITTED`` (handed back ungraded, e.g. work worth no points).
    """
    if state in ("NEW", "CREATED", "RECLAIMED_BY_STUDENT"):
        return NOT_SUBMITTED
    if state == "TURNED_IN":
        graded = assigned_grade is not None or draft_grade is not None
        return PARTIALLY_GRADED if graded else SUBMITTED
    if state == "RETURNED":
        return FULLY_GRADED if assigned_grade is not None else SUBMITTED
    return None


def submitted_at(obj: Json) -> dt.datetime | None:
    """When the work was last turned in: the history's last ``TURNED_IN``,
    else ``updateTime`` while the state is ``TURNED_IN``."""
    latest: dt.datetime | None = None
    history = obj.get("submissionHistory")
    for entry in history if isinstance(history, list) else ():
        state = _mapping(_mapping(entry).get("stateHistory"))
        if state.get("state") == "TURNED_IN":
            when = v.timestamp(state.get("stateTimestamp"))
            if when is not None and (latest is None or when > latest):
                latest = when
    if latest is None and obj.get("state") == "TURNED_IN":
        latest = v.timestamp(obj.get("updateTime"))
    return latest


def score(obj: Json) -> Score | None:
    """A ``StudentSubmission``."""
    course_id, work_id = v.text(obj.get("courseId")), v.text(obj.get("courseWorkId"))
    submission_id = v.text(obj.get("id"))
    if course_id is None or work_id is None or submission_id is None:
        return None
    assigned = v.number(obj.get("assignedGrade"))
    return Score(
        vendor_id=_ids.score_id(course_id, work_id, submission_id),
        assignment_id=_ids.assignment_id(course_id, work_id),
        student_id=v.text(obj.get("userId")),
        section_id=course_id,
        score=assigned,
        score_status=score_status(obj.get("state"), assigned, v.number(obj.get("draftGrade"))),
        late=v.flag(obj.get("late")),
        submitted_at=submitted_at(obj),
    )


def guardians(links: Iterable[Json]) -> list[Guardian]:
    """``Guardian`` links (one per student and guardian) merged into one record per guardian."""
    merged: dict[str, Guardian] = {}
    students: dict[str, list[str]] = {}
    for link in links:
        profile = _mapping(link.get("guardianProfile"))
        guardian_id = v.text(link.get("guardianId")) or v.text(profile.get("id"))
        student_id = v.text(link.get("studentId"))
        if guardian_id is None:
            continue
        record = merged.get(guardian_id)
        if record is None:
            record = merged[guardian_id] = Guardian(vendor_id=guardian_id, **_profile_fields(profile))
            students[guardian_id] = []
        if student_id and student_id not in students[guardian_id]:
            students[guardian_id].append(student_id)
    for guardian_id, record in merged.items():
        record.student_ids = tuple(students[guardian_id])
    return list(merged.values())
