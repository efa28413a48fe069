"""Unified K-12 records: the shape every adapter maps its vendor data onto.

Plain slotted dataclasses, no GraphQL and no I/O. Attribute names are the
snake_case of the GraphQL field names in ``schema.graphql`` so the schema layer
can read them directly. Fields ending in ``_id``/``_ids`` are links: vendor ids
of other records *in the same source*; the hub turns them into hub ids.

An adapter fills ``vendor_id`` and only the attributes a ``FetchRequest`` asked
for; everything else keeps its default (``None`` or an empty tuple). The hub
stamps ``source`` and ``id`` (the opaque hub id) when the record arrives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TypeVar

__all__ = [
    "AcademicSession",
    "Assignment",
    "AttendanceEvent",
    "Course",
    "CourseGrade",
    "Enrollment",
    "Guardian",
    "Organization",
    "Person",
    "Record",
    "Score",
    "Section",
    "Student",
    "Teacher",
    "data_fields",
    "of_type",
]


@dataclass(slots=True, kw_only=True)
class Record:
    """Base of every unified record.

    ``vendor_id`` is the record's id in its source (OneRoster ``sourcedId``,
    Canvas id, ...). ``source`` and ``id`` are set by the hub, not by adapters.
    ``also_in`` lists further ``(source, vendor_id)`` pairs merged into this
    record by the identity map.
    """

    vendor_id: str
    source: str = ""
    id: str = ""
    also_in: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True, kw_only=True)
class Organization(Record):
    """A district, school or other organisation (OneRoster ``org``)."""

    name: str | None = None
    type: str | None = None  # district|school|department|state|local|national
    identifier: str | None = None
    parent_id: str | None = None


@dataclass(slots=True, kw_only=True)
class AcademicSession(Record):
    """A school year, semester, term or grading period."""

    title: str | None = None
    type: str | None = None  # schoolYear|semester|term|gradingPeriod
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    school_year: str | None = None
    parent_id: str | None = None


@dataclass(slots=True, kw_only=True)
class Course(Record):
    """A course in the catalogue; sections are its scheduled instances."""

    title: str | None = None
    course_code: str | None = None
    grades: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    org_id: str | None = None
    school_year_id: str | None = None


@dataclass(slots=True, kw_only=True)
class Section(Record):
    """A scheduled class (OneRoster ``class``, Canvas section, Classroom course)."""

    title: str | None = None
    class_code: str | None = None
    class_type: str | None = None
    location: str | None = None
    periods: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    course_id: str | None = None
    school_id: str | None = None
    term_ids: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class Person(Record):
    """Fields every person shares. All personal values may be withheld."""

    given_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    preferred_name: str | None = None
    email: str | None = None
    username: str | None = None
    identifier: str | None = None
    enabled: bool | None = None


@dataclass(slots=True, kw_only=True)
class Student(Person):
    """A learner, with demographics and program flags from the SIS."""

    grade_level: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None
    races: tuple[str, ...] | None = None
    hispanic_or_latino: bool | None = None
    programs: tuple[str, ...] | None = None
    directory_opt_out: bool | None = None
    school_id: str | None = None
    school_ids: tuple[str, ...] = ()
    guardian_ids: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class Teacher(Person):
    """Staff: teachers, and also principals, counselors and district staff.

    ``role`` keeps the vendor's staff role (``teacher``, ``principal``,
    ``counselor``, ``districtAdministrator``, ...) so the hub can tell them apart.
    """

    phone: str | None = None
    role: str | None = None
    school_ids: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class Guardian(Person):
    """A parent, guardian or relative with a link to one or more students."""

    phone: str | None = None
    relationship: str | None = None  # parent|guardian|relative
    student_ids: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class Enrollment(Record):
    """A person's place in a section, as student or staff."""

    role: str | None = None  # student|teacher|aide|administrator|proctor
    primary: bool | None = None
    begin_date: dt.date | None = None
    end_date: dt.date | None = None
    section_id: str | None = None
    person_id: str | None = None
    school_id: str | None = None


@dataclass(slots=True, kw_only=True)
class Assignment(Record):
    """Gradable work in a section (OneRoster lineItem, Canvas assignment)."""

    title: str | None = None
    description: str | None = None
    assign_date: dt.datetime | None = None
    due_date: dt.datetime | None = None
    category: str | None = None
    points_possible: float | None = None
    section_id: str | None = None
    grading_period_id: str | None = None


@dataclass(slots=True, kw_only=True)
class Score(Record):
    """A student's result on one assignment (OneRoster result, Canvas submission)."""

    assignment_id: str | None = None
    student_id: str | None = None
    section_id: str | None = None
    score: float | None = None
    score_status: str | None = None  # NOT_SUBMITTED|SUBMITTED|PARTIALLY_GRADED|FULLY_GRADED|EXEMPT
    late: bool | None = None
    missing: bool | None = None
    submitted_at: dt.datetime | None = None
    comment: str | None = None


@dataclass(slots=True, kw_only=True)
class CourseGrade(Record):
    """A term or final mark for one student in one section."""

    student_id: str | None = None
    section_id: str | None = None
    term_id: str | None = None
    letter_grade: str | None = None
    percent: float | None = None


@dataclass(slots=True, kw_only=True)
class AttendanceEvent(Record):
    """One day's (or one period's) attendance mark for a student."""

    student_id: str | None = None
    date: dt.date | None = None
    status: str | None = None  # PRESENT|ABSENT|TARDY|EXCUSED|EARLY_DEPARTURE
    section_id: str | None = None
    school_id: str | None = None


_BASE_FIELDS = frozenset({"vendor_id", "source", "id", "also_in"})


def data_fields(record_type: type[Record]) -> tuple[str, ...]:
    """Attribute names an adapter may be asked to fill for ``record_type``."""
    return tuple(f.name for f in fields(record_type) if f.name not in _BASE_FIELDS)


R = TypeVar("R", bound=Record)


def of_type(rows: Iterable[Record], record_type: type[R]) -> list[R]:
    """The rows that are ``record_type`` records (typed, for callers that know)."""
    return [row for row in rows if isinstance(row, record_type)]
