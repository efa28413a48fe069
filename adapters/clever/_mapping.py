"""One Clever v3 object -> unified records.

Builders read every attribute they can; the adapter projects the records to
the fields asked for afterwards. A builder returns ``None`` (or nothing) for
an object it cannot use: no ``id``, or a user without the role asked for. It
never raises on a value: unreadable values become ``None``.

Rules worth knowing:

- People are Clever *users*; one user may hold several roles. A user with a
  ``teacher``, ``district_admin`` or ``staff`` role is a :class:`Teacher`,
  and when several apply the first in that order names its ``role``
  (``teacher``, ``districtAdministrator``, or the staff member's own role).
- A contact's ``student_relationships`` become :class:`Guardian.student_ids`;
  a link typed ``Emergency`` counts only when the relationship is ``Parent``
  or ``emergency_contacts_are_guardians`` is set.
- Sections carry their roster as ``teachers``/``students`` arrays: each id
  becomes an :class:`Enrollment` whose vendor id is
  ``<section id>:<role>:<user id>`` (Clever has no enrollment object).
- A person's ``identifier`` is the configured key (``sis_id``, a staff
  member's ``staff_id``, or ``state_id``); a school's is its state id (else
  its NCES id), a district's its NCES id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.clever import _values as v
from hub.sdk import (
    AcademicSession,
    Course,
    Enrollment,
    Guardian,
    Organization,
    Person,
    Section,
    Student,
    Teacher,
)

__all__ = [
    "STAFF_KINDS",
    "Json",
    "Options",
    "course",
    "district",
    "enrollment_id",
    "enrollments",
    "guardian",
    "school",
    "section",
    "section_of_enrollment",
    "session",
    "student",
    "teacher",
    "unwrap",
]

Json = Mapping[str, Any]

STAFF_KINDS = ("teacher", "district_admin", "staff")
"""Clever roles that make a user a :class:`Teacher`, in the order that names its role."""

DISTRICT_ADMIN = "districtAdministrator"
# Staff roles Clever may name (folded) -> OneRoster's staff vocabulary.
_STAFF_ROLES = {
    "principal": "principal",
    "counselor": "counselor",
    "administrator": "administrator",
    "schooladmin": "siteAdministrator",
    "schooladministrator": "siteAdministrator",
    "siteadministrator": "siteAdministrator",
    "districtadmin": DISTRICT_ADMIN,
    "districtadministrator": DISTRICT_ADMIN,
    "systemadministrator": "systemAdministrator",
    "aide": "aide",
    "paraprofessional": "aide",
    "proctor": "proctor",
}
_RELATIVES = frozenset({"grandparent", "auntuncle", "sibling"})


@dataclass(frozen=True, slots=True)
class Options:
    """The configuration the builders follow."""

    identifier: str = "sis_id"
    emergency_contacts_are_guardians: bool = False


def _fold(value: Any) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum()) if isinstance(value, str) else ""


def _object(value: Any) -> Json:
    return value if isinstance(value, Mapping) else {}


def unwrap(item: Any) -> Json | None:
    """The record of a list item (``{"data": {...}, "uri": ...}``) or of a single answer."""
    if not isinstance(item, Mapping):
        return None
    inner = item.get("data")
    return inner if isinstance(inner, Mapping) else item


# -- organisations, terms, courses, sections ------------------------------------


def district(obj: Json) -> Organization | None:
    """A ``/districts`` object; its identifier is the NCES id."""
    vendor_id = v.text(obj.get("id"))
    if vendor_id is None:
        return None
    return Organization(
        vendor_id=vendor_id,
        name=v.text(obj.get("name")),
        type="district",
        identifier=v.text(obj.get("nces_id")),
    )


def school(obj: Json) -> Organization | None:
    """A ``/schools`` object, under its district."""
    vendor_id = v.text(obj.get("id"))
    if vendor_id is None:
        return None
    return Organization(
        vendor_id=vendor_id,
        name=v.text(obj.get("name")),
        type="school",
        identifier=v.text(obj.get("state_id")) or v.text(obj.get("nces_id")),
        parent_id=v.text(obj.get("district")),
    )


def session(obj: Json) -> AcademicSession | None:
    """A ``/terms`` object. Clever has one kind of session, so every one is a ``term``."""
    vendor_id = v.text(obj.get("id"))
    if vendor_id is None:
        return None
    return AcademicSession(
        vendor_id=vendor_id,
        title=v.text(obj.get("name")),
        type="term",
        start_date=v.date(obj.get("start_date")),
        end_date=v.date(obj.get("end_date")),
    )


def course(obj: Json) -> Course | None:
    """A ``/courses`` object. Clever courses belong to the district, not a school."""
    vendor_id = v.text(obj.get("id"))
    if vendor_id is None:
        return None
    return Course(
        vendor_id=vendor_id,
        title=v.text(obj.get("name")) or v.text(obj.get("number")),
        course_code=v.text(obj.get("number")),
        org_id=v.text(obj.get("district")),
    )


def section(obj: Json) -> Section | None:
    """A ``/sections`` object. ``subjects`` keep Clever's subject names."""
    vendor_id = v.text(obj.get("id"))
    if vendor_id is None:
        return None
    grade = v.grade(obj.get("grade"))
    return Section(
        vendor_id=vendor_id,
        title=v.text(obj.get("name")),
        class_code=v.text(obj.get("section_number")),
        periods=v.strings(obj.get("period")),
        subjects=v.strings(obj.get("subject")),
        grades=(grade,) if grade else (),
        course_id=v.text(obj.get("course")),
        school_id=v.text(obj.get("school")),
        term_ids=v.strings(obj.get("term_id")),
    )


