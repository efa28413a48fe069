"""Root fields: the viewer, look-ups by id, root lists, sources and the access log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from hub.federation.access import Page
from hub.federation.clock import is_current
from hub.federation.ids import decode_id
from hub.federation.relations import Key
from hub.federation.scope import relations_to_record
from hub.model import Entity, Record
from hub.schema.enums import SourceState
from hub.schema.resolve import Connection, PageState, check_first, context, data
from hub.schema.types import (
    TEACHING_ROLES,
    Node,
    Organization,
    PageInfo,
    Person,
    Section,
    SectionConnection,
    Student,
    StudentConnection,
    Teacher,
)

NOT_FOUND = "NOT_FOUND"


def _not_found(what: str) -> GraphQLError:
    # Same answer whether the record is absent or merely unrelated: the caller
    # must not learn that a student exists.
    return GraphQLError(f"{what} not found", extensions={"code": NOT_FOUND})


def _connection(page: Page) -> Connection:
    return Connection(page.edges, PageState(page.has_next, page.end_cursor), page.total)


async def _by_hub_id(info: Info, hub_id: str, entity: Entity | None) -> Record | None:
    decoded = decode_id(hub_id)
    if decoded is None or (entity is not None and decoded.entity is not entity):
        return None
    return await data(info).one(decoded.entity, decoded.source, decoded.vendor_id)


async def _page(
    info: Info, entity: Entity, first: int | None, after: str | None, **kwargs: Any
) -> Connection:
    first = check_first(first, info)
    try:
        page = await data(info).page(entity, first=first, after=after, **kwargs)
    except ValueError as exc:
        raise GraphQLError(str(exc), extensions={"code": "BAD_USER_INPUT"}) from None
    return _connection(page)


def _local_ids(keys: frozenset[Key], source: str | None = None) -> tuple[str, ...]:
    return tuple(sorted(v for s, v in keys if source is None or s == source))


@strawberry.input
class StudentFilter:
    school_id: strawberry.ID | None = None
    section_id: strawberry.ID | None = None
    grade_level: str | None = None
    search: str | None = None


@strawberry.input
class SectionFilter:
    school_id: strawberry.ID | None = None
    term_id: strawberry.ID | None = None
    teacher_id: strawberry.ID | None = None


@strawberry.type
class SourceStatus:
    name: str
    kind: str
    state: SourceState
    last_error: str | None
    latency_ms: float | None
    mode: str | None = strawberry.field(default="live", description="mirror | live")
    last_sync_at: dt.datetime | None = strawberry.field(
        default=None, description="Mirror: when the last delta or full sync finished."
    )
    lag_seconds: float | None = strawberry.field(
        default=None, description="Mirror: age of the oldest data served from this source."
    )


@strawberry.type
class Disclosure:
    at: dt.datetime
    subject: str
    roles: list[str]
    client: str | None
    operation: str | None
    fields: list[str]
    purpose: str | None


@strawberry.type
class DisclosureEdge:
    node: Disclosure
    cursor: str


@strawberry.type
class DisclosureConnection:
    edges: list[DisclosureEdge]
    page_info: PageInfo


async def _care_ids(info: Info) -> tuple[bool, tuple[str, ...] | None, tuple[str, ...]]:
    """(everyone, student ids, school ids) of the students in the caller's care."""
    rel = context(info).relationships
    if rel.district:
        return True, None, ()
    ids: set[Key] = set()
    caller = context(info).caller
    if rel.self_key and caller is not None and caller.entity is Entity.STUDENT:
        ids.add(rel.self_key)
    ids |= await rel.children.get()
    ids |= await rel.taught_students.get()
    schools = await rel.staff_schools.get()
    # A school's staff are responsible for its students only when the policy
    # gives their role something under "school"; teachers are not, by default.
    plan = context(info).plan
    school_scope = bool(schools) and "school" in plan.relations_for("Student")
    return False, _local_ids(frozenset(ids)), _local_ids(schools) if school_scope else ()


