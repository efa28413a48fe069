"""The generated district as the Canvas adapter should show it, in sourcedId terms.

The simulator gives every record a Canvas id; its district knows which
OneRoster record each Canvas id stands for (the ``sis_*_id`` of courses,
sections, users and terms; an assignment's ``integration_id``). Canvas
records translated that way can be compared with the ``oneroster-csv``
adapter's records of the same CSV set, field by field.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from adapters.canvas._sim_data import CanvasDistrict
from hub.sdk import (
    AcademicSession,
    Assignment,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Record,
    Score,
    Section,
    Student,
    Teacher,
)

HANDED_IN = frozenset({"SUBMITTED", "PARTIALLY_GRADED", "FULLY_GRADED"})


class Translate:
    """Canvas ids of one simulated district -> OneRoster sourcedIds."""

    def __init__(self, district: CanvasDistrict) -> None:
        self.d = district

    def sis(self, kind: str, canvas_id: str | None) -> str | None:
        if canvas_id is None:
            return None
        obj = self.d.by_id[kind].get(int(canvas_id))
        if obj is None:
            return None
        field = "integration_id" if kind == "assignment" else f"sis_{kind}_id"
        value: str | None = obj.get(field)
        return value

    def line_item(self, key: str | None) -> str | None:
        """The sourcedId of the line item behind an assignment id ``section.assignment``."""
        return self.sis("assignment", key.split(".")[1]) if key else None

    def record(self, record: Record) -> Record:
        """``record`` with its ids (and links) in sourcedId terms."""
        s = self.sis
        out: Any = dataclasses.replace(record)  # its attributes are set by kind below
        if isinstance(record, AcademicSession):
            out.vendor_id = s("term", record.vendor_id)
        elif isinstance(record, Course):
            out.vendor_id = s("course", record.vendor_id)
        elif isinstance(record, Section):
            out.vendor_id = s("section", record.vendor_id)
            out.course_id = s("course", record.course_id)
            out.term_ids = tuple(s("term", t) for t in record.term_ids)
        elif isinstance(record, Student):
            out.vendor_id = s("user", record.vendor_id)
            out.guardian_ids = tuple(sorted(str(s("user", g)) for g in record.guardian_ids))
        elif isinstance(record, Teacher):
            out.vendor_id = s("user", record.vendor_id)
        elif isinstance(record, Guardian):
            out.vendor_id = s("user", record.vendor_id)
            out.student_ids = tuple(sorted(str(s("user", g)) for g in record.student_ids))
        elif isinstance(record, Enrollment):
            out.vendor_id = "enrollment"
            out.section_id = s("section", record.section_id)
            out.person_id = s("user", record.person_id)
        elif isinstance(record, Assignment):
            out.vendor_id = self.line_item(record.vendor_id)
            out.section_id = s("section", record.section_id)
        elif isinstance(record, Score):
            out.vendor_id = "score"
            out.assignment_id = self.line_item(record.assignment_id)
            out.student_id = s("user", record.student_id)
            out.section_id = s("section", record.section_id)
        elif isinstance(record, CourseGrade):
            out.vendor_id = "grade"
            out.student_id = s("user", record.student_id)
            out.section_id = s("section", record.section_id)
        return cast(Record, out)


def key_of(record: Record) -> tuple[str | None, ...]:
    """What identifies a translated record across both adapters."""
    if isinstance(record, Enrollment):
        return (record.section_id, record.person_id, record.role)
    if isinstance(record, Score):
        return (record.assignment_id, record.student_id)
    if isinstance(record, CourseGrade):
        return (record.section_id, record.student_id)
    return (record.vendor_id,)


def expected_from_csv(record: Record) -> Record:
    """A ``oneroster-csv`` record as the Canvas adapter shows the same data.

    What Canvas has no room for is dropped; what Canvas shapes differently is
    reshaped (documented in ``adapters.canvas._mapping`` and ``_sim_data``).
    """
    out: Any = dataclasses.replace(record)
    if isinstance(record, Section):
        # Canvas has no class code of its own: the SIS id is its class_code.
        return Section(
            vendor_id=record.vendor_id,
            title=record.title,
            class_code=record.vendor_id,
            course_id=record.course_id,
            term_ids=record.term_ids,
        )
    if isinstance(record, Course):
        return Course(vendor_id=record.vendor_id, title=record.title, course_code=record.course_code)
    if isinstance(record, Student | Teacher | Guardian):
        kwargs: dict[str, Any] = {
            "vendor_id": record.vendor_id,
            "given_name": record.given_name,
            "family_name": record.family_name,
            "email": record.email,
            "username": record.username,
            "identifier": record.vendor_id,
        }
        if isinstance(record, Student):
            return Student(**kwargs, guardian_ids=tuple(sorted(record.guardian_ids)))
        if isinstance(record, Teacher):
            return Teacher(**kwargs, role=record.role)
        return Guardian(**kwargs, student_ids=tuple(sorted(record.student_ids)))
    if isinstance(record, Enrollment):
        out.vendor_id, out.primary, out.school_id = "enrollment", None, None
    elif isinstance(record, Assignment):
        out.grading_period_id = None
    elif isinstance(record, Score):
        out.vendor_id = "score"
        # Canvas's submitted_at is when work was handed in: none for missing or excused work.
        if record.score_status not in HANDED_IN:
            out.submitted_at = None
    elif isinstance(record, CourseGrade):
        out.vendor_id, out.term_id = "grade", None
    return cast(Record, out)
