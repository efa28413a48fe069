"""How each unified entity is read from Canvas: which collections, in which
order, and how records are made of what they return. People are read by
:mod:`adapters.canvas._people`, assignments and scores by
:mod:`adapters.canvas._gradebook`; the rest, and what they share, here.

A request becomes either a :class:`Walk` (levels of collections, paged and
resumable) or the records themselves (look-ups by id, read one by one or by
course). Filters Canvas can answer are pushed into the paths and queries;
every filter is applied again by the adapter afterwards, so a looser vendor
answer never widens the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from adapters.canvas import _mapping as m
from adapters.canvas import _values as v
from adapters.canvas._gradebook import Gradebook
from adapters.canvas._people import People
from adapters.canvas._plan import ENROLLMENT_STATES, Walk, api_path, canvas_ids, each, given, repeated
from adapters.canvas._routes import RouteCache
from adapters.canvas._walk import Chain, Expand, Level, Stream, Walker, gather_all
from adapters.canvas.config import CanvasConfig
from hub.sdk import BadVendorData, Entity, FetchRequest, Record
from hub.sdk.http import VendorClient

__all__ = ["Reads", "Walk"]


class Reads:
    """Plans and performs the reads of one Canvas source."""

    def __init__(
        self, client: VendorClient, walker: Walker, routes: RouteCache, config: CanvasConfig
    ) -> None:
        self.client = client
        self.walker = walker
        self.routes = routes
        self.config = config
        self.account = config.account_id
        self._term: str | None = None
        self._term_lock = asyncio.Lock()
        self.people = People(self)
        self.gradebook = Gradebook(self)

    # -- the configured term --------------------------------------------------

    async def term(self) -> str | None:
        """The Canvas id of the configured ``term_id`` (resolved once), or ``None``."""
        wanted = self.config.term_id
        if wanted is None or wanted.isdigit():
            return wanted
        async with self._term_lock:
            if self._term is None:
                found, _ = await self.client.get_json(
                    api_path("accounts", self.account, "terms", wanted), missing_ok=True
                )
                term = v.ident(found.get("id")) if isinstance(found, dict) else None
                if term is None:
                    raise BadVendorData(
                        self.client.name, "term_id names no term of the account; check term_id"
                    )
                self._term = term
        return self._term

    async def _in_term(self, course_term: str | None) -> bool:
        term = await self.term()
        return term is None or course_term == term

    # -- single objects and routes ----------------------------------------------

    async def objects(self, paths: Sequence[str]) -> list[dict[str, Any] | None]:
        """One GET per path, concurrently; ``None`` where the object does not exist."""

        async def one(path: str) -> dict[str, Any] | None:
            body, _ = await self.client.get_json(path, missing_ok=True)
            return body if isinstance(body, dict) else None

        return await gather_all([one(path) for path in paths])

    async def courses(self, course_ids: Sequence[str]) -> dict[str, m.Json]:
        """Course objects by id (``GET /courses/:id`` each), those of the configured term."""
        found: dict[str, m.Json] = {}
        for course_id, obj in zip(
            course_ids, await self.objects([api_path("courses", c) for c in course_ids]), strict=True
        ):
            if obj is not None:
                self.routes.learn_course(obj)
                if await self._in_term(v.ident(obj.get("enrollment_term_id"))):
                    found[course_id] = obj
        return found

    async def course_terms(self, course_ids: Iterable[str]) -> dict[str, str | None]:
        """Each course's term: known ones from the routes, others read."""
        terms: dict[str, str | None] = {}
        unknown = []
        for course_id in dict.fromkeys(course_ids):
            known, term = self.routes.term_of_course(course_id)
            if known:
                terms[course_id] = term
            else:
                unknown.append(course_id)
        for obj in await self.objects([api_path("courses", c) for c in unknown]):
            if obj is not None and (found := v.ident(obj.get("id"))) is not None:
                self.routes.learn_course(obj)
                terms[found] = v.ident(obj.get("enrollment_term_id"))
        return terms

    async def section_courses(self, section_ids: Sequence[str]) -> dict[str, str]:
        """Each section's course: known ones from the routes, others read (``GET /sections/:id``)."""
        courses: dict[str, str] = {}
        unknown = []
        for section_id in section_ids:
            course = self.routes.course_of_section(section_id)
            if course is not None:
                courses[section_id] = course
            else:
                unknown.append(section_id)
        for obj in await self.objects([api_path("sections", s) for s in unknown]):
            self.routes.learn_section(obj)
            if (
                obj is not None
                and (found := v.ident(obj.get("id")))
                and (course := v.ident(obj.get("course_id")))
            ):
                courses[found] = course
        return courses

    async def ids_in(self, stream: Stream, field: str = "id") -> tuple[str, ...]:
        """The ``field`` of every record of ``stream`` (all pages), once each."""
        found: list[str] = []
        async for items in self.walker.pages(stream):
            found.extend(i for item in items if (i := v.ident(item.get(field))) is not None)
        return tuple(dict.fromkeys(found))

    # -- streams ------------------------------------------------------------------

    async def account_courses(self) -> Stream:
        """The account's courses (of the configured term)."""
        term = await self.term()
        query = (("enrollment_term_id", term),) if term else ()
        return Stream(api_path("accounts", self.account, "courses"), query)

    @staticmethod
    def course_sections(chain: Chain) -> Level:
        """The sections of the course at the top of ``chain``."""
        return Level(streams=(Stream(api_path("courses", str(chain[0]["id"]), "sections"), missing_ok=True),))

    @staticmethod
    def enrollment_query(types: Sequence[str], term: str | None = None) -> tuple[tuple[str, str], ...]:
        """``type[]`` and ``state[]`` of an enrollment list (and the term, for a user's)."""
        query = repeated("type[]", types) + repeated("state[]", ENROLLMENT_STATES)
        return query + ((("enrollment_term_id", term),) if term else ())

    # -- planning -------------------------------------------------------------------

    async def plan(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        """The read answering ``request``; ``attributes`` are those asked for or filtered on."""
        planners: dict[Entity, Callable[[FetchRequest, frozenset[str]], Awaitable[Walk | list[Record]]]] = {
            Entity.ACADEMIC_SESSION: self._terms,
            Entity.COURSE: self._courses,
            Entity.SECTION: self._sections,
            Entity.STUDENT: self.people.plan,
            Entity.TEACHER: self.people.plan,
            Entity.GUARDIAN: self.people.plan,
            Entity.ENROLLMENT: self._enrollments,
            Entity.COURSE_GRADE: self._enrollments,
            Entity.ASSIGNMENT: self.gradebook.assignments,
            Entity.SCORE: self.gradebook.scores,
        }
        return await planners[request.entity](request, attributes)

    async def _terms(self, request: FetchRequest, attributes: frozenset[str]) -> Walk:
        """The account's enrollment terms (``GET /accounts/:id/terms``). Terms are few:
        a look-up by id reads the list and keeps the ids asked for."""
        stream = Stream(api_path("accounts", self.account, "terms"), key="enrollment_terms")
        return Walk((lambda chain: Level(streams=(stream,)),), each(lambda chain: m.term(chain[-1])))

    async def _courses(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        """The account's courses (of the term); a few ids are read one by one."""
        ids = canvas_ids(request.ids) if request.ids is not None else None
        if ids is not None and len(ids) <= self.config.id_lookup_max:
            found = await self.courses(ids)
            return [r for i in ids if i in found and (r := m.course(found[i])) is not None]
        stream = await self.account_courses()

        def make(chain: Chain) -> Record | None:
            self.routes.learn_course(chain[-1])
            return m.course(chain[-1])

        return Walk((lambda chain: Level(streams=(stream,)),), each(make))

    async def _sections(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        """Sections, per course: of the courses asked for (``course_id``), of the
        courses of the terms asked for (``term_ids``, pushed down as
        ``enrollment_term_id``), or of every course; a few ids one by one."""
        ids = canvas_ids(request.ids) if request.ids is not None else None
        if ids is not None and len(ids) <= self.config.id_lookup_max:
            return await self._sections_by_id(ids)
        courses: Expand
        if ids is None and "course_id" in request.filters:
            found = await self.courses(canvas_ids(request.filters["course_id"]))
            courses = given(list(found.values()))
        elif ids is None and "term_ids" in request.filters:
            term = await self.term()
            terms = [t for t in canvas_ids(request.filters["term_ids"]) if term is None or t == term]
            path = api_path("accounts", self.account, "courses")
            streams = tuple(Stream(path, (("enrollment_term_id", t),)) for t in terms)
            courses = lambda chain: Level(streams=streams)  # noqa: E731
        else:
            stream = await self.account_courses()
            courses = lambda chain: Level(streams=(stream,))  # noqa: E731

        def make(chain: Chain) -> Record | None:
            course, section = chain
            self.routes.learn_course(course)
            self.routes.learn_section(section)
            return m.section(section, v.ident(course.get("enrollment_term_id")))

        return Walk((courses, self.course_sections), each(make))

    async def _sections_by_id(self, ids: Sequence[str]) -> list[Record]:
        objs = [obj for obj in await self.objects([api_path("sections", s) for s in ids]) if obj is not None]
        self.routes.learn(objs, "section")
        terms = await self.course_terms(c for obj in objs if (c := v.ident(obj.get("course_id"))))
        records: list[Record] = []
        for obj in objs:
            term = terms.get(v.ident(obj.get("course_id")) or "")
            if await self._in_term(term) and (record := m.section(obj, term)) is not None:
                records.append(record)
        return records

    # -- people -------------------------------------------------------------------------

    # -- enrollments and course grades ------------------------------------------------------

    async def _enrollments(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        """Enrollments (student, teacher, TA) or course grades (student
        enrollments' grades): per section (``section_id``), per user
        (``person_id``/``student_id``: ``GET /users/:id/enrollments``, which
        spans courses) or per course of the account; ``role`` is pushed down
        as ``type[]``. A few ids are read one by one (``/accounts/:id/enrollments/:id``)."""
        grades = request.entity is Entity.COURSE_GRADE
        build: Callable[[m.Json], Record | None] = m.course_grade if grades else m.enrollment
        if grades:
            types: tuple[str, ...] = ("StudentEnrollment",)
        else:
            roles = request.filters.get("role")
            types = tuple(t for t, role in m.ROLE_OF_TYPE.items() if roles is None or role in roles)
            if not types:
                return []
        ids = canvas_ids(request.ids) if request.ids is not None else None
        if ids is not None and len(ids) <= self.config.id_lookup_max:
            objs = await self.objects([api_path("accounts", self.account, "enrollments", e) for e in ids])
            self.routes.learn(objs, "enrollment")
            return [
                r
                for obj in objs
                if obj is not None and obj.get("type") in types and (r := build(obj)) is not None
            ]
        person = "student_id" if grades else "person_id"
        term = await self.term()
        top: Expand
        if ids is None and "section_id" in request.filters:
            top, parent = given([{"id": s} for s in canvas_ids(request.filters["section_id"])]), "sections"
            query = self.enrollment_query(types)
        elif ids is None and person in request.filters:
            top, parent = given([{"id": u} for u in canvas_ids(request.filters[person])]), "users"
            query = self.enrollment_query(types, term)
        else:
            stream = await self.account_courses()
            top, parent = (lambda chain: Level(streams=(stream,))), "courses"
            query = self.enrollment_query(types)

        def enrollments(chain: Chain) -> Level:
            return Level(
                streams=(
                    Stream(api_path(parent, str(chain[0]["id"]), "enrollments"), query, missing_ok=True),
                )
            )

        def make(chain: Chain) -> Record | None:
            self.routes.learn_enrollment(chain[-1])
            return build(chain[-1])

        return Walk((top, enrollments), each(make))

    # -- assignments ---------------------------------------------------------------------------

    # -- scores -----------------------------------------------------------------------------------
