"""One OneRoster JSON object -> one unified record, for 1.1 and 1.2.

Builders read every attribute they can; the adapter projects the record to
the fields asked for afterwards. A builder returns ``None`` for an object it
cannot use (no ``sourcedId``, a status saying it is gone, a user of another
kind) and never raises on a value: unreadable values become ``None``.

The rules follow the ``oneroster-csv`` adapter so that both give the same
records for the same district: a user's kind comes from their primary role
(staff wins over guardian), a student's school is ``primaryOrg`` or the
primary role's org, enum values are folded to the spec's spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.oneroster_rest import _values as v
from hub.sdk import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Organization,
    Person,
    Score,
    Section,
    Student,
    Teacher,
)

__all__ = [
    "DEMOGRAPHIC_FIELDS",
    "RACES",
    "STAFF_ROLES",
    "Json",
    "apply_demographics",
    "assignment",
    "attendance_event",
    "course",
    "course_grade",
    "enrollment",
    "is_gone",
    "organization",
    "person",
    "score",
    "section",
    "session",
]

Json = Mapping[str, Any]

STAFF_ROLES = frozenset(
    {
        *("teacher", "aide", "administrator", "principal", "counselor", "districtAdministrator"),
        *("siteAdministrator", "systemAdministrator", "proctor"),
    }
)
RACES = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
)
DEMOGRAPHIC_FIELDS = frozenset(
    {"birth_date", "sex", "races", "hispanic_or_latino", "programs", "directory_opt_out"}
)
_GONE = frozenset({"tobedeleted", "inactive"})


def is_gone(obj: Json) -> bool:
    """Whether the object is marked deleted: ``tobedeleted``, or 1.1's ``inactive``
    (which 1.2 says to read as ``tobedeleted``)."""
    status = obj.get("status")
    return isinstance(status, str) and status.strip().lower() in _GONE


def _id(obj: Json) -> str | None:
    """The object's sourcedId, or ``None`` when it has none or is marked gone."""
    if is_gone(obj):
        return None
    return v.text(obj.get("sourcedId"))


def organization(obj: Json) -> Organization | None:
    """An ``org`` object."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    return Organization(
        vendor_id=vendor_id,
        name=v.text(obj.get("name")),
        type=v.ORG_TYPES(obj.get("type")),
        identifier=v.text(obj.get("identifier")),
        parent_id=v.ref(obj.get("parent")),
    )


def session(obj: Json) -> AcademicSession | None:
    """An ``academicSession`` object."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    return AcademicSession(
        vendor_id=vendor_id,
        title=v.text(obj.get("title")),
        type=v.SESSION_TYPES(obj.get("type")),
        start_date=v.date(obj.get("startDate")),
        end_date=v.date(obj.get("endDate")),
        school_year=v.text(obj.get("schoolYear")),
        parent_id=v.ref(obj.get("parent")),
    )


def _grades(value: Any) -> tuple[str, ...]:
    return tuple(grade for grade in (v.grade(item) for item in v.strings(value)) if grade)


def course(obj: Json) -> Course | None:
    """A ``course`` object."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    return Course(
        vendor_id=vendor_id,
        title=v.text(obj.get("title")),
        course_code=v.text(obj.get("courseCode")),
        grades=_grades(obj.get("grades")),
        subjects=v.strings(obj.get("subjects")),
        org_id=v.ref(obj.get("org")),
        school_year_id=v.ref(obj.get("schoolYear")),
    )


def section(obj: Json) -> Section | None:
    """A ``class`` object."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    return Section(
        vendor_id=vendor_id,
        title=v.text(obj.get("title")),
        class_code=v.text(obj.get("classCode")),
        class_type=v.CLASS_TYPES(obj.get("classType")),
        location=v.text(obj.get("location")),
        periods=v.strings(obj.get("periods")),
        subjects=v.strings(obj.get("subjects")),
        grades=_grades(obj.get("grades")),
        course_id=v.ref(obj.get("course")),
        school_id=v.ref(obj.get("school")),
        term_ids=v.refs(obj.get("terms")),
    )


