"""Where each unified entity lives in a OneRoster API, and how its attributes
and filters translate: endpoint, envelope key, ``fields=`` names and the
``filter=`` fields a request may be pushed down to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.sdk import Entity

__all__ = [
    "DATE_FROM",
    "DATE_TO",
    "EXTENSION_PREFIX",
    "SEARCH",
    "Resource",
    "categories",
    "demographics",
    "line_items",
    "prefixes",
    "resources",
]

DATE_FROM = "date_from"
DATE_TO = "date_to"
SEARCH = "search"  # free text over a person's names: filtered in the hub (see adapter)
EXTENSION_PREFIX = "ims/oneroster/x-homeroom/v1/"

_PERSON = {
    "given_name": ("givenName",),
    "family_name": ("familyName",),
    "middle_name": ("middleName",),
    "email": ("email",),
    "username": ("username",),
    "identifier": ("identifier",),
    "enabled": ("enabledUser",),
}


@dataclass(frozen=True, slots=True)
class Resource:
    """One collection endpoint.

    - ``path``: relative to the provider's ``base_url``, e.g.
      ``ims/oneroster/rostering/v1p2/students``.
    - ``key``: the envelope's collection key (``users`` for ``/students``).
    - ``fields``: unified attribute -> the vendor fields it is read from.
    - ``always``: vendor fields every request selects (id, status, and what
      decides a user's kind).
    - ``filters``: unified filter -> the vendor filter field it is pushed to.
      Other declared filters are applied by the adapter after reading.
    - ``exact``: whether the endpoint's ``X-Total-Count`` counts exactly the
      records of this entity (``/users`` also holds the other kinds of people).
    """

    entity: Entity | None
    path: str
    key: str
    fields: Mapping[str, tuple[str, ...]]
    always: tuple[str, ...] = ("sourcedId", "status")
    filters: Mapping[str, str] = field(default_factory=dict)
    exact: bool = True
    extension: bool = False

    def vendor_fields(self, attributes: frozenset[str]) -> str:
        """The ``fields=`` value selecting ``attributes`` (comma-separated, stable order)."""
        wanted = set(self.always)
        for attribute in attributes:
            wanted.update(self.fields.get(attribute, ()))
        return ",".join(sorted(wanted))


def prefixes(version: str) -> tuple[str, str]:
    """(rostering, gradebook) path prefixes of a OneRoster version."""
    if version == "1.1":
        return "ims/oneroster/v1p1/", "ims/oneroster/v1p1/"
    return "ims/oneroster/rostering/v1p2/", "ims/oneroster/gradebook/v1p2/"


def _people(version: str, own: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    fields = {**_PERSON, **own}
    fields["preferred_name"] = ("preferredFirstName",) if version == "1.2" else ()
    return fields


def resources(version: str) -> dict[Entity, Resource]:
    """Every entity's resource for ``version`` ("1.1" or "1.2")."""
    rostering, gradebook = prefixes(version)
    v12 = version == "1.2"
    kind = ("roles", "primaryOrg") if v12 else ("role", "orgs")
    return {
        Entity.ORGANIZATION: Resource(
            Entity.ORGANIZATION,
            rostering + "orgs",
            "orgs",
            {"name": ("name",), "type": ("type",), "identifier": ("identifier",), "parent_id": ("parent",)},
            filters={"type": "type", "parent_id": "parent.sourcedId"},
        ),
        Entity.ACADEMIC_SESSION: Resource(
            Entity.ACADEMIC_SESSION,
            rostering + "academicSessions",
            "academicSessions",
            {
                "title": ("title",),
                "type": ("type",),
                "start_date": ("startDate",),
                "end_date": ("endDate",),
                "school_year": ("schoolYear",),
                "parent_id": ("parent",),
            },
            filters={"type": "type", "parent_id": "parent.sourcedId"},
        ),
        Entity.COURSE: Resource(
            Entity.COURSE,
            rostering + "courses",
            "courses",
            {
                "title": ("title",),
                "course_code": ("courseCode",),
                "grades": ("grades",),
                "subjects": ("subjects",),
                "org_id": ("org",),
                "school_year_id": ("schoolYear",),
            },
            filters={"org_id": "org.sourcedId"},
        ),
        Entity.SECTION: Resource(
            Entity.SECTION,
            rostering + "classes",
            "classes",
            {
                "title": ("title",),
                "class_code": ("classCode",),
                "class_type": ("classType",),
                "location": ("location",),
                "periods": ("periods",),
                "subjects": ("subjects",),
                "grades": ("grades",),
                "course_id": ("course",),
                "school_id": ("school",),
                "term_ids": ("terms",),
            },
            filters={
                "school_id": "school.sourcedId",
                "course_id": "course.sourcedId",
                "term_ids": "terms.sourcedId",
            },
        ),
        Entity.STUDENT: Resource(
            Entity.STUDENT,
            rostering + "students",
            "users",
            _people(
                version,
                {
                    "grade_level": ("grades",),
                    "school_id": kind,
                    "school_ids": kind,
                    "guardian_ids": ("agents",),
                },
            ),
            always=("sourcedId", "status", *kind),
            filters={"email": "email"},
        ),
        Entity.TEACHER: Resource(
            Entity.TEACHER,
            rostering + "users",
            "users",
            _people(version, {"phone": ("phone",), "role": kind, "school_ids": kind}),
            always=("sourcedId", "status", *kind),
            filters={"email": "email"},
            exact=False,
        ),
        Entity.GUARDIAN: Resource(
            Entity.GUARDIAN,
            rostering + "users",
            "users",
            _people(version, {"phone": ("phone",), "relationship": kind, "student_ids": ("agents",)}),
            always=("sourcedId", "status", *kind),
            filters={"email": "email"},
            exact=False,
        ),
        Entity.ENROLLMENT: Resource(
            Entity.ENROLLMENT,
            rostering + "enrollments",
            "enrollments",
            {
                "role": ("role",),
                "primary": ("primary",),
                "begin_date": ("beginDate",),
                "end_date": ("endDate",),
                "section_id": ("class",),
                "person_id": ("user",),
                "school_id": ("school",),
            },
            filters={
                "section_id": "class.sourcedId",
                "person_id": "user.sourcedId",
                "role": "role",
                "school_id": "school.sourcedId",
            },
        ),
        Entity.ASSIGNMENT: Resource(
            Entity.ASSIGNMENT,
            gradebook + "lineItems",
            "lineItems",
            {
                "title": ("title",),
                "description": ("description",),
                "assign_date": ("assignDate",),
                "due_date": ("dueDate",),
                "category": ("category",),
                "points_possible": ("resultValueMax",),
                "section_id": ("class",),
                "grading_period_id": ("gradingPeriod", "academicSession") if v12 else ("gradingPeriod",),
            },
            filters={"section_id": "class.sourcedId"},
        ),
        Entity.SCORE: Resource(
            Entity.SCORE,
            gradebook + "results",
            "results",
            {
                "assignment_id": ("lineItem",),
                "student_id": ("student",),
                # 1.1 results name no class: the line item's class is looked up.
                "section_id": ("class", "lineItem") if v12 else ("lineItem",),
                "score": ("score",),
                "score_status": ("scoreStatus",),
                "late": ("late",) if v12 else (),
                "missing": ("missing",) if v12 else (),
                "submitted_at": ("scoreDate",),
                "comment": ("comment",),
            },
            filters={
                "student_id": "student.sourcedId",
                "assignment_id": "lineItem.sourcedId",
                **({"section_id": "class.sourcedId"} if v12 else {}),
            },
        ),
        Entity.COURSE_GRADE: Resource(
            Entity.COURSE_GRADE,
            EXTENSION_PREFIX + "courseGrades",
            "courseGrades",
            {
                "student_id": ("student",),
                "section_id": ("class",),
                "term_id": ("academicSession",),
                "letter_grade": ("letterGrade",),
                "percent": ("percent",),
            },
            filters={
                "student_id": "student.sourcedId",
                "section_id": "class.sourcedId",
                "term_id": "academicSession.sourcedId",
            },
            extension=True,
        ),
        Entity.ATTENDANCE_EVENT: Resource(
            Entity.ATTENDANCE_EVENT,
            EXTENSION_PREFIX + "attendance",
            "attendance",
            {
                "student_id": ("user",),
                "date": ("date",),
                "status": ("attendanceStatus",),
                "section_id": ("class",),
                "school_id": ("school",),
            },
            filters={
                "student_id": "user.sourcedId",
                "section_id": "class.sourcedId",
                "school_id": "school.sourcedId",
                DATE_FROM: "date",
                DATE_TO: "date",
            },
            extension=True,
        ),
    }


def demographics(version: str) -> Resource:
    """``/demographics``: joined onto students for the demographic attributes."""
    rostering, _ = prefixes(version)
    races = (
        *("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican"),
        *("nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces"),
    )
    # Per attribute, so that only what the hub asks for is asked of the vendor
    # (a field no grant reads is never requested).
    fields = {
        "birth_date": ("birthDate",),
        "sex": ("sex",),
        "hispanic_or_latino": ("hispanicOrLatinoEthnicity",),
        "races": races,
        "programs": ("metadata",),
        "directory_opt_out": ("metadata",),
    }
    return Resource(None, rostering + "demographics", "demographics", fields)


def categories(version: str) -> Resource:
    """``/categories``: joined onto line items for the category title."""
    _, gradebook = prefixes(version)
    return Resource(None, gradebook + "categories", "categories", {"*": ("title",)})


def line_items(version: str) -> Resource:
    """``/lineItems`` read for their class only (1.1 results name none)."""
    _, gradebook = prefixes(version)
    return Resource(None, gradebook + "lineItems", "lineItems", {"*": ("class",)})