def enrollment_id(section_id: str, role: str, user_id: str) -> str:
    """The vendor id of the enrollment of ``user_id`` in ``section_id`` as ``role``."""
    return f"{section_id}:{role}:{user_id}"


def section_of_enrollment(vendor_id: str) -> str | None:
    """The section id inside an enrollment's vendor id (``None`` when it is not one)."""
    section_id, sep, rest = vendor_id.partition(":")
    return section_id if sep and section_id and rest.count(":") == 1 else None


def enrollments(obj: Json) -> list[Enrollment]:
    """The enrollments a section's ``teacher``/``teachers`` and ``students`` arrays stand for.

    The section's ``teacher`` (or, without one, the first of ``teachers``) is
    the primary teacher; Clever says nothing about students' primacy.
    """
    section_id = v.text(obj.get("id"))
    if section_id is None:
        return []
    school_id = v.text(obj.get("school"))
    lead = v.text(obj.get("teacher"))
    teachers = v.strings([lead, *v.strings(obj.get("teachers"))])
    rows = [
        Enrollment(
            vendor_id=enrollment_id(section_id, "teacher", user),
            role="teacher",
            primary=user == teachers[0],
            section_id=section_id,
            person_id=user,
            school_id=school_id,
        )
        for user in teachers
    ]
    rows.extend(
        Enrollment(
            vendor_id=enrollment_id(section_id, "student", user),
            role="student",
            section_id=section_id,
            person_id=user,
            school_id=school_id,
        )
        for user in v.strings(obj.get("students"))
    )
    return rows


# -- people ----------------------------------------------------------------------


def _role(obj: Json, name: str) -> Json | None:
    role = _object(obj.get("roles")).get(name)
    return role if isinstance(role, Mapping) else None


def _person(record: Person, obj: Json, role: Json, options: Options) -> None:
    name = _object(obj.get("name"))
    record.given_name = v.text(name.get("first"))
    record.middle_name = v.text(name.get("middle"))
    record.family_name = v.text(name.get("last"))
    # The user's e-mail; some payloads repeat it inside the role.
    record.email = v.text(obj.get("email")) or v.text(role.get("email"))
    record.username = v.text(_object(role.get("credentials")).get("district_username"))
    record.identifier = v.text(role.get(options.identifier))


def _programs(role: Json) -> tuple[str, ...] | None:
    """IEP, 504, ELL and FRL (in that order) from the Y/N flags and ``frl_status``.

    ``None`` when Clever sends none of them (v3.0 without the extra scopes):
    unknown is not "in no program".
    """
    frl = v.text(role.get("frl_status"))
    flags = (
        ("IEP", v.yes_no(role.get("iep_status"))),
        ("504", v.yes_no(role.get("section_504_status"))),
        ("ELL", v.yes_no(role.get("ell_status"))),
        # v3.1 spells it Free/Reduced/Paid/Other; some districts send Y/N.
        ("FRL", frl.lower() in ("free", "reduced") or v.yes_no(frl) if frl else None),
    )
    if all(flag is None for _, flag in flags):
        return None
    return tuple(program for program, flag in flags if flag)


