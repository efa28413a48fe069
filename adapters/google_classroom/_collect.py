"""Which Classroom calls answer a question, and the records they give.

Classroom has no domain-wide list of students, teachers, course work or
submissions: each lives in a course. Every question is therefore read course
by course with the course-level list methods (``courses/{id}/students``,
``courses/{id}/courseWork/-/studentSubmissions`` for all of a course's work
at once), never record by record. What narrows the set of courses:

- ``section_id`` filters and the course part of composite ids
  (``Assignment``, ``Score``, ``Enrollment``; see ``_ids``);
- a filter on at most ``lookup_limit`` people (``student_id``,
  ``person_id``, Student/Teacher ids): ``courses?studentId=`` /
  ``courses?teacherId=`` per person;
- otherwise every served course.

Guardians come from ``userProfiles/-/guardians`` (every link, one paged
list; ``guardians = "all"``) or student by student (``userProfiles/{id}/guardians``:
for a few students, or always with ``guardians = "per_student"``). A
section's class code costs one ``courses/{id}/aliases`` call per course, and
is read only when asked for.

Filters Classroom cannot apply are applied by the adapter afterwards, within
``max_scan_records``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from adapters.google_classroom import _ids
from adapters.google_classroom import _mapping as m
from adapters.google_classroom._reader import ClassroomReader, Json, ScanBudget, each, segment
from adapters.google_classroom.config import GoogleClassroomConfig
from hub.sdk import Entity, FetchRequest, Record, Student, Teacher

__all__ = ["COURSE_SCOPED", "SEARCH", "Collector"]

SEARCH = "search"
COURSE_SCOPED = frozenset({Entity.ENROLLMENT, Entity.ASSIGNMENT, Entity.SCORE})
"""Entities whose every record lives in one course: read, and paged, course by course."""

_SECTION = {
    "title": ("name", "section"),
    "location": ("room",),
    "subjects": ("subject",),
}
_COURSE = {"title": ("name",), "subjects": ("subject",)}
_PROFILE = {
    "given_name": ("name/givenName",),
    "family_name": ("name/familyName",),
    "email": ("emailAddress",),
}
_WORK = {
    "title": ("title",),
    "description": ("description",),
    "assign_date": ("creationTime",),
    "due_date": ("dueDate", "dueTime"),
    "category": ("gradeCategory/name",),
    "points_possible": ("maxPoints",),
}
_SUBMISSION = {
    "score": ("assignedGrade",),
    "score_status": ("state", "assignedGrade", "draftGrade"),
    "late": ("late",),
    "submitted_at": ("state", "updateTime", "submissionHistory/stateHistory"),
}
_NAMES = frozenset({"given_name", "family_name"})
_ROLES = ("student", "teacher")


def _paths(table: Mapping[str, tuple[str, ...]], attributes: Iterable[str], *always: str) -> list[str]:
    found = list(always)
    for attribute in attributes:
        found.extend(table.get(attribute, ()))
    return sorted(set(found))


def _profile_paths(prefix: str, attributes: frozenset[str], *always: str) -> list[str]:
    return _paths({k: tuple(f"{prefix}/{p}" for p in v) for k, v in _PROFILE.items()}, attributes, *always)


def _plain(values: Iterable[str]) -> list[str]:
    return [value for value in dict.fromkeys(values) if _ids.is_plain(value)]


class Collector:
    """Reads what one ``FetchRequest`` needs, as unified records with every
    attribute the request asks for or filters on (projection happens later)."""

    def __init__(self, reader: ClassroomReader, config: GoogleClassroomConfig, request: FetchRequest) -> None:
        self.reader = reader
        self.config = config
        self.request = request
        self.budget = ScanBudget(config.name, config.max_scan_records)
        wanted = set(request.fields) | (set(request.filters) - {SEARCH})
        if SEARCH in request.filters:
            wanted |= _NAMES
        self.attributes = frozenset(wanted - {"vendor_id"})
        self.small = config.lookup_limit
        # courseId -> the course work ids an ``assignment_id`` filter names in it.
        self._works_asked: dict[str, set[str]] = {}
        for value in request.filters.get("assignment_id", ()):
            if (split := _ids.split_assignment(value)) is not None:
                self._works_asked.setdefault(split[0], set()).add(split[1])

    async def records(self) -> list[Record]:
        """Every candidate record for the request (before ids and filters are applied)."""
        entity = self.request.entity
        if entity is Entity.SECTION:
            return await self._sections()
        if entity is Entity.COURSE:
            return [r for r in map(m.course, await self._courses_by_id(_COURSE)) if r]
        if entity is Entity.STUDENT:
            return await self._people(Student)
        if entity is Entity.TEACHER:
            if "teacher" not in self.request.filters.get("role", ("teacher",)):
                return []  # Classroom knows teachers only: no call can find a principal
            return await self._people(Teacher)
        if entity in COURSE_SCOPED:
            return await self._all_of_courses()
        if entity is Entity.GUARDIAN:
            return list(await self._guardians())
        return []

    # -- courses ---------------------------------------------------------------

    def _served(self, course: Json) -> bool:
        state = course.get("courseState")
        return state is None or state in self.config.course_states

    async def _all_courses(self, paths: Sequence[str], **params: str) -> list[Json]:
        query: dict[str, str | int | float] = dict(params)
        if len(self.config.course_states) == 1:
            query["courseStates"] = self.config.course_states[0]
        courses = await self.reader.list("v1/courses", "courses", paths, self.budget, query)
        return [course for course in courses if self._served(course)]

    async def _courses(self, wanted: Sequence[str] | None, paths: Sequence[str]) -> list[Json]:
        """Served courses, all or those in ``wanted`` (in that order)."""
        if wanted is None:
            return await self._all_courses(paths)
        wanted = _plain(wanted)
        if len(wanted) <= self.small:

            async def one(course_id: str) -> Json | None:
                return await self.reader.get(f"v1/courses/{segment(course_id)}", paths)

            found = [course for course in await each(wanted, one) if course is not None]
            return [course for course in found if self._served(course)]
        by_id = {str(course.get("id")): course for course in await self._all_courses(paths)}
        return [by_id[course_id] for course_id in wanted if course_id in by_id]

    async def _sections(self) -> list[Record]:
        courses = await self._courses_by_id(_SECTION)
        codes: list[str | None] = [None] * len(courses)
        if "class_code" in self.attributes:
            codes = await each(courses, self._sis_id)
        return [r for r in map(m.section, courses, codes) if r]

    async def _sis_id(self, course: Json) -> str | None:
        """The course's domain alias without its ``d:`` (the id a SIS roster sync gave it)."""
        course_id = str(course.get("id"))
        if not _ids.is_plain(course_id):
            return None
        path = f"v1/courses/{segment(course_id)}/aliases"
        aliases = await self.reader.list(path, "aliases", ["alias"], self.budget, skippable=True)
        return m.sis_id(aliases)

    async def _courses_by_id(self, table: Mapping[str, tuple[str, ...]]) -> list[Json]:
        ids = self.request.ids
        paths = _paths(table, self.attributes, "id", "courseState")
        return await self._courses(list(ids) if ids is not None else None, paths)

    async def _courses_of_people(
        self, people: Sequence[str], roles: Iterable[str], paths: Sequence[str]
    ) -> list[Json]:
        """The served courses where ``people`` have one of ``roles`` (no repeats)."""
        asks = [(person, role) for person in _plain(people) for role in roles]

        async def courses_of(ask: tuple[str, str]) -> list[Json]:
            person, role = ask
            return await self._all_courses(paths, **{f"{role}Id": person})

        found = await each(asks, courses_of)
        return list({str(c.get("id")): c for courses in found for c in courses}.values())

    async def _scope(
        self,
        paths: Sequence[str],
        *,
        course_ids: Iterable[str] | None = None,
        people: Sequence[str] | None = None,
        roles: Iterable[str] = ("student",),
    ) -> list[Json]:
        """The served courses a course-scoped question has to read.

        ``course_ids`` (from section filters and composite ids) and the
        courses of ``people`` (when they are few) narrow it; restrictions
        combine as the request's filters do, by intersection.
        """
        restrictions: list[list[str]] = []
        known: dict[str, Json] = {}
        if course_ids is not None:
            restrictions.append(list(dict.fromkeys(course_ids)))
        if people is not None and len(people) <= self.small:
            theirs = await self._courses_of_people(people, roles, paths)
            known.update((str(course.get("id")), course) for course in theirs)
            restrictions.append(list(known))
        if not restrictions:
            return await self._all_courses(paths)
        allowed = set.intersection(*(set(r) for r in restrictions))
        ordered = [course for course in restrictions[0] if course in allowed]
        missing = [course for course in ordered if course not in known]
        if missing:
            known.update((str(course.get("id")), course) for course in await self._courses(missing, paths))
        return [known[course] for course in ordered if course in known]

    def _course_ids(self, *filters: str) -> list[str] | None:
        """Courses named by the request's ids and ``filters`` (course or composite ids), or
        ``None`` when nothing names a course. Several restrictions intersect."""
        named = [
            [course for value in values if (course := _ids.course_of(value))]
            for values in (self.request.ids, *(self.request.filters.get(name) for name in filters))
            if values is not None
        ]
        if not named:
            return None
        allowed = set.intersection(*(set(courses) for courses in named))
        return [course for course in dict.fromkeys(named[0]) if course in allowed]

    # -- people and enrollments ----------------------------------------------------

    async def _members(
        self, courses: Sequence[Json], role: str, paths: Sequence[str]
    ) -> list[tuple[str, Json]]:
        """(course id, member object) of ``role`` in every course, in course order."""

        async def read(course: Json) -> list[tuple[str, Json]]:
            course_id = str(course.get("id"))
            if not _ids.is_plain(course_id):
                return []
            key = f"{role}s"
            path = f"v1/courses/{segment(course_id)}/{key}"
            items = await self.reader.list(path, key, paths, self.budget, skippable=True)
            return [(course_id, item) for item in items]

        return [pair for pairs in await each(courses, read) for pair in pairs]

    async def _people(self, record_type: type[Student] | type[Teacher]) -> list[Record]:
        role = "student" if record_type is Student else "teacher"
        ids = self.request.ids
        courses = await self._scope(("id", "courseState"), people=ids, roles=(role,))
        paths = _profile_paths("profile", self.attributes, "userId")
        people: dict[str, Student | Teacher] = {}
        for _, member in await self._members(courses, role, paths):
            record = m.person(member, record_type)
            if record is not None and record.vendor_id not in people:
                people[record.vendor_id] = record
        rows: list[Record] = list(people.values())
        if record_type is Student and "guardian_ids" in self.attributes:
            wanted = [r.vendor_id for r in rows if ids is None or r.vendor_id in ids]
            links = await self._guardian_links(wanted)
            for row in rows:
                if isinstance(row, Student):
                    row.guardian_ids = tuple(links.get(row.vendor_id, ()))
        return rows

    # -- course-scoped entities: the courses to read, then one course at a time ----------

    async def courses_to_read(self) -> list[Json]:
        """The served courses a course-scoped request (:data:`COURSE_SCOPED`) has to read, in order."""
        entity, filters = self.request.entity, self.request.filters
        if entity is Entity.ENROLLMENT:
            if not self._roles():
                return []  # only students and teachers are members of a course
            paths = ["id", "courseState", *(["ownerId"] if "primary" in self.attributes else [])]
            return await self._scope(
                paths,
                course_ids=self._course_ids("section_id"),
                people=filters.get("person_id"),
                roles=self._roles(),
            )
        if entity is Entity.ASSIGNMENT:
            return await self._scope(("id", "courseState"), course_ids=self._course_ids("section_id"))
        return await self._scope(
            ("id", "courseState"),
            course_ids=self._course_ids("section_id", "assignment_id"),
            people=filters.get("student_id"),
        )

    async def read(self, course: Json) -> list[Record]:
        """The records of a course-scoped request that live in ``course``."""
        course_id = str(course.get("id"))
        if not _ids.is_plain(course_id):
            return []
        entity = self.request.entity
        if entity is Entity.ENROLLMENT:
            return await self._enrollments(course_id, course.get("ownerId"))
        if entity is Entity.ASSIGNMENT:
            path = f"v1/courses/{segment(course_id)}/courseWork"
            works = await self.reader.list(path, "courseWork", self.work_paths(), self.budget, skippable=True)
            return [r for r in map(m.assignment, works) if r]
        return await self._scores(course_id)

    def work_paths(self, *more: str) -> list[str]:
        """The ``CourseWork`` paths the request's attributes need (and ``more``)."""
        return _paths(_WORK, self.attributes, "id", "courseId", *more)

    async def _all_of_courses(self) -> list[Record]:
        courses = await self.courses_to_read()
        return [row for rows in await each(courses, self.read) for row in rows]

    def _roles(self) -> list[str]:
        return [role for role in _ROLES if role in self.request.filters.get("role", _ROLES)]

    async def _enrollments(self, course_id: str, owner: object) -> list[Record]:
        rows: list[Record] = []
        # Teachers first: a course's owner leads its membership, as in Classroom's UI.
        for role in sorted(self._roles(), reverse=True):
            key = f"{role}s"
            path = f"v1/courses/{segment(course_id)}/{key}"
            for member in await self.reader.list(path, key, ["userId"], self.budget, skippable=True):
                record = m.enrollment(member, role, course_id, owner if isinstance(owner, str) else None)
                if record is not None:
                    rows.append(record)
        return rows

    async def _scores(self, course_id: str) -> list[Record]:
        students = self.request.filters.get("student_id")
        works = self._works_asked.get(course_id, set())
        params: dict[str, str | int | float] = {}
        if students is not None and len(students) == 1 and _ids.is_plain(students[0]):
            params["userId"] = students[0]
        # One work asked for: read just its submissions; else all of the course's at once.
        work = next(iter(works)) if len(works) == 1 else "-"
        path = f"v1/courses/{segment(course_id)}/courseWork/{segment(work)}/studentSubmissions"
        paths = _paths(_SUBMISSION, self.attributes, "id", "courseId", "courseWorkId", "userId")
        items = await self.reader.list(path, "studentSubmissions", paths, self.budget, params, skippable=True)
        return [r for r in map(m.score, items) if r]

    # -- guardians -----------------------------------------------------------------

    def _guardian_paths(self, attributes: frozenset[str]) -> list[str]:
        return _profile_paths("guardianProfile", attributes, "studentId", "guardianId")

    async def _links_of(self, student: str, paths: Sequence[str]) -> list[Json]:
        path = f"v1/userProfiles/{segment(student)}/guardians"
        return await self.reader.list(path, "guardians", paths, self.budget, skippable=True)

    async def _every_link(self, paths: Sequence[str]) -> list[Json]:
        if self.config.guardians == "all":
            return await self.reader.list("v1/userProfiles/-/guardians", "guardians", paths, self.budget)
        courses = await self._all_courses(("id", "courseState"))
        members = await self._members(courses, "student", ["userId"])
        students = _plain(str(member.get("userId")) for _, member in members)
        return await self._links_for(students, paths)

    async def _links_for(self, students: Sequence[str], paths: Sequence[str]) -> list[Json]:
        found = await each(students, lambda student: self._links_of(student, paths))
        return [link for links in found for link in links]

    async def _links(self, students: Sequence[str] | None, paths: Sequence[str]) -> list[Json]:
        """Guardian links of ``students`` (every link when ``None``)."""
        if students is None:
            return await self._every_link(paths)
        students = _plain(students)
        if self.config.guardians == "all" and len(students) > self.small:
            wanted = set(students)
            return [link for link in await self._every_link(paths) if link.get("studentId") in wanted]
        return await self._links_for(students, paths)

    async def _guardian_links(self, students: Sequence[str]) -> dict[str, list[str]]:
        """studentId -> guardianIds, for filling ``Student.guardian_ids``."""
        links = await self._links(students, self._guardian_paths(frozenset()))
        grouped: dict[str, list[str]] = {}
        for link in links:
            student, guardian = link.get("studentId"), link.get("guardianId")
            if isinstance(student, str) and isinstance(guardian, str):
                grouped.setdefault(student, [])
                if guardian not in grouped[student]:
                    grouped[student].append(guardian)
        return grouped

    async def _guardians(self) -> list[Record]:
        students = self.request.filters.get("student_ids")
        if "student_ids" in self.request.fields:
            # A guardian's student_ids must list every child, not only the ones
            # asked about: that takes every link.
            students = None
        links = await self._links(students, self._guardian_paths(self.attributes))
        return list(m.guardians(links))
