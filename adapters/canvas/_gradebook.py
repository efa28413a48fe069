"""Reading the gradebook: assignments (as each section sees them) and submissions.

Canvas keeps assignments per course and submissions per assignment and
student; the unified records are per section. Everything is read in bulk
per course or section, and what a section does not see is dropped here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from adapters.canvas import _mapping as m
from adapters.canvas import _values as v
from adapters.canvas._plan import Walk, api_path, canvas_ids, each, given, id_chunks, repeated
from adapters.canvas._walk import Chain, Expand, Level, Stream, gather_all
from hub.sdk import FetchRequest, Record

if TYPE_CHECKING:
    from adapters.canvas._reads import Reads

__all__ = ["Gradebook"]


class Gradebook:
    """The reads of Assignment and Score records."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads

    async def _categories(self, course_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Assignment group names by group id, for each course."""
        wanted = list(dict.fromkeys(course_ids))
        streams = [Stream(api_path("courses", c, "assignment_groups"), missing_ok=True) for c in wanted]

        async def names(stream: Stream) -> dict[str, str]:
            found: dict[str, str] = {}
            async for items in self.reads.walker.pages(stream):
                for item in items:
                    if (group := v.ident(item.get("id"))) and (name := v.text(item.get("name"))):
                        found[group] = name
            return found

        return dict(zip(wanted, await gather_all([names(s) for s in streams]), strict=True))

    async def _section_items(self, by_section: Mapping[str, Sequence[str] | None], key: str) -> list[m.Json]:
        """Section items naming their course, and chunks of ``key`` ids to ask for (``None``: all)."""
        courses = await self.reads.section_courses(list(by_section))
        items: list[m.Json] = []
        for section_id, values in by_section.items():
            if section_id not in courses:
                continue  # no such section
            chunks: list[list[str] | None] = [None] if values is None else list(id_chunks(list(values)))
            items.extend({"id": section_id, "course_id": courses[section_id], key: chunk} for chunk in chunks)
        return items

    async def assignments(self, request: FetchRequest, attributes: frozenset[str]) -> Walk:
        """Assignments as sections see them. Canvas lists them per course
        (``include[]=overrides`` for who sees them and when): for the sections
        asked for (``section_id``, or the sections of the ids asked for, whose
        assignment ids are pushed down as ``assignment_ids[]``), each section's
        course is read and its assignments kept when that section sees them; a
        course's assignments are at most one list per section. Unfiltered, every
        course's sections, and for each its course's assignment groups with their
        assignments (``GET /courses/:id/assignment_groups?include[]=assignments``):
        the groups' names (``category``) come with them, no list of their own."""
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
                by_section = dict.fromkeys(canvas_ids(request.filters["section_id"]))
            items = await self._section_items(by_section, "assignment_ids")

            def assignments(chain: Chain) -> Level:
                wanted = chain[0]["assignment_ids"]
                query = overrides + (repeated("assignment_ids[]", wanted) if wanted is not None else ())
                return Level(
                    streams=(
                        Stream(
                            api_path("courses", str(chain[0]["course_id"]), "assignments"),
                            query,
                            missing_ok=True,
                        ),
                    )
                )

            levels = (given(items), assignments)
        else:
            stream = await self.reads.account_courses()
            grouped = (*overrides, ("include[]", "assignments"))

            def course_groups(chain: Chain) -> Level:
                # The groups with their assignments: names and assignments in one list,
                # instead of a list of each (a request per course saved).
                path = api_path("courses", str(chain[0]["id"]), "assignment_groups")
                return Level(streams=(Stream(path, grouped, missing_ok=True),))

            def group_assignments(chain: Chain) -> Level:
                listed = chain[-1].get("assignments")
                found = listed if isinstance(listed, list) else []
                return Level(items=tuple(item for item in found if isinstance(item, dict)))

            def make_in_group(chain: Chain) -> Record | None:
                _, section, group, obj = chain
                name = v.text(group.get("name"))
                groups = {key: name} if (key := v.ident(group.get("id"))) and name else {}
                return m.assignment(obj, str(section["id"]), groups)

            courses = lambda chain: Level(streams=(stream,))  # noqa: E731
            levels = (courses, self.reads.course_sections, course_groups, group_assignments)
            return Walk(levels, each(make_in_group))
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

    async def _student_sections(self, user_ids: Sequence[str]) -> dict[str, list[str]]:
        """The sections each student is (or was) enrolled in, as section -> students."""
        query = self.reads.enrollment_query(("StudentEnrollment",), await self.reads.term())
        streams = [Stream(api_path("users", u, "enrollments"), query, missing_ok=True) for u in user_ids]

        async def enrollments(stream: Stream) -> list[m.Json]:
            return [item async for items in self.reads.walker.pages(stream) for item in items]

        by_section: dict[str, list[str]] = defaultdict(list)
        for user_id, objs in zip(user_ids, await gather_all([enrollments(s) for s in streams]), strict=True):
            self.reads.routes.learn(objs, "enrollment")
            for obj in objs:
                section = v.ident(obj.get("course_section_id"))
                if obj.get("type") == "StudentEnrollment" and section and user_id not in by_section[section]:
                    by_section[section].append(user_id)
        return by_section

    async def scores(self, request: FetchRequest, attributes: frozenset[str]) -> Walk | list[Record]:
        """Submissions, always in bulk per section
        (``GET /sections/:id/students/submissions``), never per student or
        assignment:

        - ``section_id``: each section's, for every student (``student_ids[]=all``);
        - ``assignment_id``: the sections named, with those ``assignment_ids[]``;
        - ``student_id``: Canvas cannot list a student's submissions across
          courses, so each student's enrollments are read first (one list per
          student), then each of their sections' submissions for just those
          students (``student_ids[]``, 50 a request): what is read in memory is
          bounded by those students' own submissions;
        - ids: a few one by one, more grouped by section as above;
        - nothing: every section of every course of the account.
        """
        comments = (("include[]", "submission_comments"),) if "comment" in attributes else ()
        items: list[m.Json] | None = None
        if request.ids is not None:
            keys = [parts for key in request.ids if (parts := m.split_key(key, 3)) is not None]
            keys = list(dict.fromkeys(keys))
            if len(keys) <= self.reads.config.id_lookup_max:
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
                for chunk in id_chunks(sorted(g["students"]))
            ]
        elif "assignment_id" in request.filters:
            by_section: dict[str, list[str]] = defaultdict(list)
            for key in request.filters["assignment_id"]:
                if (parts := m.split_key(key, 2)) is not None:
                    by_section[parts[0]].append(parts[1])
            items = [
                {"id": s, "assignment_ids": chunk, "student_ids": None}
                for s, a in by_section.items()
                for chunk in id_chunks(a)
            ]
        elif "section_id" in request.filters:
            items = [
                {"id": s, "assignment_ids": None, "student_ids": None}
                for s in canvas_ids(request.filters["section_id"])
            ]
        elif "student_id" in request.filters:
            sections = await self._student_sections(canvas_ids(request.filters["student_id"]))
            items = [
                {"id": s, "assignment_ids": None, "student_ids": chunk}
                for s, u in sections.items()
                for chunk in id_chunks(u)
            ]

        def submissions(chain: Chain) -> Level:
            section = chain[-1]
            students = section.get("student_ids")
            assignments = section.get("assignment_ids")
            query = repeated("student_ids[]", students if students is not None else ["all"])
            query += repeated("assignment_ids[]", assignments or ()) + comments
            path = api_path("sections", str(section["id"]), "students", "submissions")
            return Level(streams=(Stream(path, query, missing_ok=True),))

        levels: tuple[Expand, ...]
        if items is not None:
            levels = (given(items), submissions)
        else:
            stream = await self.reads.account_courses()
            levels = (lambda chain: Level(streams=(stream,)), self.reads.course_sections, submissions)
        return Walk(levels, each(lambda chain: m.score(chain[-1], str(chain[-2]["id"]))))

    async def _scores_by_id(
        self, keys: Sequence[tuple[str, ...]], query: tuple[tuple[str, str], ...]
    ) -> list[Record]:
        paths = [
            self.reads.client.url(
                api_path("sections", s, "assignments", a, "submissions", u)
            ).copy_merge_params(query)
            for s, a, u in keys
        ]

        async def one(url: Any) -> m.Json | None:
            body, _ = await self.reads.client.get_json(url, missing_ok=True)
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
