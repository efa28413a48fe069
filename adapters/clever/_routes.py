"""Where each unified entity lives in Clever's Data API, and how a request
becomes a list of reads (:class:`Stream`).

Every entity has whole lists (``/users?role=student``), a look-up by id
(``/users/{id}``) and, for some filters, a sub-resource that lists the
records linked to one value (``/schools/{id}/sections``): Clever's lists take
no filter but ``role``, so these sub-resources are its filters.

A stream *claims* the records that belong to it: a read of
``/schools/A/sections`` claims sections whose ``school_id`` is ``A``. A record
read from one stream is kept only if that stream claims it and no earlier
stream of the plan does, so a record found by two reads (a teacher who is
also a district admin, a section in two asked-for terms) is answered once,
without remembering anything between pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import quote

from hub.sdk import Entity, Record, filter_value

__all__ = ["FILTERS", "ROUTES", "Route", "Scope", "Shape", "Stream", "claims"]

Shape = Literal["district", "school", "term", "course", "section", "user"]
Kind = Literal["paged", "unpaged", "single"]


@dataclass(frozen=True, slots=True)
class Stream:
    """One read below the versioned root.

    - ``kind``: ``paged`` (``limit``/``starting_after``, then the body's
      ``links`` rel ``next``), ``unpaged`` (``/districts`` takes no ``limit``)
      or ``single`` (one object).
    - ``claim``: ``(attribute, value)`` a record must hold to belong to this
      stream (``value`` is, or is among, the attribute's values); ``None``
      claims everything the stream returns.
    - ``missing_ok``: a 404 means "nothing" (a look-up of an id that is gone),
      not a failure of the source.
    """

    path: str
    shape: Shape
    params: tuple[tuple[str, str], ...] = ()
    kind: Kind = "paged"
    claim: tuple[str, str] | None = None
    missing_ok: bool = False


@dataclass(frozen=True, slots=True)
class Scope:
    """A path with one ``{}`` for a value: the records linked to that value."""

    template: str
    shape: Shape
    params: tuple[tuple[str, str], ...] = ()
    kind: Kind = "paged"

    def stream(self, attribute: str, value: str) -> Stream:
        """The read for ``value``, claiming records whose ``attribute`` holds it."""
        path = self.template.format(quote(value, safe=""))
        return Stream(path, self.shape, self.params, self.kind, (attribute, value), missing_ok=True)


@dataclass(frozen=True, slots=True)
class Route:
    """How one entity is read.

    ``lists`` are read in order for a whole collection; ``by_id`` is the
    look-up of one id, whose key is the record's ``id_attribute`` (an
    enrollment is looked up through its section); ``scoped`` maps a filter
    to its sub-resource.
    """

    entity: Entity
    lists: tuple[Stream, ...]
    by_id: Scope
    id_attribute: str = "vendor_id"
    scoped: Mapping[str, Scope] = field(default_factory=dict)


def claims(stream: Stream, record: Record) -> bool:
    """Whether ``record`` belongs to ``stream`` (see :class:`Stream`)."""
    if stream.claim is None:
        return True
    attribute, value = stream.claim
    held = getattr(record, attribute, None)
    if isinstance(held, tuple):
        return any(filter_value(item) == value for item in held)
    return held is not None and filter_value(held) == value


def _users(role: str) -> Stream:
    return Stream("/users", "user", (("role", role),))


_USER = Scope("/users/{}", "user", kind="single")
_SECTION = Scope("/sections/{}", "section", kind="single")
_SECTIONS_OF = {
    "school_id": Scope("/schools/{}/sections", "section"),
    "course_id": Scope("/courses/{}/sections", "section"),
    "term_ids": Scope("/terms/{}/sections", "section"),
}

ROUTES: dict[Entity, Route] = {
    Entity.ORGANIZATION: Route(
        Entity.ORGANIZATION,
        (
            Stream("/districts", "district", kind="unpaged", claim=("type", "district")),
            Stream("/schools", "school", claim=("type", "school")),
        ),
        Scope("/schools/{}", "school", kind="single"),
    ),
    Entity.ACADEMIC_SESSION: Route(
        Entity.ACADEMIC_SESSION, (Stream("/terms", "term"),), Scope("/terms/{}", "term", kind="single")
    ),
    Entity.COURSE: Route(
        Entity.COURSE, (Stream("/courses", "course"),), Scope("/courses/{}", "course", kind="single")
    ),
    Entity.SECTION: Route(Entity.SECTION, (Stream("/sections", "section"),), _SECTION, scoped=_SECTIONS_OF),
    Entity.STUDENT: Route(
        Entity.STUDENT,
        (_users("student"),),
        _USER,
        scoped={
            "school_id": Scope("/schools/{}/users", "user", (("role", "student"),)),
            "guardian_ids": Scope("/users/{}/mystudents", "user"),
        },
    ),
    # In the order of mapping.STAFF_KINDS: a user in two lists is the first list's.
    Entity.TEACHER: Route(
        Entity.TEACHER,
        (
            replace(_users("teacher"), claim=("role", "teacher")),
            replace(_users("district_admin"), claim=("role", "districtAdministrator")),
            _users("staff"),
        ),
        _USER,
    ),
    Entity.GUARDIAN: Route(
        Entity.GUARDIAN,
        (_users("contact"),),
        _USER,
        scoped={"student_ids": Scope("/users/{}/mycontacts", "user")},
    ),
    Entity.ENROLLMENT: Route(
        Entity.ENROLLMENT,
        (Stream("/sections", "section"),),
        _SECTION,
        id_attribute="section_id",
        scoped={
            "section_id": _SECTION,
            "person_id": Scope("/users/{}/sections", "section"),
            "school_id": Scope("/schools/{}/sections", "section"),
        },
    ),
}
"""Every entity Clever serves. It has no gradebook, course grades or attendance."""

FILTERS: dict[Entity, frozenset[str]] = {
    Entity.ORGANIZATION: frozenset({"type", "parent_id"}),
    Entity.ACADEMIC_SESSION: frozenset({"type"}),
    Entity.COURSE: frozenset({"org_id"}),
    Entity.SECTION: frozenset({"school_id", "course_id", "term_ids"}),
    Entity.STUDENT: frozenset({"school_id", "grade_level", "guardian_ids"}),
    Entity.TEACHER: frozenset({"school_ids", "role"}),
    Entity.GUARDIAN: frozenset({"student_ids"}),
    Entity.ENROLLMENT: frozenset({"section_id", "person_id", "role", "school_id"}),
}
"""Filters each entity accepts: scoped reads where Clever has them, the rest applied here."""
