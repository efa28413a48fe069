"""Ed-Fi query-by-example: the property values a resource can be searched by.

``GET /students?studentUniqueId=604822`` returns the students whose property
equals the value. Properties of a reference are searched by their own name,
without the reference's (``?schoolId=``, not ``?schoolReference.schoolId=``);
where two references of a resource share a name, Ed-Fi renames one of them
(a grade's grading period year is ``gradingPeriodSchoolYear``). This module
computes those searchable values of an item, so the simulator can answer
searches and the adapter can apply the same search to a collection it read
whole (when that is cheaper than one search per value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters.edfi._keys import text

__all__ = ["Params", "lifted", "matches_any", "searchable"]

Params = Mapping[str, str]
"""One search: property name -> value, AND-ed."""

# (resource, reference, property) -> the name Ed-Fi gives the search parameter.
_RENAMED: dict[tuple[str, str, str], str] = {
    ("grades", "gradingPeriodReference", "schoolYear"): "gradingPeriodSchoolYear",
    ("sections", "locationReference", "classroomIdentificationCode"): "locationClassroomIdentificationCode",
    ("sections", "locationReference", "schoolId"): "locationSchoolId",
    ("sections", "locationSchoolReference", "schoolId"): "locationSchoolId",
    ("schools", "localEducationAgencyReference", "localEducationAgencyId"): "localEducationAgencyId",
    (
        "studentSpecialEducationProgramAssociations",
        "programReference",
        "educationOrganizationId",
    ): "programEducationOrganizationId",
}


def lifted(resource: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """Search parameter -> value (as the item holds it) of one item of ``resource``.

    Scalars at the top level keep their names; a reference's scalars are
    lifted (the first reference naming a property wins, as key references
    come first). Lists and extensions are not searchable.
    """
    found: dict[str, Any] = {}
    for name, value in item.items():
        if name.startswith("_") or name == "link":
            continue
        if isinstance(value, Mapping):
            if not name.endswith("Reference"):
                continue
            for inner, inner_value in value.items():
                if inner != "link" and text(inner_value) is not None:
                    found.setdefault(_RENAMED.get((resource, name, str(inner)), str(inner)), inner_value)
            continue
        if text(value) is not None:
            found.setdefault(name, value)
    return found


def searchable(resource: str, item: Mapping[str, Any]) -> dict[str, str]:
    """Search parameter -> value as text (what a query string carries) of one item of ``resource``."""
    return {name: str(text(value)) for name, value in lifted(resource, item).items()}


def matches_any(resource: str, item: Mapping[str, Any], searches: Iterable[Params]) -> bool:
    """Whether ``item`` is found by at least one of ``searches``."""
    values = searchable(resource, item)
    return any(all(values.get(name) == value for name, value in search.items()) for search in searches)