@strawberry.type
class Viewer:
    subject: str
    roles: list[str]

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        caller = context(info).caller
        if caller is None:
            return None
        return await data(info).one(caller.entity, caller.source, caller.vendor_id)

    @strawberry.field
    async def students(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> StudentConnection:
        everyone, ids, schools = await _care_ids(info)
        if everyone:
            return await _page(info, Entity.STUDENT, first, after)
        if schools:
            return await _page(
                info,
                Entity.STUDENT,
                first,
                after,
                filters={"school_id": schools},
            )
        if not ids:
            return Connection([], PageState(False, None), 0)
        return await _page(info, Entity.STUDENT, first, after, ids=ids)

    @strawberry.field
    async def sections(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> SectionConnection:
        rel = context(info).relationships
        keys = (await rel.taught_sections.get()) | (await rel.own_sections.get())
        if not keys:
            return Connection([], PageState(False, None), 0)
        return await _page(info, Entity.SECTION, first, after, ids=_local_ids(keys))


async def _section_member_ids(info: Info, section_hub_id: str, roles: tuple[str, ...]) -> tuple[str, ...]:
    """The members of a section, as far as the caller may list them: only
    where the caller may read ``Section.students`` of that section (else none,
    the same answer as for a section that does not exist)."""
    decoded = decode_id(section_hub_id)
    if decoded is None or decoded.entity is not Entity.SECTION:
        return ()
    access = data(info)
    if not await access.may_read(Entity.SECTION, decoded.source, decoded.vendor_id, "students"):
        return ()
    enrollments = await access.enrollments("section_id", decoded.source, decoded.vendor_id)
    # Who is enrolled now, as ``Section.students`` lists them by default.
    rel = context(info).relationships
    return tuple(
        dict.fromkeys(
            e.person_id
            for e in enrollments
            if e.role in roles
            and e.person_id
            and is_current(e.begin_date, e.end_date, rel.today, rel.grace_days)
        )
    )


async def _teacher_section_ids(info: Info, teacher_hub_id: str) -> tuple[str, ...]:
    """A teacher's sections, as far as the caller may read ``Teacher.sections``."""
    decoded = decode_id(teacher_hub_id)
    if decoded is None or decoded.entity is not Entity.TEACHER:
        return ()
    access = data(info)
    if not await access.may_read(Entity.TEACHER, decoded.source, decoded.vendor_id, "sections"):
        return ()
    enrollments = await access.enrollments("person_id", decoded.source, decoded.vendor_id)
    return tuple(
        dict.fromkeys(e.section_id for e in enrollments if e.role in TEACHING_ROLES and e.section_id)
    )


MAX_SEARCH = 200


def _search_term(text: str) -> str | None:
    """The words of a search; a blank search filters nothing."""
    if len(text) > MAX_SEARCH:
        raise GraphQLError(
            f"search must be at most {MAX_SEARCH} characters", extensions={"code": "BAD_USER_INPUT"}
        )
    words = text.split()
    return " ".join(words) if words else None


def _vendor_filter(hub_id: str | None, entity: Entity) -> tuple[str, ...] | None:
    if hub_id is None:
        return None
    decoded = decode_id(hub_id)
    if decoded is None or decoded.entity is not entity:
        raise GraphQLError(f"not a {entity.value} id", extensions={"code": "BAD_USER_INPUT"})
    return (decoded.vendor_id,)


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        principal = context(info).principal
        return Viewer(subject=principal.subject, roles=list(principal.roles))

    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await _by_hub_id(info, id, None)

    @strawberry.field
    async def student(self, info: Info, id: strawberry.ID) -> Student | None:
        found = await _by_hub_id(info, id, Entity.STUDENT)
        if found is None:
            # Recorded under the canonical id, where the student's log is read
            # (an alias is the same student); an id naming no student names no one.
            decoded = decode_id(id)
            asked: list[str] = []
            if decoded is not None and decoded.entity is Entity.STUDENT:
                identity = context(info).relationships.identity
                asked.append(identity.hub_id(Entity.STUDENT, decoded.source, decoded.vendor_id))
            context(info).disclosures.refused("NOT_FOUND", type_name="Student", student_ids=asked)
            raise _not_found("student")
        return found

    @strawberry.field
    async def students(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        filter: StudentFilter | None = None,
    ) -> StudentConnection:
        # A filter matches only rows on which the caller may read what it
        # compares (``require``); search compares the names the caller may read.
        filters: dict[str, tuple[str, ...]] = {}
        require: set[str] = set()
        ids: tuple[str, ...] | None = None
        search: str | None = None
        if filter is not None:
            if (school := _vendor_filter(filter.school_id, Entity.ORGANIZATION)) is not None:
                filters["school_id"] = school
                require.add("school")
            if filter.grade_level is not None:
                filters["grade_level"] = (filter.grade_level,)
                require.add("gradeLevel")
            if filter.search is not None:
                search = _search_term(filter.search)
            if filter.section_id is not None:
                ids = await _section_member_ids(info, filter.section_id, ("student",))
                if not ids:
                    return Connection([], PageState(False, None), 0)
        return await _page(
            info,
            Entity.STUDENT,
            first,
            after,
            filters=filters,
            ids=ids,
            require=frozenset(require),
            search=search,
        )

    @strawberry.field
    async def section(self, info: Info, id: strawberry.ID) -> Section | None:
        found = await _by_hub_id(info, id, Entity.SECTION)
        if found is None:
            raise _not_found("section")
        return found

    @strawberry.field
    async def sections(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        filter: SectionFilter | None = None,
    ) -> SectionConnection:
        filters: dict[str, tuple[str, ...]] = {}
        require: set[str] = set()
        ids: tuple[str, ...] | None = None
        if filter is not None:
            if (school := _vendor_filter(filter.school_id, Entity.ORGANIZATION)) is not None:
                filters["school_id"] = school
                require.add("school")
            if (term := _vendor_filter(filter.term_id, Entity.ACADEMIC_SESSION)) is not None:
                filters["term_ids"] = term
                require.add("terms")
            if filter.teacher_id is not None:
                ids = await _teacher_section_ids(info, filter.teacher_id)
                if not ids:
                    return Connection([], PageState(False, None), 0)
        return await _page(
            info, Entity.SECTION, first, after, filters=filters, ids=ids, require=frozenset(require)
        )

    @strawberry.field
    async def teacher(self, info: Info, id: strawberry.ID) -> Teacher | None:
        found = await _by_hub_id(info, id, Entity.TEACHER)
        if found is None:
            raise _not_found("teacher")
        return found

    @strawberry.field
    async def schools(self, info: Info) -> list[Organization]:
        limit = context(info).hub.settings.server.max_page_size
        rows: list[Any] = []
        after: str | None = None
        while True:
            page = await data(info).page(
                Entity.ORGANIZATION, first=limit, after=after, filters={"type": ("school",)}
            )
            rows.extend(edge.node for edge in page.edges)
            if not page.has_next:
                return rows
            after = page.end_cursor

    @strawberry.field
    def sources(self, info: Info) -> list[SourceStatus]:
        ctx = context(info)
        granted = ctx.plan.relations_by_type.get("Query", {}).get("sources", frozenset())
        if "district" not in granted or not ctx.relationships.district:
            raise GraphQLError("source status is for district staff", extensions={"code": "FORBIDDEN"})
        registry = ctx.hub.registry
        registry.observe_mirrors()
        return [
            SourceStatus(
                name=s.name,
                kind=s.kind,
                state=SourceState(s.state),
                last_error=s.last_error,
                latency_ms=s.latency_ms,
                mode=s.mode,
                last_sync_at=s.last_sync_at,
                lag_seconds=s.lag_seconds,
            )
            for s in registry.states.values()
        ]

    @strawberry.field
    async def access_log(
        self, info: Info, student_id: strawberry.ID, first: int | None = 50, after: str | None = None
    ) -> DisclosureConnection:
        """Who was shown this student's records (FERPA 34 CFR 99.32), newest first."""
        ctx = context(info)
        audit = ctx.hub.audit
        if audit is None:
            raise GraphQLError(
                "the access log is not available: this hub runs without an audit store",
                extensions={"code": "NOT_AVAILABLE"},
            )
        decoded = decode_id(student_id)
        granted = ctx.plan.relations_by_type.get("Query", {}).get("accessLog", frozenset())
        relations: frozenset[str] = frozenset()
        canonical_id: str | None = None
        if decoded is not None and decoded.entity is Entity.STUDENT:
            # An alias (the student's id in another source) reads the log of the
            # canonical id, the one every disclosure about them is recorded under.
            identity = ctx.relationships.identity
            source, vendor_id = identity.canonical(Entity.STUDENT, decoded.source, decoded.vendor_id)
            canonical_id = identity.hub_id(Entity.STUDENT, source, vendor_id)
            relations = await relations_to_record(
                ctx.relationships, Entity.STUDENT, source, vendor_id, granted
            )
        if canonical_id is None or not relations & granted:
            asked = [canonical_id] if canonical_id is not None else []
            ctx.disclosures.refused("NOT_FOUND", type_name="Student", student_ids=asked)
            raise _not_found("student")
        selected = ctx.plan.relations_by_type.get("Disclosure", {})
        denied = sorted(f"Disclosure.{name}" for name, allowed in selected.items() if not allowed & relations)
        if denied:
            raise GraphQLError(
                "not allowed to read: " + ", ".join(denied),
                extensions={"code": "FORBIDDEN", "fields": denied},
            )
        try:
            page = await audit.disclosures_for(canonical_id, first=check_first(first, info), after=after)
        except ValueError as exc:
            raise GraphQLError(str(exc), extensions={"code": "BAD_USER_INPUT"}) from None
        ctx.disclosures.person(canonical_id, {"Query": ["accessLog"]})
        return DisclosureConnection(
            edges=[
                DisclosureEdge(
                    node=Disclosure(
                        at=event.at,
                        subject=event.subject or "",
                        roles=list(event.roles),
                        client=event.client,
                        operation=event.operation,
                        fields=list(event.field_names),
                        purpose=event.purpose,
                    ),
                    cursor=event.cursor,
                )
                for event in page.items
            ],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )
