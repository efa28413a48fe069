"""Reading Ed-Fi Change Queries: the versions available, the items changed
and the deletes and key changes tracked in a range, and which joined
resources can change a record without changing its own item.

An ODS/API numbers every insert, update and delete with one counter (the
change version). ``availableChangeVersions`` gives the oldest and newest; a
collection read with ``minChangeVersion``/``maxChangeVersion`` returns the
items whose latest change is in that range (inclusive), ``/deletes`` the
items deleted in it (with their natural key, ``keyValues``) and
``/keyChanges`` the items whose natural key changed (``oldKeyValues``,
``newKeyValues``). A reader that last saw version ``v`` reads
``[v + 1, newest]`` and then holds ``newest``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.edfi._entities import SEOA_FIELDS, SSA_FIELDS, guardian_names
from adapters.edfi._keys import text
from adapters.edfi._query import Params, searchable
from adapters.edfi._reader import CollectionReader
from hub.sdk import BadVendorData, Entity

__all__ = [
    "CATALOGUE_RESOURCES",
    "Affected",
    "Dependent",
    "Hop",
    "TrackedRows",
    "Versions",
    "Window",
    "dependents",
    "read_versions",
]

Json = Mapping[str, Any]
DELETES, KEY_CHANGES = "deletes", "keyChanges"

CATALOGUE_RESOURCES: dict[Entity, tuple[str, ...]] = {
    Entity.ORGANIZATION: ("localEducationAgencies", "schools"),
    Entity.ACADEMIC_SESSION: ("sessions", "gradingPeriods"),
    Entity.COURSE: ("courses",),
}
"""The collections the catalogue entities are built from."""


@dataclass(frozen=True, slots=True)
class Versions:
    """``availableChangeVersions``: the lowest ``minChangeVersion`` that still
    sees every change, and the newest version handed out."""

    oldest: int
    newest: int

    def covers(self, since: int) -> bool:
        """Whether every change after ``since`` can still be read: none was
        forgotten (``oldest``) and the counter did not go back (a restored ODS)."""
        return since + 1 >= self.oldest and self.newest >= since


def _version(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def read_versions(source: str, body: Any) -> Versions:
    """The versions of an ``availableChangeVersions`` body, whichever casing the
    ODS writes (``OldestChangeVersion`` in 5.x, ``oldestChangeVersion`` in 6+)."""
    fields = {str(name).lower(): value for name, value in body.items()} if isinstance(body, dict) else {}
    oldest, newest = _version(fields.get("oldestchangeversion")), _version(fields.get("newestchangeversion"))
    if newest is None:
        raise BadVendorData(source, "availableChangeVersions answered no newest change version")
    return Versions(oldest if oldest is not None else 0, newest)


@dataclass(frozen=True, slots=True)
class Window:
    """The change versions read by one delta, both bounds inclusive."""

    low: int
    high: int

    def params(self) -> dict[str, str]:
        """The query parameters selecting it."""
        return {"minChangeVersion": str(self.low), "maxChangeVersion": str(self.high)}


@dataclass(frozen=True, slots=True)
class Affected:
    """What a joined resource's changes in a window touch: whether it changed
    at all, and the searches finding the entity's items to read again."""

    changed: bool
    searches: list[Params]


@dataclass(frozen=True, slots=True)
class Hop:
    """A search of ``target`` made from the values of items found before it:
    ``names`` pairs a value's name there with the search parameter here."""

    target: str
    names: tuple[tuple[str, str], ...]

    def search(self, values: Mapping[str, str]) -> Params | None:
        """The search of ``target`` for one item's values (``None`` when one is missing)."""
        found = {parameter: values.get(name) for name, parameter in self.names}
        return {name: value for name, value in found.items() if value} if all(found.values()) else None


@dataclass(frozen=True, slots=True)
class Dependent:
    """A joined resource whose changes change records of an entity.

    - ``resource``: the joined resource, read in the delta's range.
    - ``attributes``: the record attributes built from it (none asked: not read).
    - ``hops``: from its items to the entity's items (the last hop's target),
      through an intermediate resource when the join has one.
    - ``removals``: whether its deletes and key changes change records too (an
      association gone changes its student); ``False`` where the records
      referencing an item must go before it can (Ed-Fi refuses the delete).
    - ``catalogue``: read from the adapter's cached catalogue, which must be
      read again before records are built.
    """

    resource: str
    attributes: frozenset[str]
    hops: tuple[Hop, ...]
    removals: bool = True
    catalogue: bool = False


def _same(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, name) for name in names)


_OFFERING_KEY = _same("localCourseCode", "schoolId", "schoolYear", "sessionName")


