"""The ``oneroster-rest`` source: a OneRoster 1.1 or 1.2 REST provider, read live."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.oneroster_rest import _delta as d
from adapters.oneroster_rest import _mapping as m
from adapters.oneroster_rest._choice import Plan, cheapest
from adapters.oneroster_rest._filter import all_of, instant, predicate
from adapters.oneroster_rest._reader import CollectionReader, PushDownRefused, concurrently
from adapters.oneroster_rest._resources import (
    DATE_FROM,
    DATE_TO,
    SEARCH,
    Resource,
    categories,
    demographics,
    line_items,
    resources,
)
from adapters.oneroster_rest.config import OneRosterRestConfig
from hub.sdk import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Capabilities,
    Changes,
    Course,
    CourseGrade,
    Enrollment,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    Guardian,
    LoadReport,
    Organization,
    Record,
    Score,
    Section,
    SourceUnavailable,
    Student,
    Teacher,
    UnsupportedRequest,
    data_fields,
    matches,
    visible,
)
from hub.sdk.http import (
    OAuth1Signer,
    OAuth2ClientCredentials,
    Page,
    RequestRejected,
    SourceAuth,
    Timing,
    VendorClient,
    provider_time,
)

__all__ = ["CAPABILITIES", "CORE_CAPABILITIES", "OneRosterRestAdapter"]

log = logging.getLogger("homeroom.sources.oneroster_rest")

_RECORD_TYPES: dict[Entity, type[Record]] = {
    Entity.ORGANIZATION: Organization,
    Entity.ACADEMIC_SESSION: AcademicSession,
    Entity.COURSE: Course,
    Entity.SECTION: Section,
    Entity.STUDENT: Student,
    Entity.TEACHER: Teacher,
    Entity.GUARDIAN: Guardian,
    Entity.ENROLLMENT: Enrollment,
    Entity.ASSIGNMENT: Assignment,
    Entity.SCORE: Score,
    Entity.COURSE_GRADE: CourseGrade,
    Entity.ATTENDANCE_EVENT: AttendanceEvent,
}

# The same filters as the oneroster-csv adapter: those the provider cannot
# take in filter= are applied here, after reading.
_FILTERS: dict[Entity, frozenset[str]] = {
    Entity.ORGANIZATION: frozenset({"type", "parent_id"}),
    Entity.ACADEMIC_SESSION: frozenset({"type", "parent_id"}),
    Entity.COURSE: frozenset({"org_id"}),
    Entity.SECTION: frozenset({"school_id", "course_id", "term_ids"}),
    Entity.STUDENT: frozenset(
        {"school_id", "grade_level", "guardian_ids", "directory_opt_out", "email", SEARCH}
    ),
    Entity.TEACHER: frozenset({"school_ids", "role", "email", SEARCH}),
    Entity.GUARDIAN: frozenset({"student_ids", "email"}),
    Entity.ENROLLMENT: frozenset({"section_id", "person_id", "role", "school_id"}),
    Entity.ASSIGNMENT: frozenset({"section_id"}),
    Entity.SCORE: frozenset({"student_id", "assignment_id", "section_id"}),
    Entity.COURSE_GRADE: frozenset({"student_id", "section_id", "term_id"}),
    Entity.ATTENDANCE_EVENT: frozenset({"student_id", "section_id", "school_id", DATE_FROM, DATE_TO}),
}
_EXTENSIONS = (Entity.COURSE_GRADE, Entity.ATTENDANCE_EVENT)
_NAME_PARTS = ("given_name", "preferred_name", "middle_name", "family_name")


def name_matches(record: Record, term: str) -> bool:
    """Whether every word of ``term`` occurs in the person's names, ignoring case
    (the ``search`` filter; the same rule as the oneroster-csv adapter's)."""
    text = " ".join(str(part) for name in _NAME_PARTS if (part := getattr(record, name, None))).casefold()
    return all(word in text for word in term.casefold().split())


CAPABILITIES = Capabilities(
    entities={
        entity: EntitySupport(
            fields=frozenset(data_fields(record_type)), filters=_FILTERS[entity], narrowing=True
        )
        for entity, record_type in _RECORD_TYPES.items()
    }
)
"""Every entity with every field, as the oneroster-csv adapter (with ``homeroom_extensions``)."""

CORE_CAPABILITIES = Capabilities(
    entities={
        entity: support for entity, support in CAPABILITIES.entities.items() if entity not in _EXTENSIONS
    }
)
"""Without course grades and attendance (``homeroom_extensions = false``): OneRoster has neither."""

_BUILDERS: dict[Entity, Callable[[m.Json], Record | None]] = {
    Entity.ORGANIZATION: m.organization,
    Entity.ACADEMIC_SESSION: m.session,
    Entity.COURSE: m.course,
    Entity.SECTION: m.section,
    Entity.STUDENT: lambda obj: m.person(obj, Student),
    Entity.TEACHER: lambda obj: m.person(obj, Teacher),
    Entity.GUARDIAN: lambda obj: m.person(obj, Guardian),
    Entity.ENROLLMENT: m.enrollment,
    Entity.COURSE_GRADE: m.course_grade,
    Entity.ATTENDANCE_EVENT: m.attendance_event,
}
_ATTEMPTS = 3  # plans tried when a provider refuses a push-down
_COUNT_PAGES = 5  # a stream filtered here is read whole to count it when no longer than this
_NARROWED = "v"  # cursor prefix: the list is read by the caller's relations (visible_if)


@dataclass(slots=True)
class _Joined:
    """What joins found during one fetch (or change read), so later pages do not
    ask again: per joined collection, the objects found by sourcedId, the ids
    already asked for, and whether the collection was read whole."""

    found: dict[str, dict[str, m.Json]] = field(default_factory=dict)
    asked: dict[str, set[str]] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)
    expected: int = 0  # rows the fetch will join in all, when known: sizes the first look-up
    # Chunks of one fetch are read concurrently: one join at a time, so a
    # chunk never reads an object another chunk is still fetching.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(slots=True)
