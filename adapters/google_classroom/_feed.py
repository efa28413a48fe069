"""The change feed of course work: ordered ``updateTime`` reads.

Classroom has no "changed since" filter on any list method. What it has is
``courses.courseWork.list`` ordered by ``updateTime`` (``orderBy=updateTime
desc``, its default), and ``courseWorkStates`` repeatable, so that one list
gives published work and work deleted lately (kept "for some time" in
``DELETED``), newest first. A delta therefore reads each served course's
list newest first and stops at the first item not newer than the watermark.

Cost: a delta asks for the course list (as a full read does) and one page of
:data:`DELTA_PAGE` items per course, more only for a course with more changes
than that; a full read asks for every page of every course's work, so the
delta saves requests once courses hold more work than a page, and transfers
a few items per course instead of all of them. Starting a feed (the position
taken before each full read) costs the course list and one one-item read per
course.

What it cannot see, and how that is handled:

- A course appearing, going, changing to a state not served, or becoming
  unreadable (``ClassroomApiDisabled``, 404): its work would be added or
  dropped without any ``updateTime`` moving. The watermark names the set of
  courses read (a digest); when the next delta reads another set, it answers
  ``complete=False`` and the hub reads the entity in full.
- A server that does not order as asked (an item newer than the one before
  it, or one without ``updateTime``): ``complete=False``, never a guess.
- Every other entity: student submissions (scores) have neither a filter nor
  an ordering, and a grade moves the submission's ``updateTime``, not its
  course work's; courses, people and guardian links have no ordering either.
  Their delta would be a full listing, so they are read in full at their
  interval (``complete=False`` at once, without a request).

It relies on Classroom stamping every change of a course work item,
deletion and publication included, with an ``updateTime`` from one clock
that only moves forward and agrees with its ``Date`` header within
:data:`SKEW`; the nightly full read catches what that misses. Watermarks
are held back to the moment a delta began (less :data:`SKEW`), so work
changed while a delta reads is reported by it and again by the next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.google_classroom import _ids
from adapters.google_classroom import _mapping as m
from adapters.google_classroom._collect import Collector
from adapters.google_classroom._reader import ClassroomReader, Json, each, segment
from hub.sdk import Changes, Record, SourceError
from hub.sdk.http import provider_time

__all__ = ["DELTA_PAGE", "SKEW", "CourseWorkFeed", "Mark", "nanos"]

log = logging.getLogger("homeroom.sources.google_classroom")

SKEW = dt.timedelta(seconds=5)
"""Held back from the provider's clock: a change being written as a read
starts may carry a stamp slightly before the moment the read saw."""

DELTA_PAGE = 10
"""``pageSize`` of a delta read: a course rarely has more changes in one
interval, and a small page keeps the answer of an unchanged course small."""

_STATES = (("courseWorkStates", "PUBLISHED"), ("courseWorkStates", "DELETED"))
_NEWEST_FIRST = ("orderBy", "updateTime desc")
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def nanos(value: Any) -> int | None:
    """An RFC 3339 time as nanoseconds since 1970, exactly (Google may send nine
    fractional digits; a ``datetime`` keeps six); ``None`` when it is not one."""
    found = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return None
    day, clock, fraction, offset = found.groups()
    try:
        moment = dt.datetime.fromisoformat(f"{day}T{clock}{'+00:00' if offset in 'Zz' else offset}")
    except ValueError:
        return None
    seconds = (moment - _EPOCH) // dt.timedelta(seconds=1)
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


def _digest(courses: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(courses)).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Mark:
    """A watermark: the newest ``updateTime`` seen (as Classroom wrote it) and
    a digest of the courses whose work was read, as ``<time>|<digest>``."""

    moment: str
    courses: str

    def text(self) -> str:
        """The watermark as stored."""
        return f"{self.moment}|{self.courses}"

    @classmethod
    def parse(cls, text: str) -> Mark | None:
        """The mark ``text`` holds, ``None`` when it is not one of ours."""
        moment, bar, courses = text.rpartition("|")
        if not bar or nanos(moment) is None or not courses:
            return None
        return cls(moment, courses)


@dataclass(slots=True)
class _Read:
    """One course's work newer than a bound, newest first."""

    items: list[Json] = field(default_factory=list)
    ordered: bool = True
    started: dt.datetime | None = None
    last: int | None = None
    """The ``updateTime`` of the last item looked at (the next must not be newer)."""

    def take(self, items: Sequence[Any], bound: int | None) -> bool:
        """Add the page's items newer than ``bound``; whether the read is over
        (an item not newer than ``bound``, or the order broken)."""
        for item in items:
            if not isinstance(item, Mapping):
                continue
            at = nanos(item.get("updateTime"))
            if at is None or (self.last is not None and at > self.last):
                self.ordered = False
                return True
            self.last = at
            if bound is not None and at <= bound:
                return True
            self.items.append(dict(item))
        return False


