"""Vendor ids built from Ed-Fi natural keys, and the references they come from.

Ed-Fi resources are identified by their natural key, and every reference
repeats that key, so an id built from the key can be computed from the record
itself *and* from any reference to it: links (``section_id``, ``person_id``,
...) then resolve within the source without a look-up.

Format: ``kind/part/part/...``, the kind naming the Ed-Fi resource and the
parts its key values in a fixed order; inside a part ``%`` is written ``%25``
and ``/`` is written ``%2F`` (nothing else is escaped, so ids stay readable).
Descriptors in a key are reduced to their code value (the text after ``#``).

========================== =====================================================
kind                       parts
========================== =====================================================
edorg                      educationOrganizationId (schools and LEAs alike)
session                    schoolId, schoolYear, sessionName
gradingPeriod              schoolId, schoolYear, gradingPeriodDescriptor,
                           gradingPeriodName (DS 5) or periodSequence (DS 4)
course                     educationOrganizationId, courseCode
section                    localCourseCode, schoolId, schoolYear, sessionName,
                           sectionIdentifier
student / staff            studentUniqueId / staffUniqueId
contact / parent           contactUniqueId (DS 5) / parentUniqueId (DS 4)
studentSectionAssociation  studentUniqueId, the section's 5 parts, beginDate
staffSectionAssociation    staffUniqueId, the section's 5 parts, beginDate
gradebookEntry             namespace, gradebookEntryIdentifier
studentGradebookEntry      namespace, gradebookEntryIdentifier, studentUniqueId
grade                      studentUniqueId, the section's 5 parts, beginDate,
                           the grading period's 4 parts, gradeTypeDescriptor
studentSchoolAttendance    studentUniqueId, schoolId, schoolYear, sessionName,
                           eventDate, attendanceEventCategoryDescriptor
studentSectionAttendance   studentUniqueId, the section's 5 parts, eventDate,
                           attendanceEventCategoryDescriptor
========================== =====================================================

For example ``section/ALG-1/255901001/2022/2021-2022 Fall Semester/25590100102Trad220ALG112011``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "code_value",
    "course_id",
    "edorg_id",
    "grading_period_id",
    "make_id",
    "parse_id",
    "section_id",
    "section_parts",
    "session_id",
    "text",
]

Json = Mapping[str, Any]


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace("/", "%2F")


def _unescape(part: str) -> str:
    return part.replace("%2F", "/").replace("%2f", "/").replace("%25", "%")


def text(value: Any) -> str | None:
    """A key value as the id writes it: ``None`` for a missing one, ints as digits."""
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def make_id(kind: str, *parts: Any) -> str | None:
    """``kind/part/...``; ``None`` when a part is missing (the key is incomplete)."""
    rendered = [text(part) for part in parts]
    if any(part is None for part in rendered):
        return None
    return "/".join([kind, *(_escape(part) for part in rendered if part is not None)])


def parse_id(vendor_id: str) -> tuple[str, tuple[str, ...]]:
    """``(kind, parts)`` of an id made by :func:`make_id` (``("", ())`` for anything else)."""
    kind, sep, rest = vendor_id.partition("/")
    if not sep or not kind or not rest:
        return "", ()
    return kind, tuple(_unescape(part) for part in rest.split("/"))


def code_value(descriptor: Any) -> str | None:
    """``uri://ed-fi.org/SexDescriptor#Female`` -> ``Female`` (a bare code stays as it is)."""
    if not isinstance(descriptor, str) or not descriptor.strip():
        return None
    return descriptor.rpartition("#")[2].strip() or None


def _ref(obj: Json, name: str) -> Json:
    value = obj.get(name)
    return value if isinstance(value, Mapping) else {}


def edorg_id(value: Any) -> str | None:
    """The id of an education organization (school, LEA, ...) from its numeric id."""
    return make_id("edorg", value)


def session_id(ref: Json) -> str | None:
    """The id of a session from a ``sessionReference`` (or a session)."""
    school = ref.get("schoolId", _ref(ref, "schoolReference").get("schoolId"))
    year = ref.get("schoolYear", _ref(ref, "schoolYearTypeReference").get("schoolYear"))
    return make_id("session", school, year, ref.get("sessionName"))


def grading_period_id(ref: Json) -> str | None:
    """The id of a grading period from a ``gradingPeriodReference`` (or a grading period).

    DS 5 names a grading period (``gradingPeriodName``); DS 4 numbers it
    (``periodSequence``): the id uses whichever the object has.
    """
    school = ref.get("schoolId", _ref(ref, "schoolReference").get("schoolId"))
    year = ref.get("schoolYear", _ref(ref, "schoolYearTypeReference").get("schoolYear"))
    name = ref.get("gradingPeriodName")
    if name in (None, ""):
        name = ref.get("periodSequence")
    return make_id("gradingPeriod", school, year, code_value(ref.get("gradingPeriodDescriptor")), name)


def course_id(ref: Json) -> str | None:
    """The id of a course from a ``courseReference`` (or a course)."""
    org = ref.get(
        "educationOrganizationId", _ref(ref, "educationOrganizationReference").get("educationOrganizationId")
    )
    return make_id("course", org, ref.get("courseCode"))


def section_parts(ref: Json) -> tuple[Any, ...]:
    """The five key values of a section, from any reference that carries them."""
    return (
        ref.get("localCourseCode"),
        ref.get("schoolId"),
        ref.get("schoolYear"),
        ref.get("sessionName"),
        ref.get("sectionIdentifier"),
    )


def section_id(ref: Json) -> str | None:
    """The id of a section from a ``sectionReference`` (or a reference with its parts)."""
    return make_id("section", *section_parts(ref))
