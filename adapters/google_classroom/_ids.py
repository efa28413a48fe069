"""Vendor ids of the records this adapter makes, and reading them back.

Classroom ids are opaque strings (numeric for courses, users and course
work). Records that live inside a course carry the course in their vendor id,
so a look-up by id (or by ``assignment_id``) knows which course to read and
never scans the whole domain:

- Section, Course: ``<courseId>`` (a Classroom course is one class)
- Student, Teacher, Guardian: ``<userId>`` (the same person in every course)
- Enrollment: ``<courseId>/students/<userId>`` or ``<courseId>/teachers/<userId>``
- Assignment: ``<courseId>/<courseWorkId>``
- Score: ``<courseId>/<courseWorkId>/<submissionId>``

Ids reach the adapter from GraphQL callers, so every part is checked before
it goes into a URL path: an id that is not one of ours is simply not found.
"""

from __future__ import annotations

import re

__all__ = [
    "assignment_id",
    "course_of",
    "enrollment_id",
    "is_plain",
    "score_id",
    "split_assignment",
]

_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,128}")


def is_plain(value: str) -> bool:
    """Whether ``value`` can be a single Classroom id (safe in a URL path)."""
    return bool(_PLAIN.fullmatch(value)) and value != "-"


def assignment_id(course_id: str, course_work_id: str) -> str:
    """The vendor id of a course work item."""
    return f"{course_id}/{course_work_id}"


def score_id(course_id: str, course_work_id: str, submission_id: str) -> str:
    """The vendor id of a student submission."""
    return f"{course_id}/{course_work_id}/{submission_id}"


def enrollment_id(course_id: str, role: str, user_id: str) -> str:
    """The vendor id of a course membership; ``role`` is ``student`` or ``teacher``."""
    return f"{course_id}/{role}s/{user_id}"


def course_of(vendor_id: str) -> str | None:
    """The course an Assignment, Score or Enrollment id (or a course id) belongs to."""
    course = vendor_id.split("/", 1)[0]
    return course if is_plain(course) else None


def split_assignment(vendor_id: str) -> tuple[str, str] | None:
    """``(courseId, courseWorkId)`` of an Assignment id, ``None`` when it is not one."""
    parts = vendor_id.split("/")
    if len(parts) != 2 or not all(is_plain(part) for part in parts):
        return None
    return parts[0], parts[1]