class _Delta:
    """What a change read found: records by id, deleted ids, the newest date."""

    records: dict[str, Record] = field(default_factory=dict)
    deleted: dict[str, None] = field(default_factory=dict)  # ordered, without repeats
    newest: d.Newest = field(default_factory=d.Newest)


@dataclass(slots=True)
class _Scan:
    """Records read from one stream, and where it stopped."""

    records: list[Record]
    resume: int | None  # vendor offset after the last record taken; None at the end
    total: int | None


def _project(record: Record, fields: frozenset[str]) -> Record:
    """A copy holding ``vendor_id`` and only ``fields``: nothing else leaves the adapter."""
    values = {name: getattr(record, name) for name in fields if name != "vendor_id"}
    return type(record)(vendor_id=record.vendor_id, **values)


class OneRosterRestAdapter:
    """Serves a OneRoster 1.1/1.2 REST provider, live, through :class:`VendorClient`.

    - Projection: ``fields=`` asks only for the OneRoster fields behind the
      requested attributes (plus id, status and what decides a user's kind).
    - Filters: one of a request's filters (the one with fewest values) or
      its ids go into ``filter=`` as ``OR`` chunks of at most
      ``filter_predicates`` predicates and ``filter_length`` characters
      (values quoted, inner quotes doubled); every filter is then applied
      again here, so a provider's looser matching cannot widen an answer.
      A look-up needing more chunk requests than reading the whole
      collection (by ``X-Total-Count``) reads the collection instead.
    - Narrowing: ``visible_if`` is applied to every row; the caller's
      relations are also a way of reading the rows, and when it costs fewer
      requests than the request's own restriction it is the one read (a
      teacher's scores by section, not by student), so the count does not
      grow with the teacher's students nor the district. What a way costs
      is learnt from its streams' first pages (or remembered sizes), which
      the read then starts from: nothing is read twice to be counted.
    - Paging: ``limit``/``offset`` to the end, ``X-Total-Count``; a request's
      ``cursor`` is the provider offset to resume at (the offset itself for a
      whole collection, ``o`` + offset for a filtered one) or, for answers
      merged from several chunks, a position in them (``r`` + n); ``v``
      before either: the list is read by the caller's relations.
    - People: students come from ``/students``; teachers (all staff) and
      guardians from ``/users``, by their primary role, as the CSV adapter.
    - Joins: demographics onto students, category titles onto line items,
      and (1.1) the line item's class onto results, only when asked for.
      A join reads its collection at most once per fetch: by ids in chunks,
      or whole when that is fewer requests for the rows the fetch will read,
      and then never again for the fetch's later pages.
    - Reads to the end (no limit, or a limit the provider's count covers)
      ask for the pages after the first at once, within ``max_concurrency``.
    - Change feed (:meth:`changes`): ``filter=dateLastModified>'<since>'``
      per collection, ``tobedeleted`` rows reported deleted.
    """

    def __init__(
        self,
        config: OneRosterRestConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.version = config.version
        self._client = VendorClient(config, self._auth(config), transport=transport, timing=timing)
        self._reader = CollectionReader(self._client, config.filter_predicates, config.filter_length)
        self._resources = resources(config.version)
        self._capabilities = CAPABILITIES if config.homeroom_extensions else CORE_CAPABILITIES
        self._extension_missing = False

    @staticmethod
    def _auth(config: OneRosterRestConfig) -> SourceAuth:
        hint = f"check {config.secret_names()}"
        if config.auth == "oauth1":
            return OAuth1Signer(
                config.client_id(),
                config.client_secret(),
                signature_method=config.oauth1_signature_method,
                hint=hint,
            )
        assert config.token_url is not None  # the config requires it for oauth2
        return OAuth2ClientCredentials(
            config.token_url,
            config.client_id(),
            config.client_secret(),
            scope=config.scope,
            auth_method=config.token_auth_method,
            hint=f"{hint} and token_url",
        )

    @property
    def client(self) -> VendorClient:
        """The source's HTTP client (request counts, for tests and health checks)."""
        return self._client

    def capabilities(self) -> Capabilities:
        """Every entity and field of the CSV adapter; course grades and attendance
        only with ``homeroom_extensions``."""
        return self._capabilities

    async def open(self) -> LoadReport:
        """Check that the provider answers and takes the credentials (one small read)."""
        self._reader.forget()
        self._extension_missing = False
        resource = self._resources[Entity.ORGANIZATION]
        async with self._client.deadline():
            for _ in range(_ATTEMPTS):
                try:
                    total = await self._reader.size(resource)
                except PushDownRefused:
                    continue
                except RequestRejected as exc:
                    if exc.status != 404:
                        raise
                    # No orgs endpoint where it should be: the URL or version is wrong.
                    raise SourceUnavailable(
                        self.name, f"{exc.reason}; check base_url and version ({self.version})"
                    ) from None
                counts = {Entity.ORGANIZATION.value: total} if total is not None else {}
                return LoadReport(counts=counts)
        return LoadReport()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    # -- fetch ---------------------------------------------------------------

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer from the provider; only ``vendor_id`` and ``request.fields`` are filled."""
        resource = self._check(request)
        if request.ids is not None and not request.ids:
            return FetchResult(records=[], total=0)
        if request.visible_if and not any(values for _, values in request.visible_if):
            return FetchResult(records=[], total=0)  # the caller can be related to no row
        if resource.extension and self._extension_missing:
            return FetchResult(records=[], total=0)
        kind, narrowed, start = self._cursor(request.cursor)
        async with self._client.deadline():
            for _ in range(_ATTEMPTS):
                try:
                    return await self._fetch(resource, request, kind, narrowed, start)
                except PushDownRefused:
                    continue
                except RequestRejected as exc:
                    if resource.extension and exc.status == 404:
                        log.info("source %s: no Homeroom extension endpoint %s", self.name, resource.path)
                        self._extension_missing = True
                        return FetchResult(records=[], total=0)
                    raise
        raise UnsupportedRequest(self.name, f"the provider refused every way of reading {resource.path}")

    # -- change feed ---------------------------------------------------------

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        """What changed in ``entity`` after the watermark ``since`` (see ``hub.sdk.ChangeFeed``).

        - ``since`` given: ``filter=dateLastModified>'since'`` on the entity's
          collection, with ``fields=`` and paging as :meth:`fetch`; rows
          ``tobedeleted`` (or 1.1 ``inactive``) and changed rows no longer of
          this entity (a user whose role changed) are ``deleted``, the rest
          are ``records``. Joined collections the fields use are read the
          same way, and the records whose joined object changed are read again.
          The watermark is the newest ``dateLastModified`` of the entity's
          rows, or, when none changed, the provider's clock (its ``Date``
          header, else ours) less a few seconds; it never moves back.
        - ``since`` is ``None``: only the watermark to start from, the
          collection's newest ``dateLastModified`` (one sorted read of one row).
        - A provider refusing the date filter has no feed: ``complete=False``.
        """
        request = FetchRequest(entity=entity, fields=frozenset(fields))
        resource = self._check(request)
        if resource.extension and self._extension_missing:
            return Changes(watermark=since)
        async with self._client.deadline():
            for _ in range(_ATTEMPTS):
                try:
                    if since is None:
                        return Changes(watermark=await self._position(resource))
                    return await self._delta(resource, request, since)
                except PushDownRefused:
                    joins = d.dependents(self.version, entity, self._attributes(request))
                    read = [resource, *(dependent.resource for dependent in joins)]
                    if not all(self._reader.can_push(each, d.MODIFIED) for each in read):
                        log.warning("source %s: no dateLastModified filter on %s", self.name, resource.path)
                        return Changes(watermark=since, complete=False)
                except RequestRejected as exc:
                    if resource.extension and exc.status == 404:
                        self._extension_missing = True
                        return Changes(watermark=since)
                    raise
        return Changes(watermark=since, complete=False)

    async def _position(self, resource: Resource) -> str | None:
        """The newest ``dateLastModified`` of the collection: where a feed starts."""
        started: dt.datetime | None = None
        try:
            # No fields=: a refused sort must not be taken for a refused projection.
            async for page in self._reader.pages(resource, None, None, page_size=1, newest_first=d.MODIFIED):
                started = provider_time(page.headers)
                newest = d.Newest()
                for item in page.items:
                    if isinstance(item, dict):
                        newest.see(item)
                if newest.text is not None or not page.items:
                    return newest.text
                break
        except RequestRejected as exc:
            if exc.status not in (400, 422):
                raise
        # No sorting (or no dates): the clock, held back, is a safe place to start.
        return _clock_watermark(started, None)

    async def _delta(self, resource: Resource, request: FetchRequest, since: str) -> Changes:
        attributes = self._attributes(request)
        fields = ",".join(sorted({*resource.vendor_fields(attributes).split(","), d.MODIFIED}))
        bound = instant(since)
        joined, delta = _Joined(), _Delta()
        started: dt.datetime | None = None
        async for page in self._reader.pages(resource, fields, d.since_filter(since), ahead=True):
            started = started or provider_time(page.headers)
            changed = [obj for obj in page.items if isinstance(obj, dict) and d.changed_after(obj, bound)]
            for obj in changed:
                delta.newest.see(obj)
            await self._take(resource, changed, attributes, joined, delta)
        for dependent in d.dependents(self.version, resource.entity or request.entity, attributes):
            keys = await self._changed_ids(dependent.resource, since, bound)
            if not keys:
                continue
            for expression in await self._reader.plan(resource, dependent.vendor_field, sorted(keys)):
                async for page in self._reader.pages(resource, fields, expression, ahead=True):
                    linked = [
                        obj for obj in page.items if isinstance(obj, dict) and dependent.key_of(obj) in keys
                    ]
                    await self._take(resource, linked, attributes, joined, delta)
        records = [_project(record, request.fields) for key, record in delta.records.items()]
        watermark = delta.newest.text or _clock_watermark(started, since)
        return Changes(records=records, deleted=list(delta.deleted), watermark=watermark)

    async def _take(
        self,
        resource: Resource,
        objects: Sequence[m.Json],
        attributes: frozenset[str],
        joined: _Joined,
        delta: _Delta,
    ) -> None:
        """Sort changed rows into ``delta``: deleted ids, or records built as :meth:`fetch` builds them."""
        live: list[m.Json] = []
        for obj in objects:
            if m.is_gone(obj):
                if isinstance(key := obj.get("sourcedId"), str) and key:
                    delta.records.pop(key, None)
                    delta.deleted[key] = None
            else:
                live.append(obj)
        built = dict(await self._build(resource, live, attributes, joined))
        for index, obj in enumerate(live):
            record = built.get(index)
            if record is not None:
                delta.records[record.vendor_id] = record
                delta.deleted.pop(record.vendor_id, None)
            elif isinstance(key := obj.get("sourcedId"), str) and key and key not in delta.records:
                # Changed, and no longer one of this entity's (a user's role changed).
                delta.deleted[key] = None

    async def _changed_ids(self, resource: Resource, since: str, bound: dt.datetime | None) -> set[str]:
        """Ids of a joined collection's objects changed (or deleted) after ``since``."""
        keys: set[str] = set()
        fields = f"{d.MODIFIED},sourcedId,status"
        async for page in self._reader.pages(resource, fields, d.since_filter(since), ahead=True):
            for obj in page.items:
                key = obj.get("sourcedId") if isinstance(obj, dict) else None
                if isinstance(key, str) and key and d.changed_after(obj, bound):
                    keys.add(key)
        return keys

    def _check(self, request: FetchRequest) -> Resource:
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
        search = request.filters.get(SEARCH)
        if search is not None and len(search) != 1:
            raise UnsupportedRequest(self.name, "search takes one term")
        for name in (DATE_FROM, DATE_TO):
            values = request.filters.get(name)
            if values is not None and (len(values) != 1 or not _is_iso_date(values[0])):
                raise UnsupportedRequest(self.name, f"{name} takes one ISO date (YYYY-MM-DD)")
        if request.limit is not None and request.limit < 0:
            raise UnsupportedRequest(self.name, "limit must not be negative")
        return self._resources[request.entity]

    def _cursor(self, cursor: str | None) -> tuple[str, bool, int]:
        """(kind, read by the caller's relations, position) of a cursor this source returned."""
        if cursor is None:
            return "", False, 0
        narrowed = cursor.startswith(_NARROWED)
        text = cursor[len(_NARROWED) :] if narrowed else cursor
        # A whole-collection offset is plain digits, as the CSV adapter's cursors.
        kind, number = ("w", text) if text[:1].isdigit() and not narrowed else (text[:1], text[1:])
        if kind not in ("o", "w", "r") or not (number.isascii() and number.isdigit()):
            raise UnsupportedRequest(self.name, "unknown paging cursor (not one this source returned)")
        return kind, narrowed, int(number)

    async def _fetch(
        self, resource: Resource, request: FetchRequest, kind: str, narrowed: bool, start: int
    ) -> FetchResult:
        plan = Plan((None,)) if kind == "w" else await self._plan(resource, request, kind, narrowed)
        expressions = plan.expressions
        if kind == "o" and (len(expressions) != 1 or expressions[0] is None):
            raise UnsupportedRequest(self.name, "paging cursor no longer valid; start the list again")
        if kind == "r" or len(expressions) != 1:
            return await self._merged(resource, request, plan, start)
        expression = expressions[0]
        joined = _Joined()
        first = plan.firsts.get(expression)
        scan = await self._scan(
            resource, request, expression, start, request.limit, joined, first if start == 0 else None
        )
        total = scan.total
        if not (resource.exact and self._fully_pushed(request, expression)):
            total = await self._count(resource, request, expression, start, scan, joined, first)
        prefix = ("" if expression is None else "o") if not plan.narrowed else _NARROWED + "o"
        records = [_project(record, request.fields) for record in scan.records]
        next_cursor = f"{prefix}{scan.resume}" if scan.resume is not None else None
        return FetchResult(records=records, next_cursor=next_cursor, total=total)

    async def _count(
        self,
        resource: Resource,
        request: FetchRequest,
        expression: str | None,
        start: int,
        scan: _Scan,
        joined: _Joined,
        first: Page | None,
    ) -> int | None:
        """The number of matching records when filtering here: known when the
        scan saw the whole stream, counted when the stream is a few pages, else
        ``None`` (the SDK's "not known cheaply")."""
        if start == 0 and scan.resume is None:
            return len(scan.records)
        if scan.total is None or scan.total > _COUNT_PAGES * self.config.page_size:
            return None
        whole = await self._scan(resource, request, expression, 0, None, joined, first)
        return len(whole.records)

    async def _merged(self, resource: Resource, request: FetchRequest, plan: Plan, start: int) -> FetchResult:
        """Read every stream to the end at once, merge in plan order, page in memory."""
        joined = _Joined()
        scans = await concurrently(
            [
                self._scan(resource, request, expression, 0, None, joined, plan.firsts.get(expression))
                for expression in plan.expressions
            ]
        )
        rows: list[Record] = []
        seen: set[str] = set()
        for scan in scans:
            for record in scan.records:
                if record.vendor_id not in seen:
                    seen.add(record.vendor_id)
                    rows.append(record)
        end = len(rows) if request.limit is None else min(len(rows), start + request.limit)
        page = [_project(record, request.fields) for record in rows[start:end]]
        prefix = _NARROWED if plan.narrowed else ""
        next_cursor = f"{prefix}r{end}" if end < len(rows) else None
        return FetchResult(records=page, next_cursor=next_cursor, total=len(rows))

    def _fully_pushed(self, request: FetchRequest, expression: str | None) -> bool:
        """Whether the provider's count is the answer's: nothing left to filter here."""
        restrictions = len(request.filters) + (request.ids is not None) + bool(request.visible_if)
        if restrictions == 0:
            return expression is None
        dates_only = (
            set(request.filters) <= {DATE_FROM, DATE_TO} and request.ids is None and not request.visible_if
        )
        return expression is not None and (restrictions == 1 or dates_only)

    async def _plan(self, resource: Resource, request: FetchRequest, kind: str, narrowed: bool) -> Plan:
        """The filter expressions to read with: one stream, or several chunks.

        The request's own restriction (its ids, else the filter with fewest
        values) is read in chunks, or the collection whole when that is
        fewer requests. The caller's relations (``visible_if``) are another
        way to the same rows, and may cost less: the scores a teacher can
        see of 150 students are in the teacher's five sections, one page
        instead of pages of every class those students take. The cheaper
        is chosen (see :func:`cheapest`); a cursor's page is read the way its
        first page was (``kind`` and ``narrowed`` say which).
        """
        relations = self._narrowed(resource, request) if request.visible_if else None
        if narrowed:
            if relations is None:
                raise UnsupportedRequest(self.name, "paging cursor no longer valid; start the list again")
            return Plan(relations, narrowed=True)
        bounds = self._bounds(resource, request)
        own = self._own_restriction(resource, request)
        plan = [bounds] if own is None else await self._reader.plan(resource, *own)
        if plan == [None]:
            plan = [bounds]
        if relations is None or kind in ("o", "r"):
            return Plan(tuple(plan))
        fields = resource.vendor_fields(self._attributes(request))
        unrestricted = own is None or plan == [bounds]
        return await cheapest(self._reader, resource, fields, plan, relations, own_unrestricted=unrestricted)

    def _own_restriction(self, resource: Resource, request: FetchRequest) -> tuple[str, Sequence[str]] | None:
        """(vendor field, values) of the request's tightest restriction the provider
        can filter by: its ids or one of its filters, whichever has fewest values
        (the hub re-asks rows by id within the filters that found them)."""
        candidates: list[tuple[str, Sequence[str]]] = [
            (resource.filters[name], values)
            for name, values in request.filters.items()
            if name in resource.filters
            and name not in (DATE_FROM, DATE_TO)
            and self._reader.can_push(resource, resource.filters[name])
        ]
        if request.ids is not None and self._reader.can_push(resource, "sourcedId"):
            candidates.insert(0, ("sourcedId", request.ids))
        return min(candidates, key=lambda candidate: len(candidate[1])) if candidates else None

    def _bounds(self, resource: Resource, request: FetchRequest) -> str | None:
        """The date range as a filter expression (``None`` when there is none to push)."""
        bounds = [
            predicate(resource.filters[name], operator, request.filters[name][0])
            for name, operator in ((DATE_FROM, ">="), (DATE_TO, "<="))
            if name in request.filters and self._reader.can_push(resource, resource.filters[name])
        ]
        return all_of(bounds[: self.config.filter_predicates]) if bounds else None

    def _narrowed(self, resource: Resource, request: FetchRequest) -> tuple[str, ...] | None:
        """``visible_if`` as ``OR`` chunks whose union holds every row the caller
        can see (``None`` when one of its attributes cannot be filtered by)."""
        chunks: list[str] = []
        for attribute, values in request.visible_if:
            field = "sourcedId" if attribute == "vendor_id" else resource.filters.get(attribute)
            if field is None or not self._reader.can_push(resource, field):
                return None
            chunks.extend(self._reader.expressions(field, values))
        return tuple(dict.fromkeys(chunks))

    def _attributes(self, request: FetchRequest) -> frozenset[str]:
        """Attributes to read: those asked for and those the filters test."""
        names = set(request.fields) | set(request.filters) - {DATE_FROM, DATE_TO, SEARCH, "vendor_id"}
        names.update(attribute for attribute, _ in request.visible_if)
        if DATE_FROM in request.filters or DATE_TO in request.filters:
            names.add("date")
        if SEARCH in request.filters:
            names.update(_NAME_PARTS)
        return frozenset(names - {"vendor_id"})

    async def _scan(
        self,
        resource: Resource,
        request: FetchRequest,
        expression: str | None,
        offset: int,
        limit: int | None,
        joined: _Joined | None = None,
        first: Page | None = None,
    ) -> _Scan:
        """Read one stream from ``offset`` until ``limit`` records pass or it ends;
        ``first``: its page at offset 0 when already read (only used from there)."""
        attributes = self._attributes(request)
        fields = resource.vendor_fields(attributes)
        ids = frozenset(request.ids) if request.ids is not None else None
        filters = {name: values for name, values in request.filters.items() if name != SEARCH}
        terms = request.filters.get(SEARCH, ())
        size = self.config.page_size
        exact = self._fully_pushed(request, expression) and resource.exact
        if limit is not None and exact:
            size = max(1, min(size, limit))  # every row read is kept: ask for no more than needed
        taken: list[Record] = []
        total: int | None = None
        joined = joined or _Joined()
        if limit == 0:
            size = 1
        # Pages are asked for at once only when all of them are needed: to the
        # end, or up to the limit when every row read is kept.
        ahead = limit is None or exact
        until = None if limit is None else offset + limit
        if offset != 0:
            first = None
        async for page in self._reader.pages(
            resource,
            fields,
            expression,
            resume=str(offset),
            page_size=size,
            ahead=ahead,
            until=until,
            first=first,
        ):
            if total is None:
                total = page.total
                if page.total is not None:
                    joined.expected = max(joined.expected, min(page.total - offset, limit or page.total))
            built = await self._build(resource, page.items, attributes, joined)
            for index, record in built:
                if ids is not None and record.vendor_id not in ids:
                    continue
                if not matches(record, filters) or (terms and not name_matches(record, terms[0])):
                    continue
                if not visible(record, request.visible_if):
                    continue
                if limit is not None and len(taken) >= limit:
                    return _Scan(taken, int(page.position) + index, total)
                taken.append(record)
            if limit is not None and len(taken) >= limit:
                after = int(page.position) + len(page.items)
                return _Scan(taken, after if page.next is not None else None, total)
        return _Scan(taken, None, total)

    async def _build(
        self, resource: Resource, items: Sequence[Any], attributes: frozenset[str], joined: _Joined
    ) -> list[tuple[int, Record]]:
        """Records of a page with their index in it, joined with what they need."""
        objects = [(index, item) for index, item in enumerate(items) if isinstance(item, dict)]
        if len(objects) < len(items):
            log.warning("source %s: %d malformed objects skipped", self.name, len(items) - len(objects))
        entity = resource.entity
        built: list[tuple[int, Record | None]]
        if entity is Entity.ASSIGNMENT:
            titles = await self._category_titles(objects, joined) if "category" in attributes else {}
            built = [(index, m.assignment(obj, titles)) for index, obj in objects]
        elif entity is Entity.SCORE:
            classes = await self._line_item_classes(objects, joined) if "section_id" in attributes else {}
            built = [(index, m.score(obj, classes)) for index, obj in objects]
        else:
            assert entity is not None
            build = _BUILDERS[entity]
            built = [(index, build(obj)) for index, obj in objects]
        records = [(index, record) for index, record in built if record is not None]
        if entity is Entity.STUDENT and attributes & m.DEMOGRAPHIC_FIELDS:
            students = [record for _, record in records]
            await self._join_demographics(students, joined, attributes & m.DEMOGRAPHIC_FIELDS)
        return records

    async def _join(
        self, resource: Resource, fields: str, keys: set[str], joined: _Joined
    ) -> dict[str, m.Json]:
        """Objects of the joined ``resource`` for ``keys`` (sourcedIds), read at most
        once per fetch: ids asked before, or a collection read whole, cost nothing."""
        async with joined.lock:
            found = joined.found.setdefault(resource.path, {})
            if resource.path in joined.whole:
                return found
            asked = joined.asked.setdefault(resource.path, set())
            wanted = sorted(keys - asked)
            if wanted:
                asked.update(wanted)
                lookup = await self._reader.objects(resource, fields, "sourcedId", wanted, joined.expected)
                # A deleted joined object must not lend its values to a record.
                found.update((key, obj) for key, obj in lookup.found.items() if not m.is_gone(obj))
                if lookup.whole:
                    joined.whole.add(resource.path)
            return found

    async def _category_titles(
        self, objects: Sequence[tuple[int, m.Json]], joined: _Joined
    ) -> dict[str, str]:
        refs = {ref for _, obj in objects if (ref := _ref(obj.get("category")))}
        found = await self._join(categories(self.version), "sourcedId,status,title", refs, joined)
        return {
            key: title for key, obj in found.items() if isinstance(title := obj.get("title"), str) and title
        }

    async def _line_item_classes(
        self, objects: Sequence[tuple[int, m.Json]], joined: _Joined
    ) -> dict[str, str]:
        # Only results that name no class (OneRoster 1.1) need their line item's.
        refs = {
            ref for _, obj in objects if not _ref(obj.get("class")) and (ref := _ref(obj.get("lineItem")))
        }
        if not refs:
            return {}
        found = await self._join(line_items(self.version), "class,sourcedId,status", refs, joined)
        return {key: section for key, obj in found.items() if (section := _ref(obj.get("class")))}

    async def _join_demographics(
        self, students: Sequence[Record], joined: _Joined, attributes: frozenset[str]
    ) -> None:
        if not students:
            return
        resource = demographics(self.version)
        fields = resource.vendor_fields(attributes)
        found = await self._join(resource, fields, {s.vendor_id for s in students}, joined)
        for student in students:
            if isinstance(student, Student):
                m.apply_demographics(student, found.get(student.vendor_id))


def _clock_watermark(started: dt.datetime | None, since: str | None) -> str | None:
    """A watermark from the provider's clock at the start of a read (ours when it
    sent no ``Date``), held back by the skew; ``None`` (keep ``since``) rather
    than a watermark earlier than ``since``."""
    moment = (started or dt.datetime.now(dt.UTC)) - d.SKEW
    previous = instant(since) if since is not None else None
    if previous is not None and moment <= previous:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("sourcedId")
    return value if isinstance(value, str) and value else None


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
