"""The ``clever`` source: a district's Clever Data API (v3.0/v3.1), read live."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import httpx

from adapters.clever import _mapping as m
from adapters.clever import _values as v
from adapters.clever._cursor import Position
from adapters.clever._events import RECORD_TYPES, SHAPES, Folded, Mark, parse_events
from adapters.clever._reader import BodyLinkPaging, CleverReader, data_items
from adapters.clever._routes import FILTERS, ROUTES, Route, Shape, Stream, claims
from adapters.clever.config import CleverConfig
from hub.sdk import (
    BadVendorData,
    Capabilities,
    Changes,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    Record,
    SourceAuthFailed,
    Student,
    UnsupportedRequest,
    fetch_every_page,
    matches,
)
from hub.sdk.http import BearerToken, RequestRejected, Timing, VendorClient

__all__ = ["CleverAdapter", "capabilities"]

log = logging.getLogger("homeroom.sources.clever")

_EVENT_PAGES = 20
"""Pages of events one delta reads at most. A longer backlog (a district's SIS
re-synced) costs about as many requests as reading the entity in full, and a
delta must end within ``total_timeout``: past it the feed answers
``complete=False`` and the full read that follows starts after the backlog."""

_PERSON = frozenset({"given_name", "family_name", "middle_name", "email", "username", "identifier"})
_FIELDS: dict[Entity, frozenset[str]] = {
    Entity.ORGANIZATION: frozenset({"name", "type", "identifier", "parent_id"}),
    Entity.ACADEMIC_SESSION: frozenset({"title", "type", "start_date", "end_date"}),
    Entity.COURSE: frozenset({"title", "course_code", "org_id"}),
    Entity.SECTION: frozenset(
        {"title", "class_code", "periods", "subjects", "grades", "course_id", "school_id", "term_ids"}
    ),
    Entity.STUDENT: _PERSON
    | {
        *("grade_level", "birth_date", "sex", "races", "hispanic_or_latino", "programs"),
        *("school_id", "school_ids", "guardian_ids"),
    },
    Entity.TEACHER: _PERSON | {"role", "school_ids"},
    # Contacts have no login name, and no state id to be their identifier.
    Entity.GUARDIAN: _PERSON - {"username", "identifier"} | {"phone", "relationship", "student_ids"},
    Entity.ENROLLMENT: frozenset({"role", "primary", "section_id", "person_id", "school_id"}),
}


def capabilities(config: CleverConfig) -> Capabilities:
    """What a source with ``config`` serves: no gradebook, course grades or attendance
    (Clever has none); a student's preferred name from v3.1; a guardian's
    identifier only when ``identifier = "sis_id"`` (contacts have no state id)."""
    fields = dict(_FIELDS)
    if config.api_version != "v3.0":
        fields[Entity.STUDENT] = fields[Entity.STUDENT] | {"preferred_name"}
    if config.identifier == "sis_id":
        fields[Entity.GUARDIAN] = fields[Entity.GUARDIAN] | {"identifier"}
    return Capabilities(
        entities={
            entity: EntitySupport(fields=names, filters=FILTERS[entity]) for entity, names in fields.items()
        }
    )


def _project(record: Record, fields: frozenset[str]) -> Record:
    """A copy holding ``vendor_id`` and only ``fields``: nothing else leaves the adapter."""
    values = {name: getattr(record, name) for name in fields if name != "vendor_id"}
    return type(record)(vendor_id=record.vendor_id, **values)


def _excluded(stream: Stream, filters: dict[str, tuple[str, ...]]) -> bool:
    """Whether a filter rules out everything ``stream`` claims (the staff list of
    another role, the schools when only districts are wanted)."""
    if stream.claim is None:
        return False
    attribute, value = stream.claim
    return attribute in filters and value not in filters[attribute]


@dataclass(slots=True)
class _Contacts:
    """Contacts read during one fetch to fill students' ``guardian_ids``.

    Students found by look-ups or scoped reads have their contacts looked up
    (``/users/{id}/mycontacts``) while they number at most ``max_lookups``
    in all; a whole-list read, or more students, reads the contact list once
    into ``index`` (every student's guardians), which later pages reuse.
    """

    few: bool
    looked_up: int = 0
    index: dict[str, list[str]] | None = None


class CleverAdapter:
    """Serves a Clever district through :class:`VendorClient`, reading on demand.

    - Reads: whole lists (``/users?role=student``, ``/sections``) paged with
      ``limit`` and the body's ``links`` rel ``next``; a request with at most
      ``max_lookups`` ids, or one filter with at most that many values that
      Clever can scope (``/schools/{id}/sections``, ``/users/{id}/mycontacts``),
      is answered by that many look-ups in parallel instead (the client sends
      ``max_concurrency`` at a time). Every filter is applied again here.
    - Paging: ``limit``/``cursor`` are honoured; a cursor is a position in
      the reads (see :mod:`adapters.clever._cursor`), so later pages resume
      with ``starting_after`` instead of reading from the start.
    - Joins: a student's ``guardian_ids`` come from the contacts that name
      the student, only when asked for: ``/users/{id}/mycontacts`` for a few
      students, the whole contact list (once per fetch) for more.
    - Errors: 401 is ``SourceAuthFailed`` naming the token's variable or
      file; 429 waits until ``X-RateLimit-Reset`` (a Unix time: the toolkit
      reads it as such); ``{"message"}`` bodies are summarised without values.
    - Changes: a ``hub.sdk.ChangeFeed`` over Clever's Events API (see
      :meth:`changes` and :mod:`adapters.clever._events`).
    """

    def __init__(
        self,
        config: CleverConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        auth = BearerToken(config.token(), hint=f"check {config.token_name()} (a district-app token)")
        self._client = VendorClient(config, auth, transport=transport, timing=timing)
        self._reader = CleverReader(self._client, config.api_path)
        self._options = m.Options(config.identifier, config.emergency_contacts_are_guardians)
        self._capabilities = capabilities(config)
        self._districts: frozenset[str] | None = None
        self._builders: dict[tuple[Entity, Shape], Callable[[m.Json], Sequence[Record]]] = {
            (Entity.ORGANIZATION, "district"): lambda obj: _one(m.district(obj)),
            (Entity.ORGANIZATION, "school"): lambda obj: _one(m.school(obj)),
            (Entity.ACADEMIC_SESSION, "term"): lambda obj: _one(m.session(obj)),
            (Entity.COURSE, "course"): lambda obj: _one(m.course(obj)),
            (Entity.SECTION, "section"): lambda obj: _one(m.section(obj)),
            (Entity.STUDENT, "user"): lambda obj: _one(m.student(obj, self._options)),
            (Entity.TEACHER, "user"): lambda obj: _one(m.teacher(obj, self._options)),
            (Entity.GUARDIAN, "user"): lambda obj: _one(m.guardian(obj, self._options)),
            (Entity.ENROLLMENT, "section"): m.enrollments,
        }

    @property
    def client(self) -> VendorClient:
        """The source's HTTP client (request counts, for tests and health checks)."""
        return self._client

    def capabilities(self) -> Capabilities:
        """See :func:`capabilities`."""
        return self._capabilities

    async def open(self) -> LoadReport:
        """Check the token with one small read (``/districts``) and remember the district."""
        async with self._client.deadline():
            districts = await self._district_ids()
        if not districts:
            raise SourceAuthFailed(
                self.name,
                f"the token sees no district; check {self.config.token_name()} (a district-app token)",
            )
        return LoadReport(counts={Entity.ORGANIZATION.value: len(districts)})

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    # -- fetch -------------------------------------------------------------------

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer from Clever; only ``vendor_id`` and ``request.fields`` are filled."""
        route = self._check(request)
        start = Position.decode(request.cursor) if request.cursor is not None else Position()
        if start is None:
            raise UnsupportedRequest(self.name, "unknown paging cursor (not one this source returned)")
        empty_filter = any(not values for values in request.filters.values())
        if request.limit == 0 or empty_filter or (request.ids is not None and not request.ids):
            return FetchResult(records=[], total=0 if request.limit != 0 else None)
        async with self._client.deadline():
            plan = await self._plan(route, request)
            if start != Position() and start.stream >= len(plan):
                raise UnsupportedRequest(self.name, "paging cursor no longer valid; start the list again")
            rows, following = await self._answer(route, plan, request, start)
        complete = following is None and start == Position()
        return FetchResult(
            records=[_project(row, request.fields) for row in rows],
            next_cursor=following.encode() if following is not None else None,
            total=len(rows) if complete else None,
        )

    def _check(self, request: FetchRequest) -> Route:
        support = self._capabilities.entities.get(request.entity)
        if support is None:
            raise UnsupportedRequest(
                self.name, f"entity {request.entity} is not served (Clever has no such data)"
            )
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
        if request.limit is not None and request.limit < 0:
            raise UnsupportedRequest(self.name, "limit must not be negative")
        return ROUTES[request.entity]

    async def _district_ids(self) -> frozenset[str]:
        if self._districts is None:
            stream = ROUTES[Entity.ORGANIZATION].lists[0]
            pages = await self._reader.read_all(stream, size=1)
            self._districts = frozenset(
                found for page in pages for obj in page if (found := v.text(obj.get("id")))
            )
        return self._districts

    async def _plan(self, route: Route, request: FetchRequest) -> list[Stream]:
        """The reads answering ``request``: look-ups by id, scoped lists, or whole lists."""
        budget = self.config.max_lookups
        if request.ids is not None:
            keys = _id_keys(route, request.ids)
            if len(keys) <= budget:
                return [await self._look_up(route, key) for key in keys]
        scoped = [
            (name, tuple(dict.fromkeys(values)))
            for name, values in request.filters.items()
            if name in route.scoped and len(set(values)) <= budget
        ]
        if scoped:
            name, values = min(scoped, key=lambda item: len(item[1]))
            return [route.scoped[name].stream(name, value) for value in values]
        return [stream for stream in route.lists if not _excluded(stream, dict(request.filters))]

    async def _look_up(self, route: Route, key: str) -> Stream:
        if route.entity is Entity.ORGANIZATION and key in await self._district_ids():
            path = f"/districts/{quote(key, safe='')}"
            return Stream(path, "district", kind="single", claim=("vendor_id", key), missing_ok=True)
        return route.by_id.stream(route.id_attribute, key)

    async def _answer(
        self, route: Route, plan: Sequence[Stream], request: FetchRequest, start: Position
    ) -> tuple[list[Record], Position | None]:
        """Read the plan from ``start`` until ``request.limit`` records pass.

        Returns the records and the position of the first record not returned
        (``None`` when none is left). Look-ups, and every read of a request
        without a limit, are sent concurrently; lists with a limit one after
        another, so reading stops as soon as the page is full.
        """
        entity, limit = route.entity, request.limit
        ids = frozenset(request.ids) if request.ids is not None else None
        size = self._page_size(entity, plan, request)
        ahead = {
            index: asyncio.ensure_future(
                self._reader.read_all(stream, after=self._after(start, index), size=size)
            )
            for index, stream in enumerate(plan)
            if index >= start.stream and (limit is None or stream.kind == "single")
        }
        contacts = _Contacts(few=not set(plan) & set(route.lists))
        needed = set(request.fields) | set(request.filters)
        taken: list[Record] = []
        try:
            for index in range(start.stream, len(plan)):
                stream = plan[index]
                after = self._after(start, index)
                skip = start.skip if index == start.stream else 0
                previous = after
                async for objects in self._pages(stream, ahead.get(index), after, size):
                    built = [
                        (v.text(obj.get("id")) or "", self._builders[(entity, stream.shape)](obj))
                        for obj in objects
                    ]
                    if "guardian_ids" in needed:
                        await self._fill_guardians([row for _, rows in built for row in rows], contacts)
                    for item_id, rows in built:
                        kept = [row for row in rows if self._keeps(plan, index, row, ids, request)]
                        answered, skip = skip, 0  # only the first item after a resume was partly answered
                        for row in kept[answered:]:
                            if limit is not None and len(taken) >= limit:
                                return taken, Position(index, previous, answered)
                            taken.append(row)
                            answered += 1
                        previous = item_id
        finally:
            for task in ahead.values():
                if not task.done():
                    task.cancel()
                elif not task.cancelled():
                    task.exception()  # a read not waited for failed too: already reported
        return taken, None

    @staticmethod
    def _after(start: Position, index: int) -> str:
        return start.after if index == start.stream else ""

    async def _pages(
        self, stream: Stream, ahead: asyncio.Future[list[list[m.Json]]] | None, after: str, size: int
    ) -> AsyncIterator[list[m.Json]]:
        """The stream's pages, from a read already under way or read now."""
        if ahead is not None:
            for page in await ahead:
                yield page
            return
        async for page in self._reader.pages(stream, after=after, size=size):
            yield page

    def _page_size(self, entity: Entity, plan: Sequence[Stream], request: FetchRequest) -> int:
        """Clever's ``limit``: a page, or just one record more than asked when every
        record read is kept (so the answer knows whether more follow)."""
        size = self.config.page_size
        exact = len(plan) == 1 and plan[0].claim is None and not request.filters and request.ids is None
        if request.limit is not None and exact and entity is not Entity.ENROLLMENT:
            size = max(1, min(size, request.limit + 1))
        return size

    @staticmethod
    def _keeps(
        plan: Sequence[Stream], index: int, row: Record, ids: frozenset[str] | None, request: FetchRequest
    ) -> bool:
        if not claims(plan[index], row) or any(claims(plan[earlier], row) for earlier in range(index)):
            return False
        if ids is not None and row.vendor_id not in ids:
            return False
        return matches(row, request.filters)

    # -- change feed -------------------------------------------------------------

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        """What changed in ``entity`` after the watermark ``since`` (see ``hub.sdk.ChangeFeed``),
        from Clever's Events API; every entity Clever serves has events.

        - ``since`` is ``None``: the newest event's id, where the feed starts
          (one request, ``/events?ending_before=last&limit=1``). With no
          event yet, ``start@<now>``: the feed then starts at its first event
          (every one is newer than the read that follows), as long as that
          is within Clever's 30 days. A district whose token may not read
          events (4xx) has no feed: ``complete=False``.
        - ``since`` given: ``/events?starting_after=<id>&record_type=...``
          (``users`` for people, ``sections`` for sections and enrollments,
          ``districts`` and ``schools`` for organisations, ...) page by page
          along ``links`` rel ``next``. Each event's object becomes records
          exactly as :meth:`fetch` builds them (see ``_events.Folded``:
          ``*.deleted``, and records no longer built from an updated object,
          are ``deleted``). With ``guardian_ids`` asked for, changed students'
          contacts are read as :meth:`fetch` reads them, and students whose
          contacts changed are read again by id. The watermark is the last
          event id read (``None``: nothing new).
        - ``complete=False`` (the hub reads in full): Clever no longer knows
          the event (404: past its 30 days), a ``start@`` mark older than
          that, an unreadable watermark or event, more than ``_EVENT_PAGES``
          pages of events, or an update that does not say what it changed
          where removals depend on it (a section's members, a contact's
          students).
        """
        request = FetchRequest(entity=entity, fields=frozenset(fields))
        self._check(request)
        if since is None:
            async with self._client.deadline():
                return await self._position()
        mark = Mark.decode(since)
        if mark is None or mark.expired(self._now()):
            return Changes(complete=False)
        async with self._client.deadline():
            return await self._delta(request, mark)

    @property
    def _events_path(self) -> str:
        return f"{self.config.api_path}/events"

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._client.timing.wall(), dt.UTC)

    async def _position(self) -> Changes:
        """Where a feed starts: the newest event, or the beginning as of now."""
        started = self._now()  # before the request: an event made meanwhile is newer
        try:
            payload, _ = await self._client.get_json(self._events_path, {"ending_before": "last", "limit": 1})
        except (RequestRejected, SourceAuthFailed) as exc:
            # Events are opt-in and Secure Sync only: without them, full reads (which
            # fail on their own if the token is bad).
            log.warning("source %s: no change feed (%s); reading in full", self.name, exc.reason)
            return Changes(complete=False)
        try:
            items = data_items(payload)
        except (KeyError, TypeError):
            raise BadVendorData(
                self.name, f"{self._events_path} answered a body without a data list"
            ) from None
        if not items:
            return Changes(watermark=Mark(started=started).encode())
        newest = m.unwrap(items[-1])  # only its id matters, whatever its type
        event_id = v.text(newest.get("id")) if newest is not None else None
        return Changes(watermark=event_id) if event_id else Changes(complete=False)

    async def _delta(self, request: FetchRequest, mark: Mark) -> Changes:
        kinds = RECORD_TYPES[request.entity]
        query: list[tuple[str, str | int]] = [("limit", self.config.page_size)]
        query.extend(("record_type", kind) for kind in kinds)
        if mark.after is not None:
            query.append(("starting_after", mark.after))
        folded = self._folded(request)
        last: str | None = None
        paging = BodyLinkPaging(size_param=None, missing_ok=True)
        first = f"{self._events_path}?{urlencode(query)}"
        read = 0
        try:
            async for page in paging.pages(self._client, self._events_path, resume=first):
                if page.payload is None:  # 404: Clever no longer knows the event (30 days)
                    log.info("source %s: the event feed expired; reading in full", self.name)
                    return Changes(complete=False)
                events, skipped = parse_events(page.items, self.name)
                if skipped:
                    return Changes(complete=False)
                for event in events:
                    last = event.id
                    if event.record_type in kinds:  # a looser server may send others
                        folded.take(event)
                read += 1
                if page.next is not None and read >= _EVENT_PAGES:
                    log.info("source %s: over %d pages of events; reading in full", self.name, read)
                    return Changes(complete=False)
        except RequestRejected as exc:
            log.info("source %s: the event feed refused (%s); reading in full", self.name, exc.reason)
            return Changes(complete=False)
        if not folded.complete:
            return Changes(complete=False)
        records = await self._joined(request, folded)
        return Changes(
            records=[_project(record, request.fields) for record in records],
            deleted=list(folded.deleted),
            watermark=last,
        )

    def _folded(self, request: FetchRequest) -> Folded:
        entity = request.entity

        def build(kind: str, obj: m.Json) -> Sequence[Record]:
            return self._builders[(entity, SHAPES[kind])](obj)

        linked = None
        if entity is Entity.STUDENT and "guardian_ids" in request.fields:
            linked = self._students_linked
        return Folded(build, per_object=entity is not Entity.ENROLLMENT, linked=linked)

    def _students_linked(self, kind: str, obj: m.Json) -> Iterable[str]:
        """The students a contact is a guardian of: their ``guardian_ids`` hold it."""
        found = m.guardian(obj, self._options) if kind == "users" else None
        return found.student_ids if found is not None else ()

    async def _joined(self, request: FetchRequest, folded: Folded) -> list[Record]:
        """The changed records with their joins: students' ``guardian_ids`` read now,
        and students whose contacts changed read again."""
        rows = list(folded.records.values())
        if folded.linked is None:  # no guardian_ids asked for: nothing is joined
            return rows
        await self._fill_guardians(rows, _Contacts(few=True))
        others = sorted(folded.touched - folded.records.keys() - folded.deleted.keys())
        if others:
            again = FetchRequest(entity=request.entity, fields=request.fields, ids=tuple(others))
            rows.extend(await fetch_every_page(self.fetch, again))
        return rows

    # -- guardians of students ---------------------------------------------------

    async def _fill_guardians(self, rows: Sequence[Record], contacts: _Contacts) -> None:
        students = [row for row in rows if isinstance(row, Student)]
        if not students:
            return
        budget = self.config.max_lookups - contacts.looked_up
        if contacts.index is None and contacts.few and len(students) <= budget:
            contacts.looked_up += len(students)
            found = await asyncio.gather(*(self._guardians_of(student.vendor_id) for student in students))
            for student, guardian_ids in zip(students, found, strict=True):
                student.guardian_ids = guardian_ids
            return
        if contacts.index is None:
            contacts.index = await self._guardian_index()
        for student in students:
            student.guardian_ids = tuple(contacts.index.get(student.vendor_id, ()))

    async def _guardians_of(self, student_id: str) -> tuple[str, ...]:
        stream = ROUTES[Entity.GUARDIAN].scoped["student_ids"].stream("student_ids", student_id)
        pages = await self._reader.read_all(stream, size=self.config.page_size)
        guardians = [found for page in pages for obj in page if (found := m.guardian(obj, self._options))]
        return tuple(g.vendor_id for g in guardians if student_id in g.student_ids)

    async def _guardian_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for stream in ROUTES[Entity.GUARDIAN].lists:
            for page in await self._reader.read_all(stream, size=self.config.page_size):
                guardians = (m.guardian(obj, self._options) for obj in page)
                for found in (guardian for guardian in guardians if guardian is not None):
                    for student_id in found.student_ids:
                        index[student_id].append(found.vendor_id)
        return index


def _one(record: Record | None) -> Sequence[Record]:
    return (record,) if record is not None else ()


def _id_keys(route: Route, ids: Sequence[str]) -> list[str]:
    """What each id is looked up by: itself, or an enrollment's section."""
    if route.id_attribute == "section_id":
        keys = (m.section_of_enrollment(vendor_id) for vendor_id in ids)
        return list(dict.fromkeys(key for key in keys if key))
    return list(dict.fromkeys(ids))
