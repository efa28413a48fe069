"""Strawberry types of the unified schema (``schema.graphql`` is the contract).

Resolvers receive unified records (``hub.model``) as ``root``; scalar fields
read record attributes directly, so the per-row cost of a scalar is one
``getattr``. Relationship fields go through the request's batched, scoped
data access.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.federation.clock import is_current
from hub.federation.scope import entity_of, readable_value
from hub.model import Entity, Record, of_type
from hub.model import records as m
from hub.schema.enums import AttendanceStatus, EnrollmentRole, OrgType, ScoreStatus, SessionType
from hub.schema.resolve import (
    Connection,
    context,
    data,
    empty_connection,
    paginate,
    vendor_id_of,
    withheld,
)

STUDENT_ROLE = "student"
TEACHING_ROLES = ("teacher", "aide")


def _is(record_type: type[Record]) -> Any:
    def is_type_of(cls: Any, obj: Any, info: Any) -> bool:
        return isinstance(obj, record_type)

    return classmethod(is_type_of)


def _resolve_record_type(cls: Any, obj: Any, info: Any, type_: Any) -> str:
    return entity_of(obj).value


@strawberry.type
class SourceRef:
    source: str
    vendor_id: str
    note: str | None = strawberry.field(
        default=None, description="Why a look-alike record elsewhere was not merged with this one."
    )


def _sources(root: Record, info: Info) -> list[SourceRef]:
    if withheld(root, "sources", info):
        return []
    identity = context(info).hub.identity
    entity = entity_of(root)
    keys = [(root.source, root.vendor_id), *root.also_in]
    return [SourceRef(source=s, vendor_id=v, note=identity.note(entity, s, v)) for s, v in keys]


@strawberry.interface
class Node:
    id: strawberry.ID
    resolve_type = classmethod(_resolve_record_type)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Organization(Node):
    name: str
    type: OrgType
    identifier: str | None
    is_type_of = _is(m.Organization)

    @strawberry.field
    async def parent(self, root: strawberry.Parent[Any], info: Info) -> Organization | None:
        return await data(info).one(Entity.ORGANIZATION, root.source, root.parent_id)

    @strawberry.field
    async def children(self, root: strawberry.Parent[Any], info: Info) -> list[Organization]:
        if withheld(root, "children", info):
            return []
        return await data(info).linked_to(Entity.ORGANIZATION, "parent_id", root)

    @strawberry.field
    def sources(self, root: strawberry.Parent[Any], info: Info) -> list[SourceRef]:
        return _sources(root, info)


@strawberry.type
class AcademicSession(Node):
    title: str
    type: SessionType
    start_date: dt.date | None
    end_date: dt.date | None
    school_year: str | None
    is_type_of = _is(m.AcademicSession)

    @strawberry.field
    async def parent(self, root: strawberry.Parent[Any], info: Info) -> AcademicSession | None:
        return await data(info).one(Entity.ACADEMIC_SESSION, root.source, root.parent_id)


@strawberry.type
class Course(Node):
    title: str
    course_code: str | None
    grades: list[str]
    subjects: list[str]
    is_type_of = _is(m.Course)

    @strawberry.field
    async def org(self, root: strawberry.Parent[Any], info: Info) -> Organization | None:
        return await data(info).one(Entity.ORGANIZATION, root.source, root.org_id)


@strawberry.interface
class Person(Node):
    given_name: str | None
    family_name: str | None
    middle_name: str | None
    preferred_name: str | None
    email: str | None
    username: str | None
    identifier: str | None

    @strawberry.field
    def sources(self, root: strawberry.Parent[Any], info: Info) -> list[SourceRef]:
        return _sources(root, info)


async def _enrolled_sections(
    root: Record, info: Info, roles: tuple[str, ...], term_id: strawberry.ID | None
) -> list[Record]:
    access = data(info)
    enrollments = await access.enrollments_of("person_id", root)
    keys = [(e.source, e.section_id) for e in enrollments if e.role in roles and e.section_id]
    sections = of_type(await access.many_keys(Entity.SECTION, keys, disclose=False), m.Section)
    term = vendor_id_of(term_id, Entity.ACADEMIC_SESSION, root.source)
    if term is not None:
        sections = [s for s in sections if term in (readable_value(s, "term_ids") or ())]
    return list(sections)


@strawberry.type
class Student(Person):
    grade_level: str | None
    birth_date: dt.date | None
    sex: str | None
    races: list[str] | None
    hispanic_or_latino: bool | None
    programs: list[str] | None
    directory_opt_out: bool | None
    is_type_of = _is(m.Student)

    @strawberry.field
    async def school(self, root: strawberry.Parent[Any], info: Info) -> Organization | None:
        return await data(info).one(Entity.ORGANIZATION, root.source, root.school_id)

    @strawberry.field
    async def sections(
        self,
        root: strawberry.Parent[Any],
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        term_id: strawberry.ID | None = None,
    ) -> SectionConnection:
        if withheld(root, "sections", info):
            return empty_connection()
        rows = await _enrolled_sections(root, info, (STUDENT_ROLE,), term_id)
        return paginate(rows, first, after, info)

    @strawberry.field
    async def guardians(self, root: strawberry.Parent[Any], info: Info) -> list[Guardian]:
        if withheld(root, "guardians", info):
            return []
        return await data(info).many(Entity.GUARDIAN, root.source, root.guardian_ids)

    @strawberry.field
    async def scores(
        self,
        root: strawberry.Parent[Any],
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        section_id: strawberry.ID | None = None,
    ) -> ScoreConnection:
        if withheld(root, "scores", info):
            return empty_connection()
        rows = of_type(await data(info).linked_to(Entity.SCORE, "student_id", root, disclose=False), m.Score)
        section = vendor_id_of(section_id, Entity.SECTION, root.source)
        if section is not None:
            rows = [r for r in rows if r.section_id == section]
        return paginate(rows, first, after, info)

    @strawberry.field
    async def course_grades(
        self, root: strawberry.Parent[Any], info: Info, term_id: strawberry.ID | None = None
    ) -> list[CourseGrade]:
        if withheld(root, "courseGrades", info):
            return []
        rows = of_type(
            await data(info).linked_to(Entity.COURSE_GRADE, "student_id", root, disclose=False),
            m.CourseGrade,
        )
        term = vendor_id_of(term_id, Entity.ACADEMIC_SESSION, root.source)
        if term is not None:
            rows = [r for r in rows if readable_value(r, "term_id") == term]
        data(info).disclose(rows)
        return rows

    @strawberry.field
    async def attendance(
        self,
        root: strawberry.Parent[Any],
        info: Info,
        from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None,
    ) -> list[AttendanceEvent]:
        if withheld(root, "attendance", info):
            return []
        rows = of_type(
            await data(info).linked_to(
                Entity.ATTENDANCE_EVENT, "student_id", root, disclose=False, narrow=_date_range(from_, to)
            ),
            m.AttendanceEvent,
        )
        if from_ is not None or to is not None:
            dated = [(r, readable_value(r, "date")) for r in rows]
            rows = [
                r
                for r, date in dated
                if date is not None and (from_ is None or date >= from_) and (to is None or date <= to)
            ]
        data(info).disclose(rows)
        return rows


@strawberry.type
class Teacher(Person):
    phone: str | None
    is_type_of = _is(m.Teacher)

    @strawberry.field
    async def schools(self, root: strawberry.Parent[Any], info: Info) -> list[Organization]:
        if withheld(root, "schools", info):
            return []
        return await data(info).many(Entity.ORGANIZATION, root.source, root.school_ids)

    @strawberry.field
    async def sections(
        self,
        root: strawberry.Parent[Any],
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        term_id: strawberry.ID | None = None,
    ) -> SectionConnection:
        if withheld(root, "sections", info):
            return empty_connection()
        rows = await _enrolled_sections(root, info, TEACHING_ROLES, term_id)
        return paginate(rows, first, after, info)


@strawberry.type
class Guardian(Person):
    phone: str | None
    relationship: str | None
    is_type_of = _is(m.Guardian)

    @strawberry.field
    async def students(self, root: strawberry.Parent[Any], info: Info) -> list[Student]:
        if withheld(root, "students", info):
            return []
        return await data(info).many(Entity.STUDENT, root.source, root.student_ids)


async def _section_people(
    root: Record,
    info: Info,
    roles: tuple[str, ...],
    entity: Entity,
    include_inactive: bool = True,
    *,
    disclose: bool = True,
) -> list[Record]:
    access = data(info)
    enrollments = await access.enrollments_of("section_id", root)
    if not include_inactive:
        ctx = context(info)
        today, grace = ctx.relationships.today, ctx.relationships.grace_days
        enrollments = [e for e in enrollments if is_current(e.begin_date, e.end_date, today, grace)]
    keys = [(e.source, e.person_id) for e in enrollments if e.role in roles and e.person_id]
    return await access.many_keys(entity, keys, disclose=disclose)


@strawberry.type
class Section(Node):
    title: str
    class_code: str | None
    class_type: str | None
    location: str | None
    periods: list[str]
    subjects: list[str]
    is_type_of = _is(m.Section)

    @strawberry.field
    async def course(self, root: strawberry.Parent[Any], info: Info) -> Course | None:
        return await data(info).one(Entity.COURSE, root.source, root.course_id)

    @strawberry.field
    async def school(self, root: strawberry.Parent[Any], info: Info) -> Organization | None:
        return await data(info).one(Entity.ORGANIZATION, root.source, root.school_id)

    @strawberry.field
    async def terms(self, root: strawberry.Parent[Any], info: Info) -> list[AcademicSession]:
        if withheld(root, "terms", info):
            return []
        return await data(info).many(Entity.ACADEMIC_SESSION, root.source, root.term_ids)

    @strawberry.field
    async def teachers(self, root: strawberry.Parent[Any], info: Info) -> list[Teacher]:
        if withheld(root, "teachers", info):
            return []
        return await _section_people(root, info, TEACHING_ROLES, Entity.TEACHER)

    @strawberry.field
    async def students(
        self,
        root: strawberry.Parent[Any],
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        include_inactive: bool = False,
    ) -> StudentConnection:
        """Students enrolled now (an enrollment that ended less than the grace
        period ago still counts); ``includeInactive`` adds past enrollments."""
        if withheld(root, "students", info):
            return empty_connection()
        rows = await _section_people(
            root, info, (STUDENT_ROLE,), Entity.STUDENT, include_inactive, disclose=False
        )
        return paginate(rows, first, after, info)

    @strawberry.field
    async def assignments(
        self,
        root: strawberry.Parent[Any],
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        due_after: dt.datetime | None = None,
    ) -> AssignmentConnection:
        if withheld(root, "assignments", info):
            return empty_connection()
        rows = of_type(
            await data(info).linked_to(Entity.ASSIGNMENT, "section_id", root, disclose=False),
            m.Assignment,
        )
        if due_after is not None:
            rows = [r for r in rows if _after(readable_value(r, "due_date"), due_after)]
        return paginate(rows, first, after, info)

    @strawberry.field
    def sources(self, root: strawberry.Parent[Any], info: Info) -> list[SourceRef]:
        return _sources(root, info)


def _date_range(from_: dt.date | None, to: dt.date | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``date_from``/``date_to`` filters for a source (ISO dates), to read fewer rows."""
    out: list[tuple[str, tuple[str, ...]]] = []
    if from_ is not None:
        out.append(("date_from", (from_.isoformat(),)))
    if to is not None:
        out.append(("date_to", (to.isoformat(),)))
    return tuple(out)


