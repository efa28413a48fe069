"""The natural keys of Ed-Fi resources, as change queries report them.

An ODS/API ``/deletes`` row names a deleted item by its resource ``id`` and
its natural key (``keyValues``), ``/keyChanges`` by its old and new key. The
key's property names are the item's search parameters that the resource
description marks ``x-Ed-Fi-isIdentity`` (reference properties lifted,
``gradingPeriodSchoolYear`` renamed as in searches); :data:`IDENTITY` lists
them per resource, from the DS 5.0 description, with DS 4's differences.

:func:`key_values` computes them from an item (the simulator's tombstones,
and its stable ``id``s); :func:`vendor_id` turns them back into the vendor id
the adapter builds for the live item (:mod:`adapters.edfi._keys`), so a delete
reaches the mirror under the id a full read stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.edfi._keys import code_value, make_id
from adapters.edfi._query import lifted

__all__ = ["IDENTITY", "identity_names", "key_values", "vendor_id"]

_SECTION = ("localCourseCode", "schoolId", "schoolYear", "sectionIdentifier", "sessionName")

IDENTITY: dict[str, tuple[str, ...]] = {
    "localEducationAgencies": ("localEducationAgencyId",),
    "schools": ("schoolId",),
    "gradingPeriods": ("gradingPeriodDescriptor", "gradingPeriodName", "schoolId", "schoolYear"),
    "sessions": ("sessionName", "schoolId", "schoolYear"),
    "courses": ("courseCode", "educationOrganizationId"),
    "courseOfferings": ("localCourseCode", "schoolId", "schoolYear", "sessionName"),
    "sections": ("sectionIdentifier", "localCourseCode", "schoolId", "schoolYear", "sessionName"),
    "students": ("studentUniqueId",),
    "studentEducationOrganizationAssociations": ("educationOrganizationId", "studentUniqueId"),
    "studentSchoolAssociations": ("entryDate", "schoolId", "studentUniqueId"),
    "studentSpecialEducationProgramAssociations": (
        *("beginDate", "educationOrganizationId", "programEducationOrganizationId"),
        *("programName", "programTypeDescriptor", "studentUniqueId"),
    ),
    "staffs": ("staffUniqueId",),
    "staffEducationOrganizationAssignmentAssociations": (
        *("staffClassificationDescriptor", "beginDate", "educationOrganizationId", "staffUniqueId"),
    ),
    "contacts": ("contactUniqueId",),
    "studentContactAssociations": ("contactUniqueId", "studentUniqueId"),
    "parents": ("parentUniqueId",),
    "studentParentAssociations": ("parentUniqueId", "studentUniqueId"),
    "staffSectionAssociations": ("beginDate", *_SECTION, "staffUniqueId"),
    "studentSectionAssociations": ("beginDate", *_SECTION, "studentUniqueId"),
    "gradebookEntries": ("gradebookEntryIdentifier", "namespace"),
    "studentGradebookEntries": ("gradebookEntryIdentifier", "namespace", "studentUniqueId"),
    "grades": (
        *("gradeTypeDescriptor", "gradingPeriodDescriptor", "gradingPeriodName", "gradingPeriodSchoolYear"),
        *("beginDate", *_SECTION, "studentUniqueId"),
    ),
    "studentSchoolAttendanceEvents": (
        *("attendanceEventCategoryDescriptor", "eventDate", "schoolId", "schoolYear", "sessionName"),
        "studentUniqueId",
    ),
    "studentSectionAttendanceEvents": (
        *("attendanceEventCategoryDescriptor", "eventDate", *_SECTION, "studentUniqueId"),
    ),
}
"""Resource -> the names of its natural key (DS 5.0; see :func:`identity_names` for DS 4)."""


def identity_names(resource: str, data_standard: str) -> tuple[str, ...]:
    """The natural key of ``resource`` in a data standard: DS 4 numbers grading
    periods (``periodSequence``) where DS 5 names them."""
    names = IDENTITY.get(resource, ())
    if data_standard == "4":
        names = tuple("periodSequence" if name == "gradingPeriodName" else name for name in names)
    return names


def key_values(resource: str, item: Mapping[str, Any], data_standard: str) -> dict[str, Any]:
    """The natural key of ``item`` (an item of ``resource``), values as the item holds them."""
    values = lifted(resource, item)
    return {name: values[name] for name in identity_names(resource, data_standard) if name in values}


@dataclass(frozen=True, slots=True)
class _Part:
    """One part of a vendor id: the first of ``names`` the key holds; a descriptor reduced to its code."""

    names: tuple[str, ...]
    descriptor: bool = False


def _parts(*names: str) -> tuple[_Part, ...]:
    return tuple(_Part((name,), descriptor=name.endswith("Descriptor")) for name in names)


_PERIOD_NAME = _Part(("gradingPeriodName", "periodSequence"))
_SECTION_PARTS = _parts("localCourseCode", "schoolId", "schoolYear", "sessionName", "sectionIdentifier")

# Resource -> (id kind, parts), in the order adapters.edfi._keys writes them.
_VENDOR_IDS: dict[str, tuple[str, tuple[_Part, ...]]] = {
    "localEducationAgencies": ("edorg", _parts("localEducationAgencyId")),
    "schools": ("edorg", _parts("schoolId")),
    "sessions": ("session", _parts("schoolId", "schoolYear", "sessionName")),
    "gradingPeriods": (
        "gradingPeriod",
        (*_parts("schoolId", "schoolYear", "gradingPeriodDescriptor"), _PERIOD_NAME),
    ),
    "courses": ("course", _parts("educationOrganizationId", "courseCode")),
    "sections": ("section", _SECTION_PARTS),
    "students": ("student", _parts("studentUniqueId")),
    "staffs": ("staff", _parts("staffUniqueId")),
    "contacts": ("contact", _parts("contactUniqueId")),
    "parents": ("parent", _parts("parentUniqueId")),
    "studentSectionAssociations": (
        "studentSectionAssociation",
        (*_parts("studentUniqueId"), *_SECTION_PARTS, *_parts("beginDate")),
    ),
    "staffSectionAssociations": (
        "staffSectionAssociation",
        (*_parts("staffUniqueId"), *_SECTION_PARTS, *_parts("beginDate")),
    ),
    "gradebookEntries": ("gradebookEntry", _parts("namespace", "gradebookEntryIdentifier")),
    "studentGradebookEntries": (
        "studentGradebookEntry",
        _parts("namespace", "gradebookEntryIdentifier", "studentUniqueId"),
    ),
    "grades": (
        "grade",
        (
            *_parts("studentUniqueId"),
            *_SECTION_PARTS,
            *_parts("beginDate", "schoolId", "gradingPeriodSchoolYear", "gradingPeriodDescriptor"),
            _PERIOD_NAME,
            *_parts("gradeTypeDescriptor"),
        ),
    ),
    "studentSchoolAttendanceEvents": (
        "studentSchoolAttendanceEvent",
        _parts(
            *("studentUniqueId", "schoolId", "schoolYear", "sessionName", "eventDate"),
            "attendanceEventCategoryDescriptor",
        ),
    ),
    "studentSectionAttendanceEvents": (
        "studentSectionAttendanceEvent",
        (
            *_parts("studentUniqueId"),
            *_SECTION_PARTS,
            *_parts("eventDate", "attendanceEventCategoryDescriptor"),
        ),
    ),
}

# A date an ODS wrote as a midnight date-time ("2021-08-23T00:00:00"): the item itself has the date.
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?(?:Z|[+-]00:?00)?$")


def _value(part: _Part, values: Mapping[str, Any]) -> Any:
    value = next((values[name] for name in part.names if values.get(name) not in (None, "")), None)
    if part.descriptor:
        return code_value(value)
    if isinstance(value, str) and (midnight := _MIDNIGHT.match(value)):
        return midnight.group(1)
    return value


def vendor_id(resource: str, values: Mapping[str, Any]) -> str | None:
    """The vendor id of the ``resource`` item whose natural key is ``values``
    (``None`` when a part is missing, or the resource is not one an entity is read from)."""
    known = _VENDOR_IDS.get(resource)
    if known is None:
        return None
    kind, parts = known
    return make_id(kind, *(_value(part, values) for part in parts))
