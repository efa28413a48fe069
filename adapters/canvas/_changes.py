"""The change feed of a Canvas source: scores changed since a watermark.

Canvas's REST API has one "changed since" the hub can use: the bulk
submissions list of a course (``GET /courses/:id/students/submissions``)
takes ``graded_since`` and ``submitted_since``, which keep the submissions
whose ``graded_at`` / ``submitted_at`` is strictly after an ISO 8601 time.
Those move when a teacher grades (or excuses) and when a student hands in;
a delta is therefore, per course of the account (of the term):

1. both filtered lists, for every student (``student_ids[]=all``): usually
   empty, so two requests per course, after one for the course list;
2. for the courses where something changed, their sections, and then those
   submissions read again exactly as ``fetch`` reads scores by id (the
   course list does not say which section a submission was read in, and a
   score's vendor id names it).

The watermark is the instance's clock (the ``Date`` of the course list, the
first answer of the delta) less :data:`SKEW`. Not the newest ``graded_at``
seen: the courses are read one after another, so a grade given in a course
already read, while a later one is read, can carry an earlier time than one
seen there; a watermark past it would lose it. A change made within
:data:`SKEW` of a delta is reported again by the next (upserting it twice
is harmless).

What the filters cannot show is left to the hub's full re-read (nightly, by
default): a submission deleted, or gone with its student's enrollment or its
assignment (Canvas lists no deleted submissions); a grade taken away (Canvas
leaves ``graded_at`` as it was); a comment, or the late and missing flags,
changed without grading.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import httpx

from adapters.canvas import _mapping as m
from adapters.canvas import _values as v
from adapters.canvas._plan import api_path
from adapters.canvas._reads import Reads
from adapters.canvas._walk import Stream, gather_all
from hub.sdk import Changes, Entity, FetchRequest, FetchResult, Record, fetch_every_page
from hub.sdk.http import RequestRejected, provider_time

__all__ = ["SKEW", "ScoreFeed", "watermark_text"]

log = logging.getLogger("homeroom.sources.canvas")

SKEW = dt.timedelta(seconds=5)
"""Held back from the instance's clock: a grade being saved as a delta starts
may carry a time slightly before it."""

_FILTERS = (("graded_since", "graded_at"), ("submitted_since", "submitted_at"))
"""Canvas's filters on the submissions list, and the field each compares."""

Pair = tuple[str, str]  # (assignment id, user id): a submission within its course


def watermark_text(moment: dt.datetime) -> str:
    """``moment`` as Canvas takes it in ``graded_since``: UTC, whole seconds, ``Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_clock(started: dt.datetime | None) -> dt.datetime:
    return (started or dt.datetime.now(dt.UTC)) - SKEW


def _after(value: object, bound: dt.datetime) -> bool:
    """Whether a submission's time is after ``bound``, checked again here so a
    looser answer cannot widen the delta. No time: not graded (or handed in)
    at all; a time that does not parse is kept (reading a score again is
    harmless, losing one is not)."""
    if value is None:
        return False
    moment = v.datetime(value)
    return moment is None or moment > bound


class ScoreFeed:
    """Scores changed since a watermark, for one Canvas source.

    ``reads`` are the source's reads (client, walker, routes, configured
    term); ``fetch`` is the adapter's own, through which changed scores are
    read by id, so they are built and projected exactly as a fetch builds them.
    """

    def __init__(self, reads: Reads, fetch: Callable[[FetchRequest], Awaitable[FetchResult]]) -> None:
        self.reads = reads
        self.fetch = fetch

    async def start(self) -> str:
        """Where a feed starts: the instance's clock now (one small request), less :data:`SKEW`."""
        _, headers = await self.reads.client.get_json(api_path("accounts", self.reads.account))
        return watermark_text(_from_clock(provider_time(headers)))

    async def since(self, since: str, fields: frozenset[str]) -> Changes:
        """The scores graded or handed in after ``since``, filled with ``fields``."""
        bound = v.datetime(since)
        if bound is None:  # not a watermark this feed gave: read in full, start again
            return Changes(watermark=since, complete=False)
        started: list[dt.datetime | None] = []
        courses = await self._courses(started)
        try:
            found = await gather_all([self._changed_in(course, bound) for course in courses])
        except RequestRejected as exc:
            if exc.status != 400:
                raise
            log.warning("source %s: Canvas refused graded_since/submitted_since", self.reads.client.name)
            return Changes(watermark=since, complete=False)
        changed = {course: pairs for course, pairs in zip(courses, found, strict=True) if pairs}
        records = await self._read_again(changed, fields)
        moment = _from_clock(started[0] if started else None)
        watermark = watermark_text(moment) if moment.replace(microsecond=0) > bound else None
        return Changes(records=records, watermark=watermark)

    async def _courses(self, started: list[dt.datetime | None]) -> list[str]:
        """The ids of the account's courses (of the term); the first answer's clock into ``started``."""

        def clock(headers: httpx.Headers) -> None:
            if not started:
                started.append(provider_time(headers))

        ids: list[str] = []
        async for items in self.reads.walker.pages(await self.reads.account_courses(), clock):
            for item in items:
                self.reads.routes.learn_course(item)
                if (course := v.ident(item.get("id"))) is not None:
                    ids.append(course)
        return list(dict.fromkeys(ids))

    async def _changed_in(self, course: str, bound: dt.datetime) -> set[Pair]:
        """The submissions of ``course`` graded or handed in after ``bound``."""
        path = api_path("courses", course, "students", "submissions")
        since = watermark_text(bound)

        async def filtered(name: str, field: str) -> set[Pair]:
            stream = Stream(path, (("student_ids[]", "all"), (name, since)), missing_ok=True)
            pairs: set[Pair] = set()
            async for items in self.reads.walker.pages(stream):
                for item in items:
                    assignment, user = v.ident(item.get("assignment_id")), v.ident(item.get("user_id"))
                    if assignment and user and _after(item.get(field), bound):
                        pairs.add((assignment, user))
            return pairs

        graded, submitted = await gather_all([filtered(name, field) for name, field in _FILTERS])
        return graded | submitted

    async def _read_again(self, changed: dict[str, set[Pair]], fields: frozenset[str]) -> list[Record]:
        """The changed submissions as score records: each course's sections,
        then the scores by id (every section of the course, with each pair)."""
        if not changed:
            return []
        streams = [Stream(api_path("courses", course, "sections"), missing_ok=True) for course in changed]
        sections = await gather_all([self.reads.ids_in(stream) for stream in streams])
        keys = [
            m.score_key(section, assignment, user)
            for pairs, course_sections in zip(changed.values(), sections, strict=True)
            for section in course_sections
            for assignment, user in sorted(pairs)
        ]
        request = FetchRequest(entity=Entity.SCORE, fields=fields, ids=tuple(keys))
        return await fetch_every_page(self.fetch, request)