def _text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CourseWorkFeed:
    """Positions and deltas of the course work ``collector`` reads (an
    ``ASSIGNMENT`` request: its fields and its served courses). ``wall`` is
    our clock (Unix seconds), used when Classroom sends no ``Date``."""

    def __init__(self, reader: ClassroomReader, collector: Collector, wall: Callable[[], float]) -> None:
        self.reader = reader
        self.collector = collector
        self.wall = wall

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.wall(), dt.UTC)

    async def _courses(self) -> list[str]:
        courses = await self.collector.courses_to_read()
        return [course_id for course in courses if _ids.is_plain(course_id := str(course.get("id")))]

    async def position(self) -> str:
        """Where a feed starts: the newest ``updateTime`` of every served course's
        work (one one-item read per course), or, with no work at all, the
        provider's clock less :data:`SKEW`.

        The courses are read at different moments, so a course read early
        may change before the newest item of one read later was written:
        the full read that follows a position sees every such change."""
        begun = self._now()
        courses = await self._courses()
        reads = await each(courses, lambda course_id: self._read(course_id, None, ["updateTime"], 1))
        read = [(course_id, done) for course_id, done in zip(courses, reads, strict=True) if done is not None]
        stamped = [
            (at, str(item["updateTime"]))
            for _, done in read
            for item in done.items
            if (at := nanos(item.get("updateTime"))) is not None
        ]
        started = min((done.started for _, done in read if done.started is not None), default=begun)
        moment = max(stamped)[1] if stamped else _text(started - SKEW)
        return Mark(moment, _digest(course_id for course_id, _ in read)).text()

    async def delta(self, since: str) -> Changes:
        """The course work changed and deleted after the watermark ``since`` (every
        field the request's attributes need filled; the caller projects them).

        The next watermark is the newest ``updateTime`` seen, but no later than
        the provider's clock (its ``Date``, else ours) when the first course
        was read, less :data:`SKEW`: courses are read at different moments,
        and a course read early may change, with an earlier stamp, before the
        newest item of one read later was written. Work stamped after that
        moment is reported again by the next delta, never lost."""
        begun = self._now()
        mark = Mark.parse(since)
        bound = nanos(mark.moment) if mark is not None else None
        if mark is None or bound is None:
            log.info("source %s: not a course work watermark; reading in full", self.reader.name)
            return Changes(watermark=since, complete=False)
        courses = await self._courses()
        paths = self.collector.work_paths("state", "updateTime")
        size = min(DELTA_PAGE, self.reader.client.config.page_size)
        reads = await each(courses, lambda course_id: self._read(course_id, bound, paths, size))
        read = {course_id: done for course_id, done in zip(courses, reads, strict=True) if done is not None}
        if _digest(read) != mark.courses:
            log.info("source %s: the courses with course work changed; reading in full", self.reader.name)
            return Changes(watermark=since, complete=False)
        if not all(done.ordered for done in read.values()):
            log.warning("source %s: course work not ordered by updateTime; reading in full", self.reader.name)
            return Changes(watermark=since, complete=False)
        started = min((done.started for done in read.values() if done.started is not None), default=begun)
        items = [item for done in read.values() for item in done.items]
        return self._sorted(items, mark, _text(started - SKEW))

    def _sorted(self, items: Iterable[Json], mark: Mark, cap: str) -> Changes:
        records: dict[str, Record] = {}
        deleted: dict[str, None] = {}
        newest, moment = nanos(mark.moment), mark.moment
        for item in items:
            at = nanos(item.get("updateTime"))
            if at is not None and newest is not None and at > newest:
                newest, moment = at, str(item["updateTime"])
            record = m.assignment(item)
            if record is None:
                continue
            if item.get("state") == "PUBLISHED":
                records[record.vendor_id] = record
            else:
                # DELETED, or work fetch never serves (a DRAFT from a server that ignored
                # courseWorkStates, a state unknown): not in the mirror either.
                records.pop(record.vendor_id, None)
                deleted[record.vendor_id] = None
        held = nanos(cap)
        if newest is not None and held is not None and newest > held:
            # Never before the previous watermark: what it covered stays covered.
            moment = cap if held > (nanos(mark.moment) or 0) else mark.moment
        return Changes(list(records.values()), list(deleted), Mark(moment, mark.courses).text())

    async def _read(self, course_id: str, bound: int | None, paths: Sequence[str], size: int) -> _Read | None:
        """The course's work newest first: every item newer than ``bound``, or (``bound``
        ``None``) the first item; ``None`` when the course is skipped."""
        path = f"v1/courses/{segment(course_id)}/courseWork"
        done = _Read()
        params = [*_STATES, _NEWEST_FIRST]
        pages = self.reader.pages(path, "courseWork", paths, self.collector.budget, params, page_size=size)
        try:
            async with contextlib.aclosing(pages):
                async for page in pages:
                    done.started = done.started or provider_time(page.headers)
                    # A page may come back empty with a token for more: only an item ends a position read.
                    if done.take(page.items, bound) or (bound is None and done.items):
                        return done
        except SourceError as exc:
            if not self.reader.skipped(path, exc):
                raise
            return None
        return done