# -- people ------------------------------------------------------------------

_STUDENT, _STAFF, _GUARDIAN = "student", "staff", "guardian"


def _kind(role: str) -> str:
    if role == "student":
        return _STUDENT
    if role in STAFF_ROLES:
        return _STAFF
    return _GUARDIAN


@dataclass(frozen=True, slots=True)
class _Role:
    role: str
    primary: bool
    org_id: str | None


def _roles(obj: Json) -> list[_Role]:
    """1.2 ``roles`` objects, or 1.1's single ``role`` over its ``orgs`` (the first primary)."""
    listed = obj.get("roles")
    if isinstance(listed, list):
        found = []
        for item in listed:
            if not isinstance(item, Mapping):
                continue
            role = v.ROLES(item.get("role"))
            if role is not None:
                primary = str(item.get("roleType", "")).strip().lower() == "primary"
                found.append(_Role(role, primary, v.ref(item.get("org"))))
        return found
    role = v.ROLES(obj.get("role"))
    if role is None:
        return []
    orgs = v.refs(obj.get("orgs")) or (None,)
    return [_Role(role, index == 0, org) for index, org in enumerate(orgs)]


def _person_fields(record: Person, obj: Json) -> None:
    record.given_name = v.text(obj.get("givenName"))
    record.family_name = v.text(obj.get("familyName"))
    record.middle_name = v.text(obj.get("middleName"))
    record.preferred_name = v.text(obj.get("preferredFirstName")) or v.text(obj.get("preferredGivenName"))
    record.email = v.text(obj.get("email"))
    record.username = v.text(obj.get("username"))
    record.identifier = v.text(obj.get("identifier"))
    record.enabled = v.boolean(obj.get("enabledUser"))


def person(obj: Json, wanted: type[Person]) -> Person | None:
    """A ``user`` object as a ``wanted`` record, or ``None`` when the user is another kind.

    The kind is the primary role's (the first role when none is marked
    primary); a user with both staff and guardian roles is staff.
    """
    vendor_id = _id(obj)
    roles = _roles(obj)
    if vendor_id is None or not roles:
        return None
    primary = next((role for role in roles if role.primary), roles[0])
    kinds = {_kind(role.role) for role in roles}
    kind = _STAFF if {_STAFF, _GUARDIAN} <= kinds else _kind(primary.role)

    def orgs_of(of_kind: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.org_id for r in roles if r.org_id and _kind(r.role) == of_kind))

    def role_of(of_kind: str) -> str:
        if _kind(primary.role) == of_kind:
            return primary.role
        return next(r.role for r in roles if _kind(r.role) == of_kind)

    record: Person
    if kind == _STAFF and wanted is Teacher:
        record = Teacher(
            vendor_id=vendor_id,
            phone=v.text(obj.get("phone")),
            role=role_of(_STAFF),
            school_ids=orgs_of(_STAFF),
        )
    elif kind == _GUARDIAN and wanted is Guardian:
        record = Guardian(
            vendor_id=vendor_id,
            phone=v.text(obj.get("phone")),
            relationship=role_of(_GUARDIAN),
            student_ids=v.refs(obj.get("agents")),
        )
    elif kind == _STUDENT and wanted is Student:
        grades = v.strings(obj.get("grades"))
        record = Student(
            vendor_id=vendor_id,
            grade_level=v.grade(grades[0]) if grades else None,
            school_id=v.ref(obj.get("primaryOrg")) or primary.org_id,
            school_ids=orgs_of(_STUDENT),
            guardian_ids=v.refs(obj.get("agents")),
            directory_opt_out=False,
        )
    else:
        return None
    _person_fields(record, obj)
    return record