def _after(value: dt.datetime | None, bound: dt.datetime) -> bool:
    if value is None:
        return False
    if (value.tzinfo is None) != (bound.tzinfo is None):
        value, bound = value.replace(tzinfo=None), bound.replace(tzinfo=None)
    return value > bound


@strawberry.type
class Enrollment(Node):
    role: EnrollmentRole
    primary: bool | None
    begin_date: dt.date | None
    end_date: dt.date | None
    is_type_of = _is(m.Enrollment)

    @strawberry.field
    async def section(self, root: strawberry.Parent[Any], info: Info) -> Section:
        return await data(info).one(Entity.SECTION, root.source, root.section_id)

    @strawberry.field
    async def person(self, root: strawberry.Parent[Any], info: Info) -> Person | None:
        entity = Entity.STUDENT if root.role == STUDENT_ROLE else Entity.TEACHER
        return await data(info).one(entity, root.source, root.person_id)


@strawberry.type
class Assignment(Node):
    title: str
    description: str | None
    assign_date: dt.datetime | None
    due_date: dt.datetime | None
    category: str | None
    points_possible: float | None
    is_type_of = _is(m.Assignment)

    @strawberry.field
    async def section(self, root: strawberry.Parent[Any], info: Info) -> Section:
        return await data(info).one(Entity.SECTION, root.source, root.section_id)

    @strawberry.field
    async def scores(
        self, root: strawberry.Parent[Any], info: Info, first: int | None = 100, after: str | None = None
    ) -> ScoreConnection:
        if withheld(root, "scores", info):
            return empty_connection()
        rows = await data(info).linked_to(Entity.SCORE, "assignment_id", root, disclose=False)
        return paginate(rows, first, after, info)

    @strawberry.field
    def sources(self, root: strawberry.Parent[Any], info: Info) -> list[SourceRef]:
        return _sources(root, info)


