"""Reading people: students, teachers (and TAs) and observers (guardians).

Canvas users have no kind of their own: a user is a student, teacher or
observer by the enrollments they hold. Lists come from the account's users
of one enrollment type; look-ups by id from a course the people were seen
enrolled in (the route cache), where Canvas checks the enrollment type;
links between students and their observers are read only when asked for.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from adapters.canvas import _mapping as m
from adapters.canvas._plan import ENROLLMENT_STATES, Walk, api_path, canvas_ids, given, id_chunks, repeated
from adapters.canvas._walk import Chain, Expand, Level, Stream, gather_all
from hub.sdk import Entity, FetchRequest, Guardian, Record

if TYPE_CHECKING:
    from adapters.canvas._reads import Reads

__all__ = ["People"]

# The kind of enrollment that makes a user each person entity, and the
# enrollment_type values that list them (account users, course users).
_KIND = {Entity.STUDENT: "student", Entity.TEACHER: "staff", Entity.GUARDIAN: "observer"}
_USER_TYPES = {"student": ("student",), "staff": ("teacher", "ta"), "observer": ("observer",)}
_STAFF_ROLE = {"teacher": "teacher", "ta": "aide"}
_ROLE_STAFF_TYPE = {"teacher": "teacher", "aide": "ta"}


class People:
    """The reads of Student, Teacher and Guardian records."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads

    def _user_types(self, request: FetchRequest) -> tuple[str, ...]:
        kind = _KIND[request.entity]
        types = _USER_TYPES[kind]
        if request.entity is Entity.TEACHER and "role" in request.filters:
            wanted = {_ROLE_STAFF_TYPE.get(role) for role in request.filters["role"]}
            types = tuple(t for t in types if t in wanted)
        return types

    def _account_users(self, types: Sequence[str]) -> tuple[Expand, Expand]:
        path = api_path("accounts", self.reads.account, "users")
        top = given([{"type": t} for t in types])

        def users(chain: Chain) -> Level:
            query = (("enrollment_type", str(chain[0]["type"])), ("include[]", "email"), ("sort", "id"))
            return Level(streams=(Stream(path, query),))

        return top, users

    async def plan(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        """Students, teachers (and TAs) or observers: the account's users of that
        enrollment type (``GET /accounts/:id/users?enrollment_type=...``), a
        role filter choosing the types; guardians of given students from their
        observers; look-ups by id as :meth:`_people_by_id` says."""
        entity = request.entity
        types = self._user_types(request)
        if not types:
            return []
        if request.ids is not None:
            enrich = self._enricher(entity, attributes)
            return await enrich(await self._people_by_id(entity, canvas_ids(request.ids), types))
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
        students = given([{"id": s} for s in canvas_ids(request.filters["student_ids"])])
        enrich = self._enricher(Entity.GUARDIAN, request.fields)

        def observers(chain: Chain) -> Level:
            path = api_path("users", str(chain[0]["id"]), "observers")
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
            if (course := self.reads.routes.course_of_user(user_id, kind)) is not None:
                by_course[course].append(user_id)
        items = [{"course": c, "ids": chunk} for c, users in by_course.items() for chunk in id_chunks(users)]
        # Every enrollment state, as for enrollments: a student who left a course is still a student.
        extra = repeated("include[]", ("email", "enrollments")) + repeated("enrollment_type[]", types)
        extra += repeated("enrollment_state[]", ENROLLMENT_STATES)

        def members(chain: Chain) -> Level:
            query = extra + repeated("user_ids[]", chain[0]["ids"])
            return Level(
                streams=(
                    Stream(api_path("courses", str(chain[0]["course"]), "users"), query, missing_ok=True),
                )
            )

        wanted = set(ids)
        found: dict[str, Record] = {}
        for chain in await self.reads.walker.collect((given(items), members)):
            record = self._person(entity, chain[-1], types[0] if len(types) == 1 else "")
            if record is not None and record.vendor_id in wanted:
                found.setdefault(record.vendor_id, record)
        missing = wanted - set(found)
        if missing:
            async with contextlib.aclosing(self.reads.walker.walk(self._account_users(types))) as walk:
                async for chain, _ in walk:
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
            streams = [Stream(api_path("users", r.vendor_id, "observers"), missing_ok=True) for r in records]
            for record, ids in zip(
                records, await gather_all([self.reads.ids_in(s) for s in streams]), strict=True
            ):
                record.guardian_ids = ids  # type: ignore[attr-defined]
            return records

        async def students_of_guardians(records: list[Record]) -> list[Record]:
            async def students(user_id: str) -> tuple[str, ...]:
                observees = Stream(api_path("users", user_id, "observees"), missing_ok=True)
                query = self.reads.enrollment_query((m.OBSERVER,))
                enrolled = Stream(api_path("users", user_id, "enrollments"), query, missing_ok=True)
                linked, observed = await gather_all(
                    [self.reads.ids_in(observees), self.reads.ids_in(enrolled, "associated_user_id")]
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


def _staff_role(obj: m.Json) -> str | None:
    """``teacher`` or ``aide`` from a course user's ``enrollments`` (``include[]=enrollments``)."""
    enrollments = obj.get("enrollments")
    if not isinstance(enrollments, list):
        return None
    types = {item.get("type") for item in enrollments if isinstance(item, dict)}
    if "TeacherEnrollment" in types:
        return "teacher"
    return "aide" if "TaEnrollment" in types else None
