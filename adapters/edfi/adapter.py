"""The ``edfi`` source: an Ed-Fi ODS/API (Data Standard 4 or 5), read live."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from adapters.edfi import _mapping as m
from adapters.edfi._catalogue import catalogue_records
from adapters.edfi._changes import (
    CATALOGUE_RESOURCES,
    TrackedRows,
    Versions,
    Window,
    dependents,
    read_versions,
)
from adapters.edfi._entities import SEOA_FIELDS, SSA_FIELDS, Source, guardian_names, sources
from adapters.edfi._identity import vendor_id
from adapters.edfi._keys import course_id, make_id, section_id, section_parts
from adapters.edfi._query import Params
from adapters.edfi._reader import Catalogue, CollectionReader
from adapters.edfi.config import EdFiConfig
from hub.sdk import (
    Capabilities,
    Changes,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    Record,
    UnsupportedRequest,
    matches,
)
from hub.sdk.http import BasicTokenAuth, RequestRejected, Timing, VendorClient

__all__ = ["CATALOGUE_ENTITIES", "EdFiAdapter", "capabilities"]

log = logging.getLogger("homeroom.sources.edfi")

_PERSON = frozenset(
    {"given_name", "family_name", "middle_name", "preferred_name", "email", "username", "identifier"}
)
DATE_FROM, DATE_TO, SEARCH = "date_from", "date_to", "search"
_NAME_PARTS = ("given_name", "preferred_name", "middle_name", "family_name")

_FIELDS: dict[Entity, frozenset[str]] = {
    Entity.ORGANIZATION: frozenset({"name", "type", "identifier", "parent_id"}),
    Entity.ACADEMIC_SESSION: frozenset(
        {"title", "type", "start_date", "end_date", "school_year", "parent_id"}
    ),
    Entity.COURSE: frozenset({"title", "course_code", "grades", "subjects", "org_id"}),
    Entity.SECTION: frozenset(
        {
            "title",
            "class_code",
            "location",
            "periods",
            "subjects",
            "grades",
            "course_id",
            "school_id",
            "term_ids",
        }
    ),
    Entity.STUDENT: _PERSON
    | {
        *("grade_level", "birth_date", "sex", "races", "hispanic_or_latino", "programs"),
        *("school_id", "school_ids", "guardian_ids"),
    },
    Entity.TEACHER: _PERSON | {"phone", "role", "school_ids"},
    Entity.GUARDIAN: _PERSON | {"phone", "relationship", "student_ids"},
    Entity.ENROLLMENT: frozenset(
        {"role", "primary", "begin_date", "end_date", "section_id", "person_id", "school_id"}
    ),
    Entity.ASSIGNMENT: frozenset(
        {"title", "description", "assign_date", "due_date", "category", "points_possible", "section_id"}
        | {"grading_period_id"}
    ),
    Entity.SCORE: frozenset(
        {"assignment_id", "student_id", "section_id", "score", "score_status", "late", "missing"}
        | {"submitted_at", "comment"}
    ),
    Entity.COURSE_GRADE: frozenset({"student_id", "section_id", "term_id", "letter_grade", "percent"}),
    Entity.ATTENDANCE_EVENT: frozenset({"student_id", "date", "status", "section_id", "school_id"}),
}
_FILTERS: dict[Entity, frozenset[str]] = {
    Entity.ORGANIZATION: frozenset({"type", "parent_id"}),
    Entity.ACADEMIC_SESSION: frozenset({"type", "parent_id"}),
    Entity.COURSE: frozenset({"org_id"}),
    Entity.SECTION: frozenset({"school_id", "course_id", "term_ids"}),
    Entity.STUDENT: frozenset({"school_id", "grade_level", "guardian_ids", "email", SEARCH}),
    Entity.TEACHER: frozenset({"school_ids", "role", "email", SEARCH}),
    Entity.GUARDIAN: frozenset({"student_ids", "email"}),
    Entity.ENROLLMENT: frozenset({"section_id", "person_id", "role", "school_id"}),
    Entity.ASSIGNMENT: frozenset({"section_id"}),
    Entity.SCORE: frozenset({"student_id", "assignment_id", "section_id"}),
    Entity.COURSE_GRADE: frozenset({"student_id", "section_id", "term_id"}),
    Entity.ATTENDANCE_EVENT: frozenset({"student_id", "section_id", "school_id", DATE_FROM, DATE_TO}),
}
CATALOGUE_ENTITIES = frozenset({Entity.ORGANIZATION, Entity.ACADEMIC_SESSION, Entity.COURSE})
"""Entities read whole from the cached catalogue (no personal data, small)."""


def capabilities(config: EdFiConfig) -> Capabilities:
    """What an Ed-Fi source fills and filters.

    Not filled, because Ed-Fi has no such data: ``enabled`` of people,
    ``class_type`` of sections and ``school_year_id`` of courses. A student's
    ``directory_opt_out`` is served only when ``directory_opt_out_indicator``
    names where the district records it.
    """
    fields, filters = dict(_FIELDS), dict(_FILTERS)
    if config.directory_opt_out_indicator:
        fields[Entity.STUDENT] = fields[Entity.STUDENT] | {"directory_opt_out"}
        filters[Entity.STUDENT] = filters[Entity.STUDENT] | {"directory_opt_out"}
    return Capabilities(
        entities={entity: EntitySupport(fields=fields[entity], filters=filters[entity]) for entity in fields}
    )


def _project(record: Record, fields: frozenset[str]) -> Record:
    """A copy holding ``vendor_id`` and only ``fields``: nothing else leaves the adapter."""
    values = {name: getattr(record, name) for name in fields if name != "vendor_id"}
    return type(record)(vendor_id=record.vendor_id, **values)


def _needed(request: FetchRequest) -> frozenset[str]:
    """Attributes to build: those asked for and those the filters test."""
    names = set(request.fields) | (set(request.filters) - {DATE_FROM, DATE_TO, SEARCH})
    if DATE_FROM in request.filters or DATE_TO in request.filters:
        names.add("date")
    if SEARCH in request.filters:
        names.update(_NAME_PARTS)
    return frozenset(names - {"vendor_id"})


def _passes(record: Record, filters: Mapping[str, tuple[str, ...]]) -> bool:
    """:func:`matches`, plus ``search``: every word of the term in the person's names, case-blind."""
    terms = filters.get(SEARCH)
    if terms:
        text = " ".join(str(part) for name in _NAME_PARTS if (part := getattr(record, name, None))).casefold()
        if not all(word in text for word in terms[0].casefold().split()):
            return False
        filters = {name: values for name, values in filters.items() if name != SEARCH}
    return matches(record, filters)


