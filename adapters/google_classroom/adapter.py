"""The ``google-classroom`` source: Google Classroom API v1, read live."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx

from adapters.google_classroom._auth import FileBearerToken
from adapters.google_classroom._collect import COURSE_SCOPED, SEARCH, Collector
from adapters.google_classroom._feed import CourseWorkFeed
from adapters.google_classroom._reader import ClassroomReader, Notes, each
from adapters.google_classroom.config import GoogleClassroomConfig
from hub.sdk import (
    Capabilities,
    Changes,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    Person,
    Record,
    UnsupportedRequest,
    matches,
    read_secret,
)
from hub.sdk.http import BearerToken, OAuth2ClientCredentials, SourceAuth, Timing, VendorClient

__all__ = ["CAPABILITIES", "GoogleClassroomAdapter"]

_PEOPLE = frozenset({"given_name", "family_name", "email"})


def _support(fields: set[str], filters: set[str] | None = None) -> EntitySupport:
    return EntitySupport(fields=frozenset(fields), filters=frozenset(filters or ()))


CAPABILITIES = Capabilities(
    entities={
        Entity.COURSE: _support({"title", "subjects"}),
        Entity.SECTION: _support({"title", "class_code", "location", "subjects", "course_id"}, {"course_id"}),
        Entity.STUDENT: _support({*_PEOPLE, "guardian_ids"}, {"guardian_ids", SEARCH}),
        Entity.TEACHER: _support({*_PEOPLE, "role"}, {"role", SEARCH}),
        Entity.GUARDIAN: _support({*_PEOPLE, "student_ids"}, {"student_ids"}),
        Entity.ENROLLMENT: _support(
            {"role", "primary", "section_id", "person_id"}, {"section_id", "person_id", "role"}
        ),
        Entity.ASSIGNMENT: _support(
            {"title", "description", "assign_date", "due_date", "category", "points_possible", "section_id"},
            {"section_id"},
        ),
        Entity.SCORE: _support(
            {"assignment_id", "student_id", "section_id", "score", "score_status", "late", "submitted_at"},
            {"student_id", "assignment_id", "section_id"},
        ),
    }
)
"""What Classroom holds. No organisations, terms, course grades or attendance;
no demographics, grade levels, usernames, phones, missing flags or comments.

Filters the API takes are pushed down (a course's own lists, ``courses?studentId=``
for a few people, one course work's submissions, ``userId`` for one
student); the rest (``search``, ``role``, ``guardian_ids``, ``course_id``,
ids) are applied here after reading, within ``max_scan_records``."""


def _project(record: Record, fields: frozenset[str]) -> Record:
    """A copy holding ``vendor_id`` and only ``fields``: nothing else leaves the adapter."""
    values = {name: getattr(record, name) for name in fields if name != "vendor_id"}
    return type(record)(vendor_id=record.vendor_id, **values)


def _keeper(request: FetchRequest) -> Callable[[Record], bool]:
    """Whether a record answers ``request``: its ids, its filters and its search."""
    ids = frozenset(request.ids) if request.ids is not None else None
    filters = {name: values for name, values in request.filters.items() if name != SEARCH}
    term = request.filters.get(SEARCH)

    def keep(row: Record) -> bool:
        return (
            (ids is None or row.vendor_id in ids)
            and matches(row, filters)
            and (not term or _found(row, term[0]))
        )

    return keep


def _found(record: Record, term: str) -> bool:
    """Whether every word of ``term`` occurs in the person's names, ignoring case."""
    if not isinstance(record, Person):
        return False
    names = " ".join(name for name in (record.given_name, record.family_name) if name).casefold()
    return all(word in names for word in term.casefold().split())