@strawberry.type
class Score(Node):
    score: float | None
    score_status: ScoreStatus | None
    late: bool | None
    missing: bool | None
    submitted_at: dt.datetime | None
    comment: str | None
    is_type_of = _is(m.Score)

    @strawberry.field
    async def assignment(self, root: strawberry.Parent[Any], info: Info) -> Assignment:
        return await data(info).one(Entity.ASSIGNMENT, root.source, root.assignment_id)

    @strawberry.field
    async def student(self, root: strawberry.Parent[Any], info: Info) -> Student | None:
        return await data(info).one(Entity.STUDENT, root.source, root.student_id)

    @strawberry.field
    def sources(self, root: strawberry.Parent[Any], info: Info) -> list[SourceRef]:
        return _sources(root, info)


@strawberry.type
class CourseGrade(Node):
    letter_grade: str | None
    percent: float | None
    is_type_of = _is(m.CourseGrade)

    @strawberry.field
    async def student(self, root: strawberry.Parent[Any], info: Info) -> Student | None:
        return await data(info).one(Entity.STUDENT, root.source, root.student_id)

    @strawberry.field
    async def section(self, root: strawberry.Parent[Any], info: Info) -> Section:
        return await data(info).one(Entity.SECTION, root.source, root.section_id)

    @strawberry.field
    async def term(self, root: strawberry.Parent[Any], info: Info) -> AcademicSession | None:
        return await data(info).one(Entity.ACADEMIC_SESSION, root.source, root.term_id)


