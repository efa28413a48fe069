"""How each unified entity is read from Canvas: which collections, in which
order, and how records are made of what they return.

A request becomes either a :class:`Walk` (levels of collections, paged and
resumable) or the records themselves (look-ups by id, read one by one or by
course). Filters Canvas can answer are pushed into the paths and queries;
every filter is applied again by the adapter afterwards, so a looser vendor
answer never widens the result.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from adapters.canvas import _mapping as m
from adapters.canvas import _values as v
from adapters.canvas._routes import RouteCache
from adapters.canvas._walk import Chain, Expand, Level, Stream, Walker, gather_all
from adapters.canvas.config import CanvasConfig
from hub.sdk import BadVendorData, Entity, FetchRequest, Guardian, Record
from hub.sdk.http import VendorClient

__all__ = ["ENROLLMENT_STATES", "Reads", "Walk"]

ENROLLMENT_STATES = ("active", "invited", "completed", "inactive")
"""Enrollment states read: past enrollments too (the hub decides what is current by date)."""
CHUNK = 50  # ids per request in a repeated query parameter (user_ids[], student_ids[], ...)

T = TypeVar("T")
Make = Callable[[Sequence[Chain]], Awaitable[list[Record | None]]]

# Person entities: the kind of enrollment that makes a user one, and the
# enrollment_type values that list them (account users, course users).
_KIND = {Entity.STUDENT: "student", Entity.TEACHER: "staff", Entity.GUARDIAN: "observer"}
_USER_TYPES = {"student": ("student",), "staff": ("teacher", "ta"), "observer": ("observer",)}
_STAFF_ROLE = {"teacher": "teacher", "ta": "aide"}
_ROLE_STAFF_TYPE = {"teacher": "teacher", "aide": "ta"}


@dataclass(frozen=True, slots=True)
class Walk:
    """A read down ``levels``; ``make`` turns a batch of chains into records
    (``None`` for a chain that makes none), in order."""

    levels: tuple[Expand, ...]
    make: Make


def _chunks(values: Sequence[T], size: int = CHUNK) -> list[list[T]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def _valid(ids: Iterable[str]) -> list[str]:
    """Ids that can be Canvas ids, once each, in order (anything else is simply not found)."""
    return list(dict.fromkeys(i for i in ids if v.ident(i) == i))


def _repeat(name: str, values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for value in values)


def _static(items: Sequence[Mapping[str, Any]]) -> Expand:
    frozen = tuple(dict(item) for item in items)
    return lambda chain: Level(items=frozen)


def _path(*parts: str) -> str:
    return "/".join(quote(part, safe=":~") for part in parts)


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

    # -- the configured term --------------------------------------------------

    async def term(self) -> str | None:
        """The Canvas id of the configured ``term_id`` (resolved once), or ``None``."""
        wanted = self.config.term_id
        if wanted is None or wanted.isdigit():
            return wanted
        async with self._term_lock:
            if self._term is None:
                found, _ = await self.client.get_json(
                    _path("accounts", self.account, "terms", wanted), missing_ok=True
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
            course_ids, await self.objects([_path("courses", c) for c in course_ids]), strict=True
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
        for obj in await self.objects([_path("courses", c) for c in unknown]):
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
        for obj in await self.objects([_path("sections", s) for s in unknown]):
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
        return Stream(_path("accounts", self.account, "courses"), query)

    @staticmethod
    def course_sections(chain: Chain) -> Level:
        """The sections of the course at the top of ``chain``."""
        return Level(streams=(Stream(_path("courses", str(chain[0]["id"]), "sections"), missing_ok=True),))

    @staticmethod
    def enrollment_query(types: Sequence[str], term: str | None = None) -> tuple[tuple[str, str], ...]:
        """``type[]`` and ``state[]`` of an enrollment list (and the term, for a user's)."""
        query = _repeat("type[]", types) + _repeat("state[]", ENROLLMENT_STATES)
        return query + ((("enrollment_term_id", term),) if term else ())

    # -- planning -------------------------------------------------------------------

    async def plan(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        """The read answering ``request``; ``attributes`` are those asked for or filtered on."""
        planners: dict[Entity, Callable[[FetchRequest, frozenset[str]], Awaitable[Walk | list[Record]]]] = {
            Entity.ACADEMIC_SESSION: self._terms,
            Entity.COURSE: self._courses,
            Entity.SECTION: self._sections,
            Entity.STUDENT: self._people,
            Entity.TEACHER: self._people,
            Entity.GUARDIAN: self._people,
            Entity.ENROLLMENT: self._enrollments,
            Entity.COURSE_GRADE: self._enrollments,
            Entity.ASSIGNMENT: self._assignments,
            Entity.SCORE: self._scores,
        }
        return await planners[request.entity](request, attributes)

    async def _terms(self, request: FetchRequest, attributes: frozenset[str]) -> Walk:
        # Terms are few: a look-up by id reads the list and keeps the ids asked for.
        stream = Stream(_path("accounts", self.account, "terms"), key="enrollment_terms")
        return Walk((lambda chain: Level(streams=(stream,)),), _each(lambda chain: m.term(chain[-1])))

    async def _courses(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        ids = _valid(request.ids) if request.ids is not None else None
        if ids is not None and len(ids) <= self.config.id_lookup_max:
            found = await self.courses(ids)
            return [r for i in ids if i in found and (r := m.course(found[i])) is not None]
        stream = await self.account_courses()

        def make(chain: Chain) -> Record | None:
            self.routes.learn_course(chain[-1])
            return m.course(chain[-1])

        return Walk((lambda chain: Level(streams=(stream,)),), _each(make))

    async def _sections(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        ids = _valid(request.ids) if request.ids is not None else None
        if ids is not None and len(ids) <= self.config.id_lookup_max:
            return await self._sections_by_id(ids)
        courses: Expand
        if ids is None and "course_id" in request.filters:
            found = await self.courses(_valid(request.filters["course_id"]))
            courses = _static(list(found.values()))
        elif ids is None and "term_ids" in request.filters:
            term = await self.term()
            terms = [t for t in _valid(request.filters["term_ids"]) if term is None or t == term]
            path = _path("accounts", self.account, "courses")
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

        return Walk((courses, self.course_sections), _each(make))

    async def _sections_by_id(self, ids: Sequence[str]) -> list[Record]:
        objs = [obj for obj in await self.objects([_path("sections", s) for s in ids]) if obj is not None]
        self.routes.learn(objs, "section")
        terms = await self.course_terms(c for obj in objs if (c := v.ident(obj.get("course_id"))))
        records: list[Record] = []
        for obj in objs:
            term = terms.get(v.ident(obj.get("course_id")) or "")
            if await self._in_term(term) and (record := m.section(obj, term)) is not None:
                records.append(record)
        return records

    # -- people -------------------------------------------------------------------------

    def _user_types(self, request: FetchRequest) -> tuple[str, ...]:
        kind = _KIND[request.entity]
        types = _USER_TYPES[kind]
        if request.entity is Entity.TEACHER and "role" in request.filters:
            wanted = {_ROLE_STAFF_TYPE.get(role) for role in request.filters["role"]}
            types = tuple(t for t in types if t in wanted)
        return types

    def _account_users(self, types: Sequence[str]) -> tuple[Expand, Expand]:
        path = _path("accounts", self.account, "users")
        top = _static([{"type": t} for t in types])

        def users(chain: Chain) -> Level:
            query = (("enrollment_type", str(chain[0]["type"])), ("include[]", "email"), ("sort", "id"))
            return Level(streams=(Stream(path, query),))

        return top, users

    async def _people(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        entity = request.entity
        types = self._user_types(request)
        if not types:
            return []
        if request.ids is not None:
            enrich = self._enricher(entity, attributes)
            return await enrich(await self._people_by_id(entity, _valid(request.ids), types))
        if entity is Entity.GUARDIAN and "student_ids" in request.filters:
            return self._observers_of(request)
        enrich = self._enricher(entity, attributes)

        async def make(chains: Sequence[Chain]) -> list[Record | None]:
            made = [self._person(entity, chain[-1], str(chain[0]["type"])) for chain in chains]
            await enrich([record for record in made if record is not None])
            return made

        return Walk(self._account_users(types), make)

    def _observers_of(self, request: FetchRequest) -> Walk:
        """Guardians of the students a request names: each student's observers.

        Each observer found this way observes that student, which is enough
        to answer the filter; its other students are read only when asked for.
        """
        students = _static([{"id": s} for s in _valid(request.filters["student_ids"])])
        enrich = self._enricher(Entity.GUARDIAN, request.fields)

        def observers(chain: Chain) -> Level:
            path = _path("users", str(chain[0]["id"]), "observers")
            return Level(streams=(Stream(path, (("include[]", "email"),), missing_ok=True),))

        async def make(chains: Sequence[Chain]) -> list[Record | None]:
            made = [m.guardian(chain[-1], (str(chain[0]["id"]),)) for chain in chains]
            # The same observer of two of the students: one record knowing both.
            first: dict[str, Guardian] = {}
            for record in made:
                if record is not None:
                    known = first.setdefault(record.vendor_id, record)
                    known.student_ids = tuple(dict.fromkeys((*known.student_ids, *record.student_ids)))
                    record.student_ids = known.student_ids
            await enrich(list(first.values()))
            return list(made)

        return Walk((students, observers), make)

    def _person(self, entity: Entity, obj: m.Json, user_type: str = "") -> Record | None:
        if entity is Entity.STUDENT:
            return m.student(obj)
        if entity is Entity.GUARDIAN:
            return m.guardian(obj)
        return m.teacher(obj, _staff_role(obj) or _STAFF_ROLE.get(user_type))

    async def _people_by_id(self, entity: Entity, ids: Sequence[str], types: Sequence[str]) -> list[Record]:
        """People by id: grouped by a course they were seen in (one request per
        course and 50 ids, the role checked by Canvas), the rest from the
        account's list of that kind, read until all are found."""
        kind = _KIND[entity]
        by_course: dict[str, list[str]] = defaultdict(list)
        for user_id in ids:
            if (course := self.routes.course_of_user(user_id, kind)) is not None:
                by_course[course].append(user_id)
        items = [{"course": c, "ids": chunk} for c, users in by_course.items() for chunk in _chunks(users)]
        extra = _repeat("include[]", ("email", "enrollments")) + _repeat("enrollment_type[]", types)

        def members(chain: Chain) -> Level:
            query = extra + _repeat("user_ids[]", chain[0]["ids"])
            return Level(
                streams=(Stream(_path("courses", str(chain[0]["course"]), "users"), query, missing_ok=True),)
            )

        found: dict[str, Record] = {}
        for chain in await self.walker.collect((_static(items), members)):
            record = self._person(entity, chain[-1], types[0] if len(types) == 1 else "")
            if record is not None and record.vendor_id in ids:
                found.setdefault(record.vendor_id, record)
        missing = set(ids) - set(found)
        if missing:
            async for chain, _ in self.walker.walk(self._account_users(types)):
                record = self._person(entity, chain[-1], str(chain[0]["type"]))
                if record is not None and record.vendor_id in missing:
                    found.setdefault(record.vendor_id, record)
                    missing.discard(record.vendor_id)
                    if not missing:
                        break
        return [found[i] for i in ids if i in found]

    def _enricher(
        self, entity: Entity, attributes: frozenset[str]
    ) -> Callable[[list[Record]], Awaitable[list[Record]]]:
        """What fills a person's links to other people, when they are asked for:
        a student's observers (``GET /users/:id/observers``); an observer's
        students (its observees, and the students its observer enrollments name)."""

        async def guardians_of_students(records: list[Record]) -> list[Record]:
            streams = [Stream(_path("users", r.vendor_id, "observers"), missing_ok=True) for r in records]
            for record, ids in zip(records, await gather_all([self.ids_in(s) for s in streams]), strict=True):
                record.guardian_ids = ids  # type: ignore[attr-defined]
            return records

        async def students_of_guardians(records: list[Record]) -> list[Record]:
            async def students(user_id: str) -> tuple[str, ...]:
                observees = Stream(_path("users", user_id, "observees"), missing_ok=True)
                query = self.enrollment_query((m.OBSERVER,))
                enrolled = Stream(_path("users", user_id, "enrollments"), query, missing_ok=True)
                linked, observed = await gather_all(
                    [self.ids_in(observees), self.ids_in(enrolled, "associated_user_id")]
                )
                return tuple(dict.fromkeys((*linked, *observed)))

            found = await gather_all([students(r.vendor_id) for r in records])
            for record, ids in zip(records, found, strict=True):
                known: tuple[str, ...] = getattr(record, "student_ids", ())
                record.student_ids = tuple(dict.fromkeys((*ids, *known)))  # type: ignore[attr-defined]
            return records

        async def nothing(records: list[Record]) -> list[Record]:
            return records

        if entity is Entity.STUDENT and "guardian_ids" in attributes:
            return guardians_of_students
        if entity is Entity.GUARDIAN and "student_ids" in attributes:
            return students_of_guardians
        return nothing

    # -- enrollments and course grades ------------------------------------------------------

    async def _enrollments(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        grades = request.entity is Entity.COURSE_GRADE
        build: Callable[[m.Json], Record | None] = m.course_grade if grades else m.enrollment
        if grades:
            types: tuple[str, ...] = ("StudentEnrollment",)
        else:
            roles = request.filters.get("role")
            types = tuple(t for t, role in m.ROLE_OF_TYPE.items() if roles is None or role in roles)
            if not types:
                return []
        ids = _valid(request.ids) if request.ids is not None else None
        if ids is not None and len(ids) <= self.config.id_lookup_max:
            objs = await self.objects([_path("accounts", self.account, "enrollments", e) for e in ids])
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
            top, parent = _static([{"id": s} for s in _valid(request.filters["section_id"])]), "sections"
            query = self.enrollment_query(types)
        elif ids is None and person in request.filters:
            top, parent = _static([{"id": u} for u in _valid(request.filters[person])]), "users"
            query = self.enrollment_query(types, term)
        else:
            stream = await self.account_courses()
            top, parent = (lambda chain: Level(streams=(stream,))), "courses"
            query = self.enrollment_query(types)

        def enrollments(chain: Chain) -> Level:
            return Level(
                streams=(Stream(_path(parent, str(chain[0]["id"]), "enrollments"), query, missing_ok=True),)
            )

        def make(chain: Chain) -> Record | None:
            self.routes.learn_enrollment(chain[-1])
            return build(chain[-1])

        return Walk((top, enrollments), _each(make))

    # -- assignments ---------------------------------------------------------------------------

    async def _categories(self, course_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Assignment group names by group id, for each course."""
        wanted = list(dict.fromkeys(course_ids))
        streams = [Stream(_path("courses", c, "assignment_groups"), missing_ok=True) for c in wanted]

        async def names(stream: Stream) -> dict[str, str]:
            found: dict[str, str] = {}
            async for items in self.walker.pages(stream):
                for item in items:
                    if (group := v.ident(item.get("id"))) and (name := v.text(item.get("name"))):
                        found[group] = name
            return found

        return dict(zip(wanted, await gather_all([names(s) for s in streams]), strict=True))

    async def _section_items(self, by_section: Mapping[str, Sequence[str] | None], key: str) -> list[m.Json]:
        """Section items naming their course, and chunks of ``key`` ids to ask for (``None``: all)."""
        courses = await self.section_courses(list(by_section))
        items: list[m.Json] = []
        for section_id, values in by_section.items():
            if section_id not in courses:
                continue  # no such section
            chunks: list[list[str] | None] = [None] if values is None else list(_chunks(list(values)))
            items.extend({"id": section_id, "course_id": courses[section_id], key: chunk} for chunk in chunks)
        return items

    async def _assignments(self, request: FetchRequest, attributes: frozenset[str]) -> Walk:
        overrides = (("include[]", "overrides"),)
        levels: tuple[Expand, ...]
        if request.ids is not None or "section_id" in request.filters:
            by_section: dict[str, list[str] | None] = {}
            if request.ids is not None:
                for key in request.ids:
                    if (parts := m.split_key(key, 2)) is not None:
                        listed = by_section.setdefault(parts[0], [])
                        assert listed is not None
                        listed.append(parts[1])
            else:
                by_section = dict.fromkeys(_valid(request.filters["section_id"]))
            items = await self._section_items(by_section, "assignment_ids")

            def assignments(chain: Chain) -> Level:
                wanted = chain[0]["assignment_ids"]
                query = overrides + (_repeat("assignment_ids[]", wanted) if wanted is not None else ())
                return Level(
                    streams=(
                        Stream(
                            _path("courses", str(chain[0]["course_id"]), "assignments"),
                            query,
                            missing_ok=True,
                        ),
                    )
                )

            levels = (_static(items), assignments)
        else:
            stream = await self.account_courses()

            def course_assignments(chain: Chain) -> Level:
                path = _path("courses", str(chain[0]["id"]), "assignments")
                return Level(streams=(Stream(path, overrides, missing_ok=True),))

            levels = (lambda chain: Level(streams=(stream,)), self.course_sections, course_assignments)
        with_category = "category" in attributes

        async def make(chains: Sequence[Chain]) -> list[Record | None]:
            # The second-to-last object is the section (its "id" and "course_id").
            courses = [str(chain[-2]["course_id"]) for chain in chains]
            groups = await self._categories(courses) if with_category else {}
            return [
                m.assignment(chain[-1], str(chain[-2]["id"]), groups.get(course, {}))
                for chain, course in zip(chains, courses, strict=True)
            ]

        return Walk(levels, make)

    # -- scores -----------------------------------------------------------------------------------

    async def _student_sections(self, user_ids: Sequence[str]) -> dict[str, list[str]]:
        """The sections each student is (or was) enrolled in, as section -> students."""
        query = self.enrollment_query(("StudentEnrollment",), await self.term())
        streams = [Stream(_path("users", u, "enrollments"), query, missing_ok=True) for u in user_ids]

        async def enrollments(stream: Stream) -> list[m.Json]:
            return [item async for items in self.walker.pages(stream) for item in items]

        by_section: dict[str, list[str]] = defaultdict(list)
        for user_id, objs in zip(user_ids, await gather_all([enrollments(s) for s in streams]), strict=True):
            self.routes.learn(objs, "enrollment")
            for obj in objs:
                section = v.ident(obj.get("course_section_id"))
                if obj.get("type") == "StudentEnrollment" and section and user_id not in by_section[section]:
                    by_section[section].append(user_id)
        return by_section

    async def _scores(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        comments = (("include[]", "submission_comments"),) if "comment" in attributes else ()
        items: list[m.Json] | None = None
        if request.ids is not None:
            keys = [parts for key in request.ids if (parts := m.split_key(key, 3)) is not None]
            keys = list(dict.fromkeys(keys))
            if len(keys) <= self.config.id_lookup_max:
                return await self._scores_by_id(keys, comments)
            grouped: dict[str, dict[str, set[str]]] = defaultdict(
                lambda: {"assignments": set(), "students": set()}
            )
            for section, assignment, user in keys:
                grouped[section]["assignments"].add(assignment)
                grouped[section]["students"].add(user)
            items = [
                {"id": s, "assignment_ids": sorted(g["assignments"]), "student_ids": chunk}
                for s, g in grouped.items()
                for chunk in _chunks(sorted(g["students"]))
            ]
        elif "assignment_id" in request.filters:
            by_section: dict[str, list[str]] = defaultdict(list)
            for key in request.filters["assignment_id"]:
                if (parts := m.split_key(key, 2)) is not None:
                    by_section[parts[0]].append(parts[1])
            items = [
                {"id": s, "assignment_ids": chunk, "student_ids": None}
                for s, a in by_section.items()
                for chunk in _chunks(a)
            ]
        elif "section_id" in request.filters:
            items = [
                {"id": s, "assignment_ids": None, "student_ids": None}
                for s in _valid(request.filters["section_id"])
            ]
        elif "student_id" in request.filters:
            sections = await self._student_sections(_valid(request.filters["student_id"]))
            items = [
                {"id": s, "assignment_ids": None, "student_ids": chunk}
                for s, u in sections.items()
                for chunk in _chunks(u)
            ]

        def submissions(chain: Chain) -> Level:
            section = chain[-1]
            students = section.get("student_ids")
            assignments = section.get("assignment_ids")
            query = _repeat("student_ids[]", students if students is not None else ["all"])
            query += _repeat("assignment_ids[]", assignments or ()) + comments
            path = _path("sections", str(section["id"]), "students", "submissions")
            return Level(streams=(Stream(path, query, missing_ok=True),))

        levels: tuple[Expand, ...]
        if items is not None:
            levels = (_static(items), submissions)
        else:
            stream = await self.account_courses()
            levels = (lambda chain: Level(streams=(stream,)), self.course_sections, submissions)
        return Walk(levels, _each(lambda chain: m.score(chain[-1], str(chain[-2]["id"]))))

    async def _scores_by_id(
        self, keys: Sequence[tuple[str, ...]], query: tuple[tuple[str, str], ...]
    ) -> list[Record]:
        paths = [
            self.client.url(_path("sections", s, "assignments", a, "submissions", u)).copy_merge_params(query)
            for s, a, u in keys
        ]

        async def one(url: Any) -> m.Json | None:
            body, _ = await self.client.get_json(url, missing_ok=True)
            return body if isinstance(body, dict) else None

        found = await gather_all([one(url) for url in paths])
        records = []
        for (section, assignment, user), obj in zip(keys, found, strict=True):
            if obj is not None:
                # The path names the assignment and the student: a body leaving them out still maps.
                named = {
                    "assignment_id": assignment,
                    "user_id": user,
                    **{name: value for name, value in obj.items() if value is not None},
                }
                records.append(m.score(named, section))
        return [r for r in records if r is not None]


def _staff_role(obj: m.Json) -> str | None:
    """``teacher`` or ``aide`` from a course user's ``enrollments`` (``include[]=enrollments``)."""
    enrollments = obj.get("enrollments")
    if not isinstance(enrollments, list):
        return None
    types = {item.get("type") for item in enrollments if isinstance(item, dict)}
    if "TeacherEnrollment" in types:
        return "teacher"
    return "aide" if "TaEnrollment" in types else None


def _each(build: Callable[[Chain], Record | None]) -> Make:
    async def make(chains: Sequence[Chain]) -> list[Record | None]:
        return [build(chain) for chain in chains]

    return make