def student(obj: Json, options: Options) -> Student | None:
    """A user with a ``student`` role. ``guardian_ids`` are joined by the adapter."""
    vendor_id = v.text(obj.get("id"))
    role = _role(obj, "student")
    if vendor_id is None or role is None:
        return None
    school_id = v.text(role.get("school"))
    preferred = role.get("preferred_name")  # v3.1: {first, middle, last}
    record = Student(
        vendor_id=vendor_id,
        preferred_name=v.text(_object(preferred).get("first")) or v.text(preferred),
        grade_level=v.grade(role.get("grade")),
        birth_date=v.date(role.get("dob")),
        sex=v.sex(role.get("gender")),
        races=v.race(role.get("race")),
        hispanic_or_latino=v.yes_no(role.get("hispanic_ethnicity")),
        programs=_programs(role),
        school_id=school_id,
        school_ids=v.strings([school_id, *v.strings(role.get("schools"))]),
    )
    _person(record, obj, role, options)
    return record


def _staff_role(role: Json) -> str:
    for name in v.strings(role.get("roles")):
        known = _STAFF_ROLES.get(_fold(name))
        if known is not None:
            return known
    return "staff"


def teacher(obj: Json, options: Options) -> Teacher | None:
    """A user with a ``teacher``, ``district_admin`` or ``staff`` role (see :data:`STAFF_KINDS`)."""
    vendor_id = v.text(obj.get("id"))
    roles = {kind: role for kind in STAFF_KINDS if (role := _role(obj, kind)) is not None}
    if vendor_id is None or not roles:
        return None
    kind, role = next(iter(roles.items()))
    named = {"teacher": "teacher", "district_admin": DISTRICT_ADMIN}.get(kind) or _staff_role(role)
    schools: list[str | None] = []
    for held in roles.values():
        schools.extend((v.text(held.get("school")), *v.strings(held.get("schools"))))
    record = Teacher(vendor_id=vendor_id, role=named, school_ids=v.strings(schools))
    _person(record, obj, role, options)
    if options.identifier == "sis_id" and kind == "staff":
        record.identifier = v.text(role.get("staff_id"))  # staff have no sis_id
    return record


def _relationship(link: Json) -> str | None:
    """Clever's relationship (and type) -> ``parent``, ``guardian`` or ``relative``."""
    relationship, kind = _fold(link.get("relationship")), _fold(link.get("type"))
    if relationship == "parent":
        return "parent"
    if relationship in _RELATIVES:
        return "relative"
    if kind == "parentguardian":
        return "guardian"
    if kind == "family":
        return "relative"
    return None


def _guardian_links(role: Json, options: Options) -> list[tuple[str, str | None]]:
    links = role.get("student_relationships")
    found: list[tuple[str, str | None]] = []
    for link in links if isinstance(links, list) else ():
        if not isinstance(link, Mapping) or (student_id := v.text(link.get("student"))) is None:
            continue
        emergency_only = (
            _fold(link.get("type")) == "emergency" and _fold(link.get("relationship")) != "parent"
        )
        if emergency_only and not options.emergency_contacts_are_guardians:
            continue
        found.append((student_id, _relationship(link)))
    return found


def guardian(obj: Json, options: Options) -> Guardian | None:
    """A user with a ``contact`` role; its relationship is that of its first guardian link."""
    vendor_id = v.text(obj.get("id"))
    role = _role(obj, "contact")
    if vendor_id is None or role is None:
        return None
    links = _guardian_links(role, options)
    record = Guardian(
        vendor_id=vendor_id,
        phone=v.text(role.get("phone")),
        relationship=next((kind for _, kind in links if kind), None),
        student_ids=v.strings([student_id for student_id, _ in links]),
    )
    _person(record, obj, role, options)  # contacts have a sis_id but never a state_id
    return record
