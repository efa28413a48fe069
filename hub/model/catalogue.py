"""Which record attributes each GraphQL field needs from a source.

The policy gate decides on ``Type.field``; adapters are asked for record
attributes. This table is the bridge, so that a field the caller may not read
never turns into an attribute an adapter is asked to fill.
"""

from __future__ import annotations

import re
from functools import cache

from hub.model import RECORD_TYPES, Entity, data_fields

# Fields whose values come from link attributes or from other entities.
_LINKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Organization", "parent"): ("parent_id",),
    ("Organization", "children"): (),
    ("AcademicSession", "parent"): ("parent_id",),
    ("Course", "org"): ("org_id",),
    ("Section", "course"): ("course_id",),
    ("Section", "school"): ("school_id",),
    ("Section", "terms"): ("term_ids",),
    ("Student", "school"): ("school_id",),
    ("Student", "guardians"): ("guardian_ids",),
    ("Teacher", "schools"): ("school_ids",),
    ("Guardian", "students"): ("student_ids",),
    ("Enrollment", "section"): ("section_id",),
    ("Enrollment", "person"): ("person_id",),
    ("Assignment", "section"): ("section_id",),
    # The assignment's section comes with it: a score is in its assignment's section.
    ("Score", "assignment"): ("assignment_id", "section_id"),
    ("Score", "student"): ("student_id",),
    ("CourseGrade", "student"): ("student_id",),
    ("CourseGrade", "section"): ("section_id",),
    ("CourseGrade", "term"): ("term_id",),
    ("AttendanceEvent", "student"): ("student_id",),
    ("AttendanceEvent", "section"): ("section_id",),
    ("AttendanceEvent", "school"): ("school_id",),
}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    """``givenName`` -> ``given_name``."""
    return _CAMEL.sub("_", name).lower()


@cache
def attributes_for(type_name: str, field_name: str) -> tuple[str, ...]:
    """Record attributes needed to answer ``type_name.field_name`` (maybe none)."""
    link = _LINKS.get((type_name, field_name))
    if link is not None:
        return link
    try:
        record_type = RECORD_TYPES[Entity(type_name)]
    except ValueError:
        return ()
    attribute = snake(field_name)
    return (attribute,) if attribute in data_fields(record_type) else ()


def attributes_for_fields(type_name: str, field_names: frozenset[str]) -> frozenset[str]:
    """Union of :func:`attributes_for` over ``field_names``."""
    out: set[str] = set()
    for name in field_names:
        out.update(attributes_for(type_name, name))
    return frozenset(out)