def dependents(entity: Entity, data_standard: str) -> tuple[Dependent, ...]:
    """The joins of ``entity`` (see ``EdFiAdapter._build``) as change-query reads."""
    student = (Hop("students", _same("studentUniqueId")),)
    guardians = guardian_names(data_standard)
    joins: dict[Entity, tuple[Dependent, ...]] = {
        Entity.STUDENT: (
            Dependent("studentEducationOrganizationAssociations", SEOA_FIELDS, student),
            Dependent("studentSpecialEducationProgramAssociations", frozenset({"programs"}), student),
            Dependent("studentSchoolAssociations", SSA_FIELDS, student),
            Dependent(guardians.links, frozenset({"guardian_ids"}), student),
        ),
        Entity.TEACHER: (
            Dependent(
                "staffEducationOrganizationAssignmentAssociations",
                frozenset({"role", "school_ids"}),
                (Hop("staffs", _same("staffUniqueId")),),
            ),
        ),
        Entity.GUARDIAN: (
            Dependent(
                guardians.links,
                frozenset({"relationship", "student_ids"}),
                (Hop(guardians.resource, _same(guardians.unique_id)),),
            ),
        ),
        Entity.SECTION: (
            Dependent(
                "courseOfferings",
                frozenset({"course_id", "subjects"}),
                (Hop("sections", _OFFERING_KEY),),
                removals=False,
                catalogue=True,
            ),
            Dependent(
                "courses",
                frozenset({"subjects"}),
                (
                    Hop("courseOfferings", _same("courseCode", "educationOrganizationId")),
                    Hop("sections", _OFFERING_KEY),
                ),
                removals=False,
                catalogue=True,
            ),
        ),
        Entity.SCORE: (
            Dependent(
                "gradebookEntries",
                frozenset({"section_id"}),
                (Hop("studentGradebookEntries", _same("namespace", "gradebookEntryIdentifier")),),
                removals=False,
            ),
        ),
    }
    return joins.get(entity, ())


def _key(row: Json, name: str) -> dict[str, str] | None:
    """A tracked row's natural key as search values (text), ``None`` when absent."""
    values = row.get(name)
    if not isinstance(values, Mapping) or not values:
        return None
    return {str(key): rendered for key, value in values.items() if (rendered := text(value)) is not None}


class TrackedRows:
    """Reads a resource's changes in a :class:`Window` through a :class:`CollectionReader`."""

    def __init__(self, reader: CollectionReader) -> None:
        self.reader = reader

    async def changed(self, resource: str, window: Window, page_size: int | None = None) -> list[Json]:
        """The items of ``resource`` whose latest change is in ``window``."""
        found: list[Json] = []
        async for page in self.reader.pages(resource, window.params(), page_size=page_size):
            found.extend(item for item in page.items if isinstance(item, dict))
            if page_size is not None:
                break  # a probe: one page says whether anything changed
        return found

    async def rows(self, resource: str, kind: str, window: Window) -> list[Json]:
        """The ``/deletes`` or ``/keyChanges`` rows of ``resource`` in ``window``."""
        found: list[Json] = []
        async for page in self.reader.pages(f"{resource}/{kind}", window.params()):
            found.extend(item for item in page.items if isinstance(item, dict))
        return found

    async def removed_keys(self, resource: str, window: Window) -> list[dict[str, str]] | None:
        """The natural keys ``resource`` items left in ``window``: deleted, or
        changed away from (a key change's old key). ``None`` when a row names
        no key (an ODS before 5.3 lists deletes by resource id only)."""
        keys: list[dict[str, str]] = []
        for kind, name in ((DELETES, "keyValues"), (KEY_CHANGES, "oldKeyValues")):
            for row in await self.rows(resource, kind, window):
                key = _key(row, name)
                if key is None:
                    return None
                keys.append(key)
        return keys

    async def affected(self, dependent: Dependent, window: Window) -> Affected | None:
        """What ``dependent``'s changes in ``window`` touch (``None``: cannot tell)."""
        values: list[Mapping[str, str]] = [
            searchable(dependent.resource, item) for item in await self.changed(dependent.resource, window)
        ]
        if dependent.removals:
            removed = await self.removed_keys(dependent.resource, window)
            if removed is None:
                return None
            values.extend(removed)
        changed = bool(values)
        searches: list[Params] = []
        for index, hop in enumerate(dependent.hops):
            searches = _unique(search for item in values if (search := hop.search(item)) is not None)
            if not searches:
                return Affected(changed, [])
            if index + 1 < len(dependent.hops):  # through an intermediate resource
                found = await self.reader.search(hop.target, searches)
                values = [searchable(hop.target, item) for item in found]
        return Affected(changed, searches)


def _unique(searches: Iterable[Params]) -> list[Params]:
    found: dict[tuple[tuple[str, str], ...], Params] = {}
    for search in searches:
        found.setdefault(tuple(sorted(search.items())), search)
    return list(found.values())
