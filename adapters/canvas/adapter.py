"""The ``canvas`` source: a Canvas LMS instance, read live through its REST API."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from adapters.canvas._changes import ScoreFeed
from adapters.canvas._plan import api_path
from adapters.canvas._reads import Reads, Walk
from adapters.canvas._routes import RouteCache
from adapters.canvas._throttle import CanvasThrottle
from adapters.canvas._walk import Chain, Mark, Position, Walker, decode_position, encode_position
from adapters.canvas.config import API_PREFIX, CanvasConfig
from hub.sdk import (
    RECORD_TYPES,
    BadVendorData,
    Capabilities,
    Changes,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    Record,
    UnsupportedRequest,
    data_fields,
    matches,
)
from hub.sdk.http import BearerToken, RequestRejected, Timing, VendorClient

__all__ = ["CAPABILITIES", "CanvasAdapter"]

log = logging.getLogger("homeroom.sources.canvas")

# Attributes Canvas has no data for are left out, so the hub never asks for them.
_NOT_SERVED: dict[Entity, frozenset[str]] = {
    Entity.ACADEMIC_SESSION: frozenset({"school_year", "parent_id"}),
    Entity.COURSE: frozenset({"grades", "subjects", "org_id", "school_year_id"}),
    Entity.SECTION: frozenset({"class_type", "location", "periods", "subjects", "grades", "school_id"}),
    Entity.STUDENT: frozenset(
        {
            *("middle_name", "preferred_name", "enabled", "grade_level", "birth_date", "sex", "races"),
            *("hispanic_or_latino", "programs", "directory_opt_out", "school_id", "school_ids"),
        }
    ),
    Entity.TEACHER: frozenset({"middle_name", "preferred_name", "enabled", "phone", "school_ids"}),
    Entity.GUARDIAN: frozenset({"middle_name", "preferred_name", "enabled", "phone", "relationship"}),
    Entity.ENROLLMENT: frozenset({"primary", "school_id"}),
    Entity.ASSIGNMENT: frozenset({"grading_period_id"}),
    Entity.SCORE: frozenset(),
    Entity.COURSE_GRADE: frozenset({"term_id"}),
}
_FILTERS: dict[Entity, frozenset[str]] = {
    Entity.ACADEMIC_SESSION: frozenset(),
    Entity.COURSE: frozenset(),
    Entity.SECTION: frozenset({"course_id", "term_ids"}),
    Entity.STUDENT: frozenset(),
    Entity.TEACHER: frozenset({"role"}),
    Entity.GUARDIAN: frozenset({"student_ids"}),
    Entity.ENROLLMENT: frozenset({"section_id", "person_id", "role"}),
    Entity.ASSIGNMENT: frozenset({"section_id"}),
    Entity.SCORE: frozenset({"section_id", "assignment_id", "student_id"}),
    Entity.COURSE_GRADE: frozenset({"section_id", "student_id"}),
}

CAPABILITIES = Capabilities(
    entities={
        entity: EntitySupport(
            fields=frozenset(data_fields(RECORD_TYPES[entity])) - _NOT_SERVED[entity],
            filters=_FILTERS[entity],
        )
        for entity in _FILTERS
    }
)
"""What Canvas holds: no organisations (accounts are not schools) and no attendance."""

_WALK, _LIST = "w", "i"  # cursor kinds: a walk position, an offset into records read at once


def _project(record: Record, fields: frozenset[str]) -> Record:
    """A copy holding ``vendor_id`` and only ``fields``: nothing else leaves the adapter."""
    values = {name: getattr(record, name) for name in fields if name != "vendor_id"}
    return type(record)(vendor_id=record.vendor_id, **values)


class CanvasAdapter:
    """Serves a Canvas account, live, through one :class:`VendorClient`.

    How each entity is read (see :mod:`adapters.canvas._reads`):

    - Courses and terms: the account's lists; sections: each course's.
    - People: the account's users by enrollment type (student; teacher and
      TA; observer). By id: one ``GET /courses/:id/users?user_ids[]=...`` per
      course the people were last seen in, the rest from the account list.
    - Enrollments and course grades: per section, per user, or per course.
    - Assignments: per course, one record per section that sees each one.
    - Scores: per section, in bulk (``/sections/:id/students/submissions``
      with ``student_ids[]=all``, or the students asked for): never one
      request per student and assignment. Canvas cannot list a student's
      submissions across courses, so scores by ``student_id`` first read
      those students' enrollments (one list per student) and then each of
      their sections' submissions for just those students, at once.

    Everything read is filtered again here against the request's ids and
    filters. Paging follows ``Link`` headers; cursors resume at the record.
    Throttling (``403 Rate Limit Exceeded``, 429, ``X-Rate-Limit-Remaining``)
    is handled by :class:`~adapters.canvas._throttle.CanvasThrottle`.

    Change feed (:meth:`changes`): scores only, by Canvas's ``graded_since``
    and ``submitted_since`` (see :mod:`adapters.canvas._changes`); every other
    entity is re-read in full at its interval.
    """

    def __init__(
        self,
        config: CanvasConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        api = config.model_copy(update={"base_url": f"{config.base_url}/{API_PREFIX}"})
        self.throttle = CanvasThrottle(
            transport or httpx.AsyncHTTPTransport(limits=_limits(config)),
            low_water=config.throttle_low_water,
            refill_per_second=config.throttle_refill_per_second,
            max_pause=config.backoff_max,
            timing=timing,
        )
        auth = BearerToken(config.token(), hint=f"check {config.token_name()}")
        self._client = VendorClient(api, auth, transport=self.throttle, timing=timing)
        self._base = str(self._client.base_url)
        self.walker = Walker(self._client, config.per_page)
        self.routes = RouteCache()
        self._reads = Reads(self._client, self.walker, self.routes, config)
        self._scores = ScoreFeed(self._reads, self.fetch)

    @property
    def client(self) -> VendorClient:
        """The source's HTTP client (request counts, for tests and health checks)."""
        return self._client

    def capabilities(self) -> Capabilities:
        """Terms, courses, sections, people, enrollments, assignments, scores, course grades."""
        return CAPABILITIES

    async def open(self) -> LoadReport:
        """Check that Canvas answers, takes the token and knows the account (and term)."""
        async with self._client.deadline():
            try:
                await self._client.get_json(api_path("accounts", self.config.account_id))
            except RequestRejected as exc:
                if exc.status == 404:
                    raise BadVendorData(self.name, "no such account; check account_id") from None
                raise
            await self._reads.term()
        return LoadReport()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer from Canvas; only ``vendor_id`` and ``request.fields`` are filled."""
        self._check(request)
        if request.ids is not None and not request.ids:
            return FetchResult(records=[], total=0)
        attributes = frozenset(set(request.fields) | set(request.filters)) - {"vendor_id"}
        async with self._client.deadline():
            read = await self._reads.plan(request, attributes)
            if isinstance(read, list):
                return self._listed(request, read)
            if request.limit is None and request.cursor is None:
                made = await read.make(await self.walker.collect(read.levels))
                records = self._kept(request, made)
                return FetchResult(records=[_project(r, request.fields) for r in records], total=len(records))
            return await self._paged(request, read)

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        """What changed in ``entity`` after the watermark ``since`` (see ``hub.sdk.ChangeFeed``).

        - Scores: ``since`` is ``None``: the watermark to start from, the
          instance's clock (the ``Date`` of one small request) less a few
          seconds. Otherwise, per course, the submissions graded or handed in
          after ``since`` (``graded_since`` and ``submitted_since``), read
          again by id as :meth:`fetch` reads them; the next watermark is the
          instance's clock at the start of the delta, less those seconds,
          never earlier than ``since``. Nothing is reported ``deleted``:
          Canvas lists no deleted submissions, so those (and a grade taken
          away, or a comment changed without grading) wait for the full
          re-read (nightly, by default).
        - Every other entity (terms, courses, sections, people, enrollments,
          course grades, assignments) has no delta in Canvas's API:
          ``complete=False`` with the watermark unchanged, so the hub re-reads
          it in full at its own interval. The assignments list offers only
          ``order_by`` (position, name, due date) and ``bucket`` (due-date
          windows), neither of which says what changed.
        """
        self._check(FetchRequest(entity=entity, fields=frozenset(fields)))
        if entity is not Entity.SCORE:
            return Changes(watermark=since, complete=False)
        async with self._client.deadline():
            if since is None:
                return Changes(watermark=await self._scores.start())
            return await self._scores.since(since, frozenset(fields))

    def _check(self, request: FetchRequest) -> None:
        support = CAPABILITIES.entities.get(request.entity)
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
        if request.limit is not None and request.limit < 0:
            raise UnsupportedRequest(self.name, "limit must not be negative")
        if request.cursor is not None and request.cursor[:1] not in (_WALK, _LIST):
            raise UnsupportedRequest(self.name, "unknown paging cursor (not one this source returned)")

    def _kept(self, request: FetchRequest, made: Sequence[Record | None]) -> list[Record]:
        """The records matching the request's ids and filters, once each."""
        ids = set(request.ids) if request.ids is not None else None
        kept: list[Record] = []
        seen: set[str] = set()
        for record in made:
            if record is None or record.vendor_id in seen:
                continue
            if (ids is None or record.vendor_id in ids) and matches(record, request.filters):
                seen.add(record.vendor_id)
                kept.append(record)
        return kept

    def _listed(self, request: FetchRequest, read: list[Record]) -> FetchResult:
        """A page of records read at once (look-ups by id): the cursor is an offset."""
        records = self._kept(request, read)
        start = 0
        if request.cursor is not None:
            number = request.cursor[1:]
            if request.cursor[0] != _LIST or not (number.isascii() and number.isdigit()):
                raise UnsupportedRequest(self.name, "paging cursor no longer valid; start the list again")
            start = int(number)
        end = len(records) if request.limit is None else min(len(records), start + request.limit)
        page = [_project(r, request.fields) for r in records[start:end]]
        return FetchResult(
            records=page, next_cursor=f"{_LIST}{end}" if end < len(records) else None, total=len(records)
        )

    async def _paged(self, request: FetchRequest, read: Walk) -> FetchResult:
        """Up to ``limit`` records from the cursor's position, and the position after the last."""
        position: Position = ()
        if request.cursor is not None:
            decoded = decode_position(request.cursor[1:], self._base) if request.cursor[0] == _WALK else None
            if decoded is None or len(decoded) > len(read.levels):
                raise UnsupportedRequest(self.name, "paging cursor no longer valid; start the list again")
            position = decoded
        limit = request.limit
        if limit == 0:
            # Nothing taken: the next page starts where this one would have.
            start = request.cursor or _WALK + encode_position((Mark(),), self._base)
            return FetchResult(records=[], next_cursor=start)
        taken: list[Record] = []
        seen: set[str] = set()
        batch: list[tuple[Chain, Position]] = []
        after: Position | None = None
        walk = self.walker.walk(read.levels, position)
        try:
            async for found in walk:
                batch.append(found)
                wanted = (limit - len(taken)) if limit is not None else self.config.per_page
                if len(batch) < max(1, wanted):
                    continue
                after = await self._take(request, read, batch, taken, seen, limit)
                batch = []
                if after is not None:
                    break
            else:
                if batch:
                    after = await self._take(request, read, batch, taken, seen, limit)
        finally:
            await walk.aclose()
        cursor = _WALK + encode_position(after, self._base) if after is not None else None
        return FetchResult(records=[_project(r, request.fields) for r in taken], next_cursor=cursor)

    async def _take(
        self,
        request: FetchRequest,
        read: Walk,
        batch: list[tuple[Chain, Position]],
        taken: list[Record],
        seen: set[str],
        limit: int | None,
    ) -> Position | None:
        """Make and keep a batch's records; the position after the last taken once ``limit`` is reached."""
        made = await read.make([chain for chain, _ in batch])
        for record, (_, after) in zip(made, batch, strict=True):
            kept = self._kept(request, [record])
            if kept and kept[0].vendor_id not in seen:
                seen.add(kept[0].vendor_id)
                taken.append(kept[0])
                if limit is not None and len(taken) >= limit:
                    return after
        return None


def _limits(config: CanvasConfig) -> httpx.Limits:
    # The client's own pool settings apply only to a transport it makes;
    # this one is made here, so it gets them here.
    return httpx.Limits(
        max_connections=config.max_connections, max_keepalive_connections=config.max_connections
    )