@strawberry.type
class AttendanceEvent(Node):
    date: dt.date
    status: AttendanceStatus
    is_type_of = _is(m.AttendanceEvent)

    @strawberry.field
    async def student(self, root: strawberry.Parent[Any], info: Info) -> Student | None:
        return await data(info).one(Entity.STUDENT, root.source, root.student_id)

    @strawberry.field
    async def section(self, root: strawberry.Parent[Any], info: Info) -> Section | None:
        return await data(info).one(Entity.SECTION, root.source, root.section_id)

    @strawberry.field
    async def school(self, root: strawberry.Parent[Any], info: Info) -> Organization | None:
        return await data(info).one(Entity.ORGANIZATION, root.source, root.school_id)


@strawberry.type
class StudentEdge:
    node: Student
    cursor: str


@strawberry.type
class StudentConnection:
    edges: list[StudentEdge]
    page_info: PageInfo
    total_count: int | None


@strawberry.type
class SectionEdge:
    node: Section
    cursor: str


@strawberry.type
class SectionConnection:
    edges: list[SectionEdge]
    page_info: PageInfo
    total_count: int | None


@strawberry.type
class AssignmentEdge:
    node: Assignment
    cursor: str


@strawberry.type
class AssignmentConnection:
    edges: list[AssignmentEdge]
    page_info: PageInfo
    total_count: int | None


@strawberry.type
class ScoreEdge:
    node: Score
    cursor: str


@strawberry.type
class ScoreConnection:
    edges: list[ScoreEdge]
    page_info: PageInfo
    total_count: int | None


__all__ = [
    "AcademicSession",
    "Assignment",
    "AssignmentConnection",
    "AttendanceEvent",
    "Connection",
    "Course",
    "CourseGrade",
    "Enrollment",
    "Guardian",
    "Node",
    "Organization",
    "PageInfo",
    "Person",
    "Score",
    "ScoreConnection",
    "Section",
    "SectionConnection",
    "SourceRef",
    "Student",
    "StudentConnection",
    "Teacher",
]