class GoogleClassroomAdapter:
    """Serves Google Classroom through :class:`VendorClient` (see ``_collect``
    for which calls answer which question).

    Paging is done here, as Classroom gives no totals and no random access:
    enrollments, assignments and scores are read course by course until a
    page is full (the cursor names a course and a position in it); courses
    and people are read whole, filtered, and cut at ``limit`` (the cursor is
    an offset; people repeat across courses, so they cannot be paged by
    course). Items skipped for ``ClassroomApiDisabled`` or
    404 are listed in :attr:`report` (the object ``open`` returned).

    It is a :class:`hub.sdk.ChangeFeed` for assignments (course work read
    newest first, see ``_feed``); every other entity is read in full at its
    interval.
    """

    def __init__(
        self,
        config: GoogleClassroomConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.report = LoadReport()
        self._notes = Notes(self.report)
        self._client = VendorClient(config, self._auth(config), transport=transport, timing=timing)
        self._reader = ClassroomReader(self._client, self._notes)

    @staticmethod
    def _auth(config: GoogleClassroomConfig) -> SourceAuth:
        hint = f"check {config.secret_names()}"
        if config.token_file:
            return FileBearerToken(config.name, config.token_file, hint=f"{hint} (is the token fresh?)")
        if config.token_env:
            token = read_secret(config.name, env=config.token_env, key="token_env")
            return BearerToken(token, hint=f"{hint} (is the token fresh?)")
        assert config.token_url is not None  # the config requires it without a bearer token
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
        """See :data:`CAPABILITIES`."""
        return CAPABILITIES

    async def open(self) -> LoadReport:
        """Check that Classroom answers and takes the token (one one-course read)."""
        self._notes.clear()
        async with self._client.deadline():
            await self._client.get_json("v1/courses", {"pageSize": 1, "fields": "courses(id)"})
        return self.report

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer from Classroom; only ``vendor_id`` and ``request.fields`` are filled."""
        self._check(request)
        if request.ids is not None and not request.ids:
            return FetchResult(records=[], total=0)
        collector = Collector(self._reader, self.config, request)
        keep = _keeper(request)
        async with self._client.deadline():
            if request.entity in COURSE_SCOPED:
                return await self._course_by_course(collector, request, keep)
            start = self._offset(request.cursor)
            rows = await collector.records()
        kept = [row for row in rows if keep(row)]
        end = len(kept) if request.limit is None else min(len(kept), start + request.limit)
        page = [_project(row, request.fields) for row in kept[start:end]]
        return FetchResult(records=page, next_cursor=str(end) if end < len(kept) else None, total=len(kept))

    async def _course_by_course(
        self, collector: Collector, request: FetchRequest, keep: Callable[[Record], bool]
    ) -> FetchResult:
        """A page of a course-scoped entity, reading only as many courses as it needs.

        The cursor ``c<i>.<k>`` resumes at the ``k``-th matching record of the
        ``i``-th course to read; a page ends once one record past ``limit`` is
        found, so the last page is the one without a cursor.
        """
        first_course, skip = self._course_cursor(request.cursor)
        courses = await collector.courses_to_read()
        limit = request.limit
        window = len(courses) if limit is None else self.config.max_concurrency
        taken: list[Record] = []
        for index in range(first_course, len(courses), max(window, 1)):
            batch = courses[index : index + window]
            for offset, rows in enumerate(await each(batch, collector.read)):
                position = index + offset
                matching = [row for row in rows if keep(row)]
                start = skip if position == first_course else 0
                for number, row in enumerate(matching[start:], start=start):
                    if limit is not None and len(taken) == limit:
                        page = [_project(r, request.fields) for r in taken]
                        return FetchResult(records=page, next_cursor=f"c{position}.{number}")
                    taken.append(row)
        complete = first_course == 0 and skip == 0
        page = [_project(row, request.fields) for row in taken]
        return FetchResult(records=page, total=len(taken) if complete else None)

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        """What changed in ``entity`` after the watermark ``since`` (see ``hub.sdk.ChangeFeed``).

        - ``Assignment``: each served course's work, published and deleted,
          ``orderBy=updateTime desc``, read until the first item not newer than
          the watermark (one small page per course when nothing changed);
          ``DELETED`` work is ``deleted``. ``since`` ``None``: the newest
          ``updateTime`` (one one-item read per course). A change in the set of
          courses read, or an answer not in order, gives ``complete=False``.
        - Every other entity has no delta mechanism in Classroom (submissions
          have no since-filter nor ordering, and a grade does not move the
          course work's ``updateTime``): ``complete=False`` at once, without a
          request, so the hub reads it in full at its interval.
        """
        request = FetchRequest(entity=entity, fields=frozenset(fields))
        self._check(request)
        if entity is not Entity.ASSIGNMENT:
            return Changes(watermark=since, complete=False)
        feed = CourseWorkFeed(
            self._reader, Collector(self._reader, self.config, request), self._client.timing.wall
        )
        async with self._client.deadline():
            if since is None:
                return Changes(watermark=await feed.position())
            delta = await feed.delta(since)
        if not delta.complete:
            return delta
        return dataclasses.replace(
            delta, records=[_project(record, request.fields) for record in delta.records]
        )

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
        if SEARCH in request.filters and len(request.filters[SEARCH]) != 1:
            raise UnsupportedRequest(self.name, "search takes one term")
        if request.limit is not None and request.limit < 0:
            raise UnsupportedRequest(self.name, "limit must not be negative")

    def _course_cursor(self, cursor: str | None) -> tuple[int, int]:
        if cursor is None:
            return 0, 0
        course, dot, skip = cursor.removeprefix("c").partition(".")
        if not (cursor.startswith("c") and dot and course.isdigit() and skip.isdigit() and cursor.isascii()):
            raise UnsupportedRequest(self.name, "unknown paging cursor (not one this source returned)")
        return int(course), int(skip)

    def _offset(self, cursor: str | None) -> int:
        if cursor is None:
            return 0
        if not (cursor.isascii() and cursor.isdigit()):
            raise UnsupportedRequest(self.name, "unknown paging cursor (not one this source returned)")
        return int(cursor)
