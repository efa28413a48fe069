"""How the caller is related to roster records: the facts the policy's
relations (self, guardian, teacher, school, district, directory) stand on.

Everything here is computed once per request, lazily, with a handful of
batched upstream calls, and only for the relations the query's plan can use.
The per-row step is then set membership. Nothing computed here is disclosed;
it only decides which rows and fields the caller may see.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from hub.federation.clock import Clock, is_current
from hub.federation.identity import IdentityMap
from hub.federation.registry import SourceRegistry
from hub.model import Enrollment, Entity, Record, Student, of_type
from hub.sdk import FetchRequest, fetch_every_page

Key = tuple[str, str]  # (source, vendor id)
STUDENT_ROLE = "student"
NO_ONE = "homeroom:no-one"  # a vendor id no record has (to ask a question that matches nothing)
TEACHING_ROLES = frozenset({"teacher", "aide"})


@dataclass(frozen=True, slots=True)
class CallerPerson:
    """The roster person a caller is, when known."""

    entity: Entity
    source: str
    vendor_id: str

    @property
    def key(self) -> Key:
        return (self.source, self.vendor_id)


class _Lazy:
    """One awaited computation shared by every resolver of a request."""

    __slots__ = ("_compute", "_task")

    def __init__(self, compute: Callable[[], Awaitable[frozenset[Key]]]) -> None:
        self._compute = compute
        self._task: asyncio.Task[frozenset[Key]] | None = None

    async def get(self) -> frozenset[Key]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._compute())
        return await self._task


class Relationships:
    """The caller's roster ties for one request."""

    def __init__(
        self,
        registry: SourceRegistry,
        person: CallerPerson | None,
        *,
        district: bool,
        clock: Clock,
        grace_days: int,
        identity: IdentityMap | None = None,
    ) -> None:
        self.registry = registry
        self.identity = identity or IdentityMap()
        self.person = person
        self.district = district
        self.today = clock.today()
        self.grace_days = grace_days
        self.self_key: Key | None = person.key if person else None
        # Students known to have opted out of the directory (filled batch by batch).
        self.opted_out_seen: set[Key] = set()
        self.children = _Lazy(self._children)
        self.own_sections = _Lazy(self._own_sections)
        self.child_sections = _Lazy(self._child_sections)
        self.taught_sections = _Lazy(self._taught_sections)
        self.taught_students = _Lazy(self._taught_students)
        self.staff_schools = _Lazy(self._staff_schools)
        self.school_students = _Lazy(self._school_students)
        self.school_sections = _Lazy(self._school_sections)
        self.my_teachers = _Lazy(self._my_teachers)
        self.child_teachers = _Lazy(self._child_teachers)
        self.own_guardians = _Lazy(self._own_guardians)
        self.taught_guardians = _Lazy(self._taught_guardians)
        self.school_guardians = _Lazy(self._school_guardians)

    # -- internal reads: explicit fields, never disclosed --

    async def read(
        self,
        source: str,
        entity: Entity,
        fields: Iterable[str],
        *,
        ids: Iterable[str] | None = None,
        filters: dict[str, tuple[str, ...]] | None = None,
    ) -> list[Record]:
        """Every matching record with just ``fields`` (those the source has),
        read to decide access; never handed to a resolver."""
        if entity not in self.registry.capabilities[source].entities:
            return []
        id_tuple = tuple(sorted(set(ids))) if ids is not None else None
        if id_tuple == ():
            return []
        if filters and any(not values for values in filters.values()):
            return []
        request = FetchRequest(
            entity=entity,
            fields=frozenset(fields) & self.registry.supported_fields(source, entity),
            ids=id_tuple,
            filters=filters or {},
        )
        return await fetch_every_page(functools.partial(self.registry.fetch, source), request)

    def _current(self, row: Record) -> bool:
        return is_current(
            getattr(row, "begin_date", None), getattr(row, "end_date", None), self.today, self.grace_days
        )

    async def _current_sections(self, source: str, section_ids: set[str]) -> set[str]:
        """Sections among ``section_ids`` that have a term running today."""
        sections = await self.read(source, Entity.SECTION, ["term_ids"], ids=section_ids)
        term_ids = {t for s in sections for t in getattr(s, "term_ids", ())}
        terms = await self.read(source, Entity.ACADEMIC_SESSION, ["start_date", "end_date"], ids=term_ids)
        running = {
            t.vendor_id
            for t in terms
            if is_current(
                getattr(t, "start_date", None), getattr(t, "end_date", None), self.today, self.grace_days
            )
        }
        return {
            s.vendor_id
            for s in sections
            if not getattr(s, "term_ids", ()) or running.intersection(getattr(s, "term_ids", ()))
        }

    async def _enrolled_sections(
        self, source: str, person_ids: set[str], roles: frozenset[str], *, current_only: bool = True
    ) -> set[str]:
        rows = await self.read(
            source,
            Entity.ENROLLMENT,
            ["section_id", "role", "begin_date", "end_date"],
            filters={"person_id": tuple(person_ids)},
        )
        candidates = {
            str(r.section_id)
            for r in of_type(rows, Enrollment)
            if r.role in roles and (not current_only or self._current(r))
        }
        if not current_only or not candidates:
            return candidates
        return await self._current_sections(source, candidates)

    async def _people_in_sections(
        self, source: str, section_ids: set[str], roles: frozenset[str]
    ) -> set[str]:
        rows = await self.read(
            source,
            Entity.ENROLLMENT,
            ["person_id", "role", "begin_date", "end_date"],
            filters={"section_id": tuple(section_ids)},
        )
        return {str(r.person_id) for r in of_type(rows, Enrollment) if r.role in roles and self._current(r)}

    async def opted_out(
        self, source: str, vendor_ids: Iterable[str], *, always: bool = False
    ) -> frozenset[Key]:
        """Which of these students opted out of directory information.

        Asked as a filter, so the flag itself is never fetched into the hub
        (it is a field most callers may not read). A source that cannot filter
        on it is read for the flag alone, which is dropped right here.
        ``always``: ask even for no student (an id no record has), so that a
        search costs the same upstream round trip whether or not it matched a
        row the caller cannot see.
        """
        ids = tuple(sorted(set(vendor_ids)))
        if not ids:
            if not always:
                return frozenset()
            ids = (NO_ONE,)
        if "directory_opt_out" in self.registry.supported_filters(source, Entity.STUDENT):
            rows = await self.read(
                source, Entity.STUDENT, [], ids=ids, filters={"directory_opt_out": ("true",)}
            )
            return frozenset((source, row.vendor_id) for row in rows)
        rows = await self.read(source, Entity.STUDENT, ["directory_opt_out"], ids=ids)
        # Unknown counts as opted out: directory information is opt-out, so
        # only a known "no" makes a student listable.
        listable = {row.vendor_id for row in of_type(rows, Student) if row.directory_opt_out is False}
        return frozenset((source, vendor_id) for vendor_id in ids if vendor_id not in listable)

    # -- the facts --

    async def _children(self) -> frozenset[Key]:
        if not self.person or self.person.entity is not Entity.GUARDIAN:
            return frozenset()
        source = self.person.source
        rows = await self.read(source, Entity.GUARDIAN, ["student_ids"], ids=[self.person.vendor_id])
        return frozenset((source, sid) for row in rows for sid in getattr(row, "student_ids", ()))

    async def _own_sections(self) -> frozenset[Key]:
        if not self.person or self.person.entity is not Entity.STUDENT:
            return frozenset()
        source = self.person.source
        # A student's (and a guardian's) tie to a section does not lapse when
        # the term ends: their own record includes past classes. Only the
        # teaching relation is limited to what is current.
        sections = await self._enrolled_sections(
            source, {self.person.vendor_id}, frozenset({STUDENT_ROLE}), current_only=False
        )
        return frozenset((source, s) for s in sections)

    async def _child_sections(self) -> frozenset[Key]:
        children = await self.children.get()
        if not children:
            return frozenset()
        source = next(iter(children))[0]
        sections = await self._enrolled_sections(
            source, {c[1] for c in children}, frozenset({STUDENT_ROLE}), current_only=False
        )
        return frozenset((source, s) for s in sections)

    async def _school_sections(self) -> frozenset[Key]:
        schools = await self.staff_schools.get()
        if not schools:
            return frozenset()
        source = next(iter(schools))[0]
        rows = await self.read(
            source, Entity.SECTION, [], filters={"school_id": tuple(s[1] for s in schools)}
        )
        return frozenset((source, r.vendor_id) for r in rows)

    async def _taught_sections(self) -> frozenset[Key]:
        if not self.person or self.person.entity is not Entity.TEACHER:
            return frozenset()
        source = self.person.source
        sections = await self._enrolled_sections(source, {self.person.vendor_id}, TEACHING_ROLES)
        return frozenset((source, s) for s in sections)

    async def _taught_students(self) -> frozenset[Key]:
        sections = await self.taught_sections.get()
        if not sections:
            return frozenset()
        source = next(iter(sections))[0]
        people = await self._people_in_sections(source, {s[1] for s in sections}, frozenset({STUDENT_ROLE}))
        return frozenset((source, p) for p in people)

    async def _staff_schools(self) -> frozenset[Key]:
        if not self.person or self.person.entity is not Entity.TEACHER:
            return frozenset()
        source = self.person.source
        rows = await self.read(source, Entity.TEACHER, ["school_ids"], ids=[self.person.vendor_id])
        return frozenset((source, s) for row in rows for s in getattr(row, "school_ids", ()))

    async def _school_students(self) -> frozenset[Key]:
        schools = await self.staff_schools.get()
        if not schools:
            return frozenset()
        source = next(iter(schools))[0]
        rows = await self.read(
            source, Entity.STUDENT, [], filters={"school_id": tuple(s[1] for s in schools)}
        )
        return frozenset((source, r.vendor_id) for r in rows)

    async def _my_teachers(self) -> frozenset[Key]:
        sections = await self.own_sections.get()
        return await self._teachers_of(sections)

    async def _child_teachers(self) -> frozenset[Key]:
        return await self._teachers_of(await self.child_sections.get())

    async def _teachers_of(self, sections: frozenset[Key]) -> frozenset[Key]:
        if not sections:
            return frozenset()
        source = next(iter(sections))[0]
        people = await self._people_in_sections(source, {s[1] for s in sections}, TEACHING_ROLES)
        return frozenset((source, p) for p in people)

    async def _guardians_of(self, students: frozenset[Key]) -> frozenset[Key]:
        if not students:
            return frozenset()
        source = next(iter(students))[0]
        rows = await self.read(source, Entity.STUDENT, ["guardian_ids"], ids=[s[1] for s in students])
        return frozenset((source, g) for row in rows for g in getattr(row, "guardian_ids", ()))

    async def _own_guardians(self) -> frozenset[Key]:
        if not self.person or self.person.entity is not Entity.STUDENT:
            return frozenset()
        return await self._guardians_of(frozenset({self.person.key}))

    async def _taught_guardians(self) -> frozenset[Key]:
        return await self._guardians_of(await self.taught_students.get())

    async def _school_guardians(self) -> frozenset[Key]:
        return await self._guardians_of(await self.school_students.get())