def apply_demographics(student: Student, obj: Json | None) -> None:
    """Copy a ``demographics`` object (same sourcedId as the student) onto ``student``.

    ``metadata.programs`` and ``metadata.directoryOptOut`` are Homeroom's
    extension fields, as in the CSV set's ``demographics.csv``.
    """
    if obj is None:
        return
    student.birth_date = v.date(obj.get("birthDate"))
    student.sex = v.SEXES(obj.get("sex"))
    flags = [(name, v.boolean(obj.get(name))) for name in RACES]
    student.races = (
        tuple(name for name, flag in flags if flag) if any(flag is not None for _, flag in flags) else None
    )
    student.hispanic_or_latino = v.boolean(obj.get("hispanicOrLatinoEthnicity"))
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    student.programs = tuple(item.upper() for item in v.strings(metadata.get("programs")))
    student.directory_opt_out = bool(v.boolean(metadata.get("directoryOptOut")))


# -- enrollments and gradebook -----------------------------------------------


def enrollment(obj: Json) -> Enrollment | None:
    """An ``enrollment`` object."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    return Enrollment(
        vendor_id=vendor_id,
        role=v.ENROLLMENT_ROLES(obj.get("role")),
        primary=v.boolean(obj.get("primary")),
        begin_date=v.date(obj.get("beginDate")),
        end_date=v.date(obj.get("endDate")),
        section_id=v.ref(obj.get("class")),
        person_id=v.ref(obj.get("user")),
        school_id=v.ref(obj.get("school")),
    )


def assignment(obj: Json, category_titles: Mapping[str, str]) -> Assignment | None:
    """A ``lineItem`` object; its category becomes the category's title.

    1.1 names the period ``gradingPeriod``, 1.2 also ``academicSession``.
    """
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    category_id = v.ref(obj.get("category"))
    return Assignment(
        vendor_id=vendor_id,
        title=v.text(obj.get("title")),
        description=v.text(obj.get("description")),
        assign_date=v.datetime(obj.get("assignDate")),
        due_date=v.datetime(obj.get("dueDate")),
        category=category_titles.get(category_id) if category_id else None,
        points_possible=v.number(obj.get("resultValueMax")),
        section_id=v.ref(obj.get("class")),
        grading_period_id=v.ref(obj.get("gradingPeriod")) or v.ref(obj.get("academicSession")),
    )


def score(obj: Json, section_of_line_item: Mapping[str, str]) -> Score | None:
    """A ``result`` object. 1.1 results name no class: the line item's is used."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    assignment_id = v.ref(obj.get("lineItem"))
    section_id = v.ref(obj.get("class"))
    if section_id is None and assignment_id is not None:
        section_id = section_of_line_item.get(assignment_id)
    return Score(
        vendor_id=vendor_id,
        assignment_id=assignment_id,
        student_id=v.ref(obj.get("student")),
        section_id=section_id,
        score=v.number(obj.get("score")),
        score_status=v.SCORE_STATUSES(obj.get("scoreStatus")),
        late=v.boolean(obj.get("late")),
        missing=v.boolean(obj.get("missing")),
        submitted_at=v.datetime(obj.get("scoreDate")),
        comment=v.text(obj.get("comment")),
    )


def course_grade(obj: Json) -> CourseGrade | None:
    """A ``courseGrade`` object (Homeroom extension endpoint)."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    return CourseGrade(
        vendor_id=vendor_id,
        student_id=v.ref(obj.get("student")),
        section_id=v.ref(obj.get("class")),
        term_id=v.ref(obj.get("academicSession")),
        letter_grade=v.text(obj.get("letterGrade")),
        percent=v.number(obj.get("percent")),
    )


def attendance_event(obj: Json) -> AttendanceEvent | None:
    """An ``attendance`` object (Homeroom extension endpoint)."""
    vendor_id = _id(obj)
    if vendor_id is None:
        return None
    return AttendanceEvent(
        vendor_id=vendor_id,
        student_id=v.ref(obj.get("user")),
        date=v.date(obj.get("date")),
        status=v.ATTENDANCE_STATUSES(obj.get("attendanceStatus")),
        section_id=v.ref(obj.get("class")),
        school_id=v.ref(obj.get("school")),
    )