def _unique_ids(items: Sequence[m.Json], reference: str | None, name: str) -> list[Params]:
    values = (m.ref(item, reference).get(name) if reference else item.get(name) for item in items)
    return [{name: str(value)} for value in dict.fromkeys(values) if value not in (None, "")]


class EdFiAdapter:
    """Serves an Ed-Fi ODS/API live through one :class:`VendorClient`.

    - Auth: ``POST token_url`` with HTTP Basic key:secret (client
      credentials); the bearer token is cached and renewed on expiry or 401.
    - Ids: built from natural keys (:mod:`adapters.edfi._keys`), so links
      resolve without look-ups and an id look-up is an Ed-Fi search.
    - Filters: the most selective one Ed-Fi can search (fewest values) is
      pushed down, directly or through an association (a student's school
      through ``studentSchoolAssociations``); every filter is then applied
      here again, so a looser vendor match cannot widen an answer.
    - Batches: one search per value, or one read of the collection when
      fewer pages (see :class:`CollectionReader`), concurrency bounded by
      ``max_concurrency``.
    - Joins, only for the attributes asked for: a student's education
      organization associations (demographics, e-mail, login, programs),
      special education program associations (``IEP``), school associations
      (grade, schools) and contact/parent associations; a staff member's
      assignments (role, schools); a guardian's student associations.
    - Catalogue (schools, LEAs, sessions, grading periods, courses, course
      offerings) is read whole and kept ``catalogue_ttl`` seconds.
    - Paging: a request without a searchable restriction pages through the
      collection with ``offset``/``limit`` (cursor ``s<collection>.<offset>``);
      searched answers are merged and paged here (cursor ``m<position>``).
    - Change feed (:meth:`changes`): Ed-Fi Change Queries; the watermark is
      the ODS's change version.
    """

    def __init__(
        self,
        config: EdFiConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        auth = BasicTokenAuth(
            config.resolved_token_url,
            config.key(),
            config.secret(),
            hint=f"check {config.secret_names()} and token_url",
        )
        self._client = VendorClient(config, auth, transport=transport, timing=timing)
        self._reader = CollectionReader(
            self._client, config.data_path, config.page_size, count_ttl=config.catalogue_ttl
        )
        self._catalogue = Catalogue(self._reader, config.catalogue_ttl)
        self._sources = sources(config.data_standard)
        self._guardians = guardian_names(config.data_standard)
        self._zone = config.zone
        self._capabilities = capabilities(config)
        self._tracked = TrackedRows(self._reader)
        self._versions_path = f"{config.change_queries_path.strip('/')}/availableChangeVersions"

    @property
    def client(self) -> VendorClient:
        """The source's HTTP client (request counts, for tests and health checks)."""
        return self._client

    def capabilities(self) -> Capabilities:
        """Every entity; the fields Ed-Fi has (see :func:`capabilities`)."""
        return self._capabilities

    async def open(self) -> LoadReport:
        """Check the token endpoint, the credentials and the API path with one small read."""
        self._catalogue.forget()
        self._reader.forget()
        async with self._client.deadline():
            total = await self._reader.count("schools")
        return LoadReport(counts={"schools": total} if total is not None else {})

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    # -- fetch ---------------------------------------------------------------

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer from the API; only ``vendor_id`` and ``request.fields`` are filled."""
        self._check(request)
        if request.ids is not None and not request.ids:
            return FetchResult(records=[], total=0)
        kind, first, second = self._cursor(request.cursor)
        needed = _needed(request)
        async with self._client.deadline():
            if request.entity in CATALOGUE_ENTITIES:
                if kind == "s":
                    raise UnsupportedRequest(self.name, "paging cursor no longer valid; start the list again")
                records = await catalogue_records(self._catalogue, request.entity)
                return self._paged(records, request, first)
            if kind != "s":
                found = await self._searched(request, needed)
                if found is not None:
                    return self._paged(found, request, first)
                if kind == "m":
                    raise UnsupportedRequest(self.name, "paging cursor no longer valid; start the list again")
            return await self._scan(request, needed, first, second)

    def _check(self, request: FetchRequest) -> None:
        support = self._capabilities.entities.get(request.entity)
        if support is None:
            raise UnsupportedRequest(self.name, f"entity {request.entity} is not served")
        unknown = request.fields - support.fields - {"vendor_id"}
        if unknown:
            raise UnsupportedRequest(
                self.name, f"{request.entity} fields not served: {', '.join(sorted(unknown))}"
            )
        unfiltered = set(request.filters) - support.filters
        if unfiltered:
            raise UnsupportedRequest(
                self.name, f"{request.entity} cannot be filtered by {', '.join(sorted(unfiltered))}"
            )
        for name in (DATE_FROM, DATE_TO):
            values = request.filters.get(name)
            if values is not None and (len(values) != 1 or m.read_date(values[0]) is None):
                raise UnsupportedRequest(self.name, f"{name} takes one ISO date (YYYY-MM-DD)")
        if request.limit is not None and request.limit < 0:
            raise UnsupportedRequest(self.name, "limit must not be negative")

    def _cursor(self, cursor: str | None) -> tuple[str, int, int]:
        """``("", 0, 0)``, ``("m", position, 0)`` or ``("s", collection, offset)``."""
        if cursor is None:
            return "", 0, 0
        kind, rest = cursor[:1], cursor[1:]
        if kind == "m" and rest.isascii() and rest.isdigit():
            return kind, int(rest), 0
        collection, dot, offset = rest.partition(".")
        if kind == "s" and dot and all(p.isascii() and p.isdigit() for p in (collection, offset)):
            return kind, int(collection), int(offset)
        raise UnsupportedRequest(self.name, "unknown paging cursor (not one this source returned)")

    def _paged(self, records: Sequence[Record], request: FetchRequest, start: int) -> FetchResult:
        ids = frozenset(request.ids) if request.ids is not None else None
        rows = [r for r in records if (ids is None or r.vendor_id in ids) and _passes(r, request.filters)]
        end = len(rows) if request.limit is None else min(len(rows), start + request.limit)
        page = [_project(record, request.fields) for record in rows[start:end]]
        return FetchResult(records=page, next_cursor=f"m{end}" if end < len(rows) else None, total=len(rows))

    # -- change feed ---------------------------------------------------------

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        """What changed in ``entity`` after the change version ``since`` (see ``hub.sdk.ChangeFeed``).

        - ``since`` is ``None``: the newest change version, where a feed starts
          (one request to ``availableChangeVersions``).
        - ``since`` given: ``availableChangeVersions`` first (one request, and
          all when the ODS's newest version is still ``since``); then, for the
          versions ``since + 1`` to the newest, the entity's collections with
          ``minChangeVersion``/``maxChangeVersion`` (paged, records built as
          :meth:`fetch` builds them), their ``/deletes`` and ``/keyChanges``
          (the items' old natural keys, as vendor ids, are ``deleted``), and
          the joined collections the fields use: the records whose joined
          item changed or went are read again. Catalogue entities are read
          again in full (they are small) when one of their collections changed.
          The watermark is the newest version.
        - Not complete (the hub then reads the entity in full): change queries
          off or refused (404, 400), ``since`` older than the oldest version
          the ODS still tracks or newer than its newest (a restored ODS), a
          delete listed without its natural key (ODS/API before 5.3).
        - Offset paging through a range is not isolated from writes made while
          it is read (the ODS's ``Use-Snapshot`` is not used): the nightly
          full read catches what a delta missed that way.
        """
        request = FetchRequest(entity=entity, fields=frozenset(fields))
        self._check(request)
        start = _change_version(since)
        if since is not None and start is None:
            return Changes(watermark=since, complete=False)  # not a change version: start again
        async with self._client.deadline():
            try:
                versions = await self._available_versions()
                if versions is None:
                    log.warning("source %s: no change queries (availableChangeVersions 404)", self.name)
                    return Changes(watermark=since, complete=False)
                if start is None:
                    return Changes(watermark=str(versions.newest))
                if not versions.covers(start):
                    log.info("source %s: change version %d is no longer tracked", self.name, start)
                    return Changes(watermark=since, complete=False)
                if versions.newest == start:
                    return Changes(watermark=since)  # nothing changed anywhere in the ODS
                window = Window(start + 1, versions.newest)
                if entity in CATALOGUE_ENTITIES:
                    return await self._catalogue_changes(request, window)
                return await self._delta(request, window)
            except RequestRejected as exc:
                if exc.status not in (400, 404):
                    raise
                log.warning("source %s: change queries refused (%d); reading in full", self.name, exc.status)
                return Changes(watermark=since, complete=False)

    async def _available_versions(self) -> Versions | None:
        """``availableChangeVersions`` (``None`` when the ODS has no change queries)."""
        body, _ = await self._client.get_json(self._versions_path, missing_ok=True)
        return None if body is None else read_versions(self.name, body)

    async def _delta(self, request: FetchRequest, window: Window) -> Changes:
        entity, needed = request.entity, _needed(request)
        gap = Changes(watermark=str(window.low - 1), complete=False)
        records: dict[str, Record] = {}
        deleted: dict[str, None] = {}  # ordered, without repeats
        again: dict[str, list[Params]] = {}  # resource -> searches of the items whose joins changed
        for dependent in dependents(entity, self.config.data_standard):
            if not dependent.attributes & needed:
                continue  # a join the fields do not use
            found = await self._tracked.affected(dependent, window)
            if found is None:
                return gap
            if found.changed and dependent.catalogue:
                self._catalogue.forget()  # records built from now on use the catalogue as it is now
            again.setdefault(dependent.hops[-1].target, []).extend(found.searches)
        for source in self._sources[entity]:
            changed = await self._tracked.changed(source.resource, window)
            for record in await self._build(entity, source, changed, needed) if changed else ():
                if record is not None:
                    records[record.vendor_id] = record
            removed = await self._removed_ids(source.resource, window)
            if removed is None:
                return gap
            deleted.update(dict.fromkeys(removed))
            searches = again.get(source.resource)
            if searches:
                items = await self._reader.search(source.resource, searches)
                for record in await self._build(entity, source, items, needed):
                    if record is not None:
                        records.setdefault(record.vendor_id, record)
        for kept in records:
            deleted.pop(kept, None)  # deleted and created again within the range: it is there now
        return Changes(
            records=tuple(self._projected(list(records.values()), request)),
            deleted=tuple(deleted),
            watermark=str(window.high),
        )

    async def _catalogue_changes(self, request: FetchRequest, window: Window) -> Changes:
        """A catalogue entity: read again in full when one of its collections changed."""
        gap = Changes(watermark=str(window.low - 1), complete=False)
        changed = False
        deleted: dict[str, None] = {}
        for resource in CATALOGUE_RESOURCES[request.entity]:
            if not changed:  # once one changed, all are read again: the others need no probe
                changed = bool(await self._tracked.changed(resource, window, page_size=1))
            removed = await self._removed_ids(resource, window)
            if removed is None:
                return gap
            deleted.update(dict.fromkeys(removed))
        if not changed and not deleted:
            return Changes(watermark=str(window.high))
        self._catalogue.forget()
        records = await catalogue_records(self._catalogue, request.entity)
        kept = {record.vendor_id for record in records}
        return Changes(
            records=tuple(self._projected(records, request)),
            deleted=tuple(gone for gone in deleted if gone not in kept),
            watermark=str(window.high),
        )

    async def _removed_ids(self, resource: str, window: Window) -> list[str] | None:
        """Vendor ids of the ``resource`` items deleted, or moved to another key,
        in ``window``; ``None`` when a row names a key the adapter cannot read
        (a delete could then be missed)."""
        keys = await self._tracked.removed_keys(resource, window)
        if keys is None:
            return None
        ids = [vendor_id(resource, key) for key in keys]
        return [gone for gone in ids if gone is not None] if all(ids) else None

    # -- searched requests -----------------------------------------------------

    def _driver(self, collections: Sequence[Source], filters: Mapping[str, tuple[str, ...]]) -> str | None:
        """The filter to push: searchable in every collection, fewest values, direct before via."""
        candidates = [
            (len(values), any(name in c.vias for c in collections), name)
            for name, values in filters.items()
            if all(name in c.pushes or name in c.vias for c in collections)
        ]
        return min(candidates)[2] if candidates else None

    async def _searches(self, collection: Source, request: FetchRequest, driver: str | None) -> list[Params]:
        if request.ids is not None:
            return [s for v in request.ids if (s := collection.by_id(v)) is not None]
        assert driver is not None
        values = request.filters[driver]
        push = collection.pushes.get(driver)
        if push is not None:
            return [s for v in values if (s := push(v)) is not None]
        via = collection.vias[driver]
        links = await self._reader.search(
            via.resource, [s for v in values if (s := via.search(v)) is not None]
        )
        return [s for item in links if (s := via.target(item)) is not None]

    async def _searched(self, request: FetchRequest, needed: frozenset[str]) -> list[Record] | None:
        """Every record a request's ids or pushed filter find, or ``None`` if nothing can be pushed."""
        collections = self._sources[request.entity]
        driver = None
        if request.ids is None:
            driver = self._driver(collections, request.filters)
            if driver is None:
                return None

        async def read(collection: Source) -> list[Record]:
            searches = await self._searches(collection, request, driver)
            items = await self._reader.search(collection.resource, searches) if searches else []
            built = await self._build(request.entity, collection, items, needed)
            return [record for record in built if record is not None]

        parts = await asyncio.gather(*(read(collection) for collection in collections))
        seen: set[str] = set()
        records: list[Record] = []
        for part in parts:
            for record in part:
                if record.vendor_id not in seen:
                    seen.add(record.vendor_id)
                    records.append(record)
        return records

    # -- scans -------------------------------------------------------------------

    async def _scan(
        self, request: FetchRequest, needed: frozenset[str], collection: int, offset: int
    ) -> FetchResult:
        """Page through the entity's collections from a position until ``limit`` records pass."""
        collections = self._sources[request.entity]
        limit = request.limit
        exact = not request.filters and len(collections) == 1
        size = self.config.page_size
        if limit is not None and exact:
            size = max(1, min(size, limit))  # every item read is kept: ask for no more than needed
        taken: list[Record] = []
        total: int | None = None
        for index in range(collection, len(collections)):
            source = collections[index]
            async for page in self._reader.pages(source.resource, offset=offset, page_size=size):
                if total is None and exact:
                    total = page.total
                built = await self._build(request.entity, source, page.items, needed)
                start = int(page.position)
                for position, record in enumerate(built):
                    if record is None or not _passes(record, request.filters):
                        continue
                    if limit is not None and len(taken) >= limit:
                        return FetchResult(
                            self._projected(taken, request), f"s{index}.{start + position}", total
                        )
                    taken.append(record)
                if limit is not None and len(taken) >= limit:
                    following = self._following(page.next, index, len(collections))
                    return FetchResult(self._projected(taken, request), following, total)
            offset = 0
        return FetchResult(self._projected(taken, request), None, total)

    @staticmethod
    def _following(next_offset: str | None, index: int, count: int) -> str | None:
        if next_offset is not None:
            return f"s{index}.{next_offset}"
        return f"s{index + 1}.0" if index + 1 < count else None

    @staticmethod
    def _projected(records: Sequence[Record], request: FetchRequest) -> list[Record]:
        return [_project(record, request.fields) for record in records]

    # -- building records ----------------------------------------------------------

    async def _build(
        self, entity: Entity, source: Source, items: Sequence[Any], needed: frozenset[str]
    ) -> list[Record | None]:
        """The records of ``items`` (``None`` for unusable ones), joined as ``needed`` asks."""
        objects: list[m.Json] = [item if isinstance(item, dict) else {} for item in items]
        if entity is Entity.STUDENT:
            return await self._students(objects, needed)
        if entity is Entity.TEACHER:
            links = None
            if needed & {"role", "school_ids"}:
                found = await self._reader.search(
                    "staffEducationOrganizationAssignmentAssociations",
                    _unique_ids(objects, None, "staffUniqueId"),
                )
                links = m.group_by(found, "staffReference", "staffUniqueId")
            return [
                m.teacher(o, links.get(str(o.get("staffUniqueId")), []) if links is not None else None)
                for o in objects
            ]
        if entity is Entity.GUARDIAN:
            names = self._guardians
            grouped = None
            if needed & {"relationship", "student_ids"}:
                found = await self._reader.search(names.links, _unique_ids(objects, None, names.unique_id))
                grouped = m.group_by(found, names.reference, names.unique_id)
            return [
                m.guardian(
                    o,
                    names.kind,
                    grouped.get(str(o.get(names.unique_id)), []) if grouped is not None else None,
                )
                for o in objects
            ]
        if entity is Entity.SECTION:
            return await self._sections(objects, needed)
        if entity is Entity.ENROLLMENT:
            build = m.student_enrollment if source.kind == "studentSectionAssociation" else m.staff_enrollment
            return [build(o) for o in objects]
        if entity is Entity.ASSIGNMENT:
            return [m.assignment(o, self._zone) for o in objects]
        if entity is Entity.SCORE:
            return await self._scores(objects, needed)
        if entity is Entity.COURSE_GRADE:
            return [m.course_grade(o) for o in objects]
        if entity is Entity.ATTENDANCE_EVENT:
            kind = "school" if source.kind == "studentSchoolAttendanceEvent" else "section"
            return [m.attendance_event(o, kind) for o in objects]
        raise UnsupportedRequest(self.name, f"entity {entity} is not served")

    async def _students(self, objects: Sequence[m.Json], needed: frozenset[str]) -> list[Record | None]:
        searches = _unique_ids(objects, None, "studentUniqueId")
        names = self._guardians
        wanted = {
            "studentEducationOrganizationAssociations": bool(needed & SEOA_FIELDS),
            "studentSpecialEducationProgramAssociations": "programs" in needed,
            "studentSchoolAssociations": bool(needed & SSA_FIELDS),
            names.links: "guardian_ids" in needed,
        }
        reads = [name for name, want in wanted.items() if want and searches]
        results = await asyncio.gather(*(self._reader.search(name, searches) for name in reads))
        joined = {
            name: m.group_by(found, "studentReference", "studentUniqueId")
            for name, found in zip(reads, results, strict=True)
        }

        def of(name: str, key: str) -> list[m.Json] | None:
            if name not in joined:
                return [] if wanted.get(name) else None
            return joined[name].get(key, [])

        records: list[Record | None] = []
        for obj in objects:
            key = str(obj.get("studentUniqueId"))
            special = of("studentSpecialEducationProgramAssociations", key)
            records.append(
                m.student(
                    obj,
                    seoas=of("studentEducationOrganizationAssociations", key),
                    ssas=of("studentSchoolAssociations", key),
                    contact_links=of(names.links, key),
                    special_education=_in_program(special) if special is not None else None,
                    guardian_kind=names.kind,
                    opt_out_indicator=self.config.directory_opt_out_indicator,
                )
            )
        return records

    async def _sections(self, objects: Sequence[m.Json], needed: frozenset[str]) -> list[Record | None]:
        offerings: dict[str | None, m.Json] = {}
        courses: dict[str | None, m.Json] = {}
        if needed & {"course_id", "subjects"}:
            for item in await self._catalogue.items("courseOfferings"):
                offerings[make_id("o", item.get("localCourseCode"), *_session_parts(item))] = item
        if "subjects" in needed:
            courses = {course_id(c): c for c in await self._catalogue.items("courses")}
        records: list[Record | None] = []
        for obj in objects:
            reference = m.ref(obj, "courseOfferingReference")
            offering = offerings.get(make_id("o", *section_parts(reference)[:4]))
            course = courses.get(course_id(m.ref(offering, "courseReference"))) if offering else None
            records.append(m.section(obj, offering, course))
        return records

    async def _scores(self, objects: Sequence[m.Json], needed: frozenset[str]) -> list[Record | None]:
        sections: dict[str, str | None] = {}
        if "section_id" in needed:
            searches = []
            for obj in objects:
                entry = m.ref(obj, "gradebookEntryReference")
                if entry.get("namespace") and entry.get("gradebookEntryIdentifier"):
                    searches.append(
                        {
                            "namespace": str(entry["namespace"]),
                            "gradebookEntryIdentifier": str(entry["gradebookEntryIdentifier"]),
                        }
                    )
            for entry in await self._reader.search("gradebookEntries", searches):
                entry_id = m.gradebook_entry_id(entry)
                if entry_id is not None:
                    sections[entry_id] = section_id(m.ref(entry, "sectionReference"))
        return [m.score(o, sections, self._zone) for o in objects]


def _change_version(watermark: str | None) -> int | None:
    """The change version a watermark of :meth:`EdFiAdapter.changes` holds."""
    if watermark is None or not (watermark.isascii() and watermark.isdigit()):
        return None
    return int(watermark)


def _session_parts(offering: m.Json) -> tuple[Any, ...]:
    session_ref = m.ref(offering, "sessionReference")
    school = m.ref(offering, "schoolReference").get("schoolId", session_ref.get("schoolId"))
    return school, session_ref.get("schoolYear"), session_ref.get("sessionName")


def _in_program(associations: Sequence[m.Json]) -> bool:
    """Whether a special education program association is open (an IEP).

    Open means no ``endDate``: the adapter keeps no clock of its own, so an
    association ended in the future already counts as ended.
    """
    return any(m.read_date(association.get("endDate")) is None for association in associations)
