"""Which Ed-Fi collections serve each unified entity, and how a request's ids
and filters become Ed-Fi searches.

A filter value is a vendor id (see :mod:`adapters.edfi._keys`), so it carries
the natural key to search by: ``section_id`` ``section/ALG-1/255901001/...``
becomes ``?localCourseCode=ALG-1&schoolId=255901001&...``. A search function
returns ``None`` when no item of that collection can have the value (a staff
id asked of student enrolments); such a collection is then not read.

Some filters are attributes of an association, not of the collection itself
(a student's school is on ``studentSchoolAssociations``): a :class:`Via`
searches the association first and turns what it finds into searches of the
collection. Anything not pushed is filtered by the adapter after reading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.edfi._keys import parse_id
from adapters.edfi._query import Params
from hub.sdk import Entity

__all__ = [
    "SECTION_FIELDS",
    "SEOA_FIELDS",
    "SSA_FIELDS",
    "GuardianNames",
    "Source",
    "Via",
    "guardian_names",
    "sources",
]

SECTION_FIELDS = ("localCourseCode", "schoolId", "schoolYear", "sessionName", "sectionIdentifier")
SEOA_FIELDS = frozenset(
    {"sex", "races", "hispanic_or_latino", "email", "username", "programs", "directory_opt_out"}
)
"""Student attributes built from their education organization associations."""
SSA_FIELDS = frozenset({"grade_level", "school_id", "school_ids"})
"""Student attributes built from their school associations."""

Search = Callable[[str], Params | None]
IdSearch = Callable[[tuple[str, ...]], Params | None]


@dataclass(frozen=True, slots=True)
class GuardianNames:
    """DS 4 calls guardians parents, DS 5 contacts."""

    kind: str  # "parent" | "contact": the id kind and the property prefix
    resource: str  # "parents" | "contacts"
    links: str  # "studentParentAssociations" | "studentContactAssociations"

    @property
    def unique_id(self) -> str:
        """``parentUniqueId`` / ``contactUniqueId``."""
        return f"{self.kind}UniqueId"

    @property
    def reference(self) -> str:
        """``parentReference`` / ``contactReference``."""
        return f"{self.kind}Reference"


def guardian_names(data_standard: str) -> GuardianNames:
    """The guardian collections of a data standard (``"4"`` or ``"5"``)."""
    if data_standard == "4":
        return GuardianNames("parent", "parents", "studentParentAssociations")
    return GuardianNames("contact", "contacts", "studentContactAssociations")


@dataclass(frozen=True, slots=True)
class Via:
    """A filter answered through an association collection."""

    resource: str
    search: Search  # filter value -> search of the association
    target: Callable[[Mapping[str, Any]], Params | None]  # association item -> search of the source


@dataclass(frozen=True, slots=True)
class Source:
    """One collection serving an entity: the kind of its ids, and its searches."""

    resource: str
    kind: str
    id_search: IdSearch
    pushes: Mapping[str, Search] = field(default_factory=dict)
    vias: Mapping[str, Via] = field(default_factory=dict)

    def by_id(self, vendor_id: str) -> Params | None:
        """The search finding ``vendor_id`` (``None`` when it is not of this collection)."""
        kind, parts = parse_id(vendor_id)
        return self.id_search(parts) if kind == self.kind else None


def _of_kind(kind: str, *names: str) -> Search:
    """A search for a vendor id of ``kind`` whose parts are the properties ``names``."""

    def search(value: str) -> Params | None:
        found, parts = parse_id(value)
        if found != kind or len(parts) != len(names):
            return None
        return dict(zip(names, parts, strict=True))

    return search


def _parts(*names: str) -> IdSearch:
    """An id search: the first ``len(names)`` parts are those properties (the rest
    of the key, descriptors, is checked on the items found)."""

    def search(parts: tuple[str, ...]) -> Params | None:
        if len(parts) < len(names):
            return None
        return dict(zip(names, parts[: len(names)], strict=True))

    return search


def _student_of(item: Mapping[str, Any]) -> Params | None:
    value = (item.get("studentReference") or {}).get("studentUniqueId")
    return {"studentUniqueId": str(value)} if value not in (None, "") else None


def _unique_of(reference: str, name: str) -> Callable[[Mapping[str, Any]], Params | None]:
    def read(item: Mapping[str, Any]) -> Params | None:
        value = (item.get(reference) or {}).get(name)
        return {name: str(value)} if value not in (None, "") else None

    return read


def _entry_of(item: Mapping[str, Any]) -> Params | None:
    namespace, identifier = item.get("namespace"), item.get("gradebookEntryIdentifier")
    if namespace in (None, "") or identifier in (None, ""):
        return None
    return {"namespace": str(namespace), "gradebookEntryIdentifier": str(identifier)}


def _session_search(value: str) -> Params | None:
    return _of_kind("session", "schoolId", "schoolYear", "sessionName")(value)


def _grading_period_search(value: str) -> Params | None:
    kind, parts = parse_id(value)
    if kind != "gradingPeriod" or len(parts) != 4:
        return None
    return {"schoolId": parts[0], "gradingPeriodSchoolYear": parts[1]}


_SECTION = _of_kind("section", *SECTION_FIELDS)
_SCHOOL = _of_kind("edorg", "schoolId")


def sources(data_standard: str) -> dict[Entity, tuple[Source, ...]]:
    """The collections of each entity read through searches (the catalogue
    entities, organisations, sessions and courses, are read whole instead)."""
    names = guardian_names(data_standard)
    student = _of_kind("student", "studentUniqueId")
    staff = _of_kind("staff", "staffUniqueId")
    return {
        Entity.SECTION: (
            Source(
                "sections",
                "section",
                _parts(*SECTION_FIELDS),
                pushes={"school_id": _SCHOOL, "term_ids": _session_search},
            ),
        ),
        Entity.STUDENT: (
            Source(
                "students",
                "student",
                _parts("studentUniqueId"),
                vias={
                    "school_id": Via("studentSchoolAssociations", _SCHOOL, _student_of),
                    "guardian_ids": Via(names.links, _of_kind(names.kind, names.unique_id), _student_of),
                },
            ),
        ),
        Entity.TEACHER: (
            Source(
                "staffs",
                "staff",
                _parts("staffUniqueId"),
                vias={
                    "school_ids": Via(
                        "staffEducationOrganizationAssignmentAssociations",
                        _of_kind("edorg", "educationOrganizationId"),
                        _unique_of("staffReference", "staffUniqueId"),
                    )
                },
            ),
        ),
        Entity.GUARDIAN: (
            Source(
                names.resource,
                names.kind,
                _parts(names.unique_id),
                vias={"student_ids": Via(names.links, student, _unique_of(names.reference, names.unique_id))},
            ),
        ),
        Entity.ENROLLMENT: (
            Source(
                "studentSectionAssociations",
                "studentSectionAssociation",
                _parts("studentUniqueId", *SECTION_FIELDS, "beginDate"),
                pushes={"section_id": _SECTION, "person_id": student, "school_id": _SCHOOL},
            ),
            Source(
                "staffSectionAssociations",
                "staffSectionAssociation",
                _parts("staffUniqueId", *SECTION_FIELDS, "beginDate"),
                pushes={"section_id": _SECTION, "person_id": staff, "school_id": _SCHOOL},
            ),
        ),
        Entity.ASSIGNMENT: (
            Source(
                "gradebookEntries",
                "gradebookEntry",
                _parts("namespace", "gradebookEntryIdentifier"),
                pushes={"section_id": _SECTION},
            ),
        ),
        Entity.SCORE: (
            Source(
                "studentGradebookEntries",
                "studentGradebookEntry",
                _parts("namespace", "gradebookEntryIdentifier", "studentUniqueId"),
                pushes={
                    "student_id": student,
                    "assignment_id": _of_kind("gradebookEntry", "namespace", "gradebookEntryIdentifier"),
                },
                vias={"section_id": Via("gradebookEntries", _SECTION, _entry_of)},
            ),
        ),
        Entity.COURSE_GRADE: (
            Source(
                "grades",
                "grade",
                _parts("studentUniqueId", *SECTION_FIELDS, "beginDate"),
                pushes={"student_id": student, "section_id": _SECTION, "term_id": _grading_period_search},
            ),
        ),
        Entity.ATTENDANCE_EVENT: (
            Source(
                "studentSchoolAttendanceEvents",
                "studentSchoolAttendanceEvent",
                _parts("studentUniqueId", "schoolId", "schoolYear", "sessionName", "eventDate"),
                pushes={"student_id": student, "school_id": _SCHOOL, "section_id": lambda value: None},
            ),
            Source(
                "studentSectionAttendanceEvents",
                "studentSectionAttendanceEvent",
                _parts("studentUniqueId", *SECTION_FIELDS, "eventDate"),
                pushes={"student_id": student, "school_id": _SCHOOL, "section_id": _SECTION},
            ),
        ),
    }
