"""The adapter against the simulator in process: the same district as the
CSV adapter serves, links that resolve, pushed-down searches and paging."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.edfi import EdFiAdapter
from hub.model import of_type
from hub.sdk import AcademicSession, Enrollment, Entity, FetchRequest, Record, Student, UnsupportedRequest
from tests.adapters.edfi.conftest import STUDENTS, csv_adapter, edfi_adapter, fetch_all

# Attributes compared as values; links (ids) are compared through resolution instead.
_LINKS = {
    "parent_id",
    "org_id",
    "school_year_id",
    "course_id",
    "school_id",
    "term_ids",
    "school_ids",
    "guardian_ids",
    "student_ids",
    "section_id",
    "person_id",
    "assignment_id",
    "student_id",
    "term_id",
    "grading_period_id",
}
# What Ed-Fi holds differently (documented in the adapter): assignment time of day,
# a guardian's unique id, the primary flag of student enrolments.
_DIFFERENT = {
    Entity.ASSIGNMENT: {"assign_date"},
    Entity.GUARDIAN: {"identifier"},
    Entity.ENROLLMENT: {"primary"},
}


def _values(records: list[Record], fields: frozenset[str], entity: Entity) -> Counter[tuple[Any, ...]]:
    names = sorted(fields - _LINKS - _DIFFERENT.get(entity, set()))
    return Counter(tuple(getattr(r, n) for n in names) for r in records)


@pytest.mark.parametrize("entity", [e for e in Entity if e is not Entity.ACADEMIC_SESSION])
async def test_every_entity_has_the_csv_values(entity: Entity, district: Path, sim_ds5: Starlette) -> None:
    async with edfi_adapter(sim_ds5) as edfi, csv_adapter(district) as csv:
        fields = edfi.capabilities().entities[entity].fields
        got = await fetch_all(edfi, FetchRequest(entity=entity, fields=fields))
        expected = await fetch_all(csv, FetchRequest(entity=entity, fields=fields))
    assert len(got) == len(expected)
    assert _values(got, fields, entity) == _values(expected, fields, entity)


async def test_sessions_are_per_school_with_inferred_parents(sim_ds5: Starlette) -> None:
    async with edfi_adapter(sim_ds5) as edfi:
        fields = edfi.capabilities().entities[Entity.ACADEMIC_SESSION].fields
        sessions = of_type(
            await fetch_all(edfi, FetchRequest(entity=Entity.ACADEMIC_SESSION, fields=fields)),
            AcademicSession,
        )
    by_id = {s.vendor_id: s for s in sessions}
    quarter = next(s for s in sessions if s.title == "Quarter 1 2026-2027")
    semester = by_id[str(quarter.parent_id)]
    year = by_id[str(semester.parent_id)]
    assert (semester.type, year.type, year.parent_id) == (
        "semester",
        "schoolYear",
        None,
    )


async def test_links_resolve_within_the_source(sim_ds5: Starlette) -> None:
    async with edfi_adapter(sim_ds5) as edfi:
        caps = edfi.capabilities().entities

        async def ids(entity: Entity) -> set[str]:
            return {
                r.vendor_id for r in await fetch_all(edfi, FetchRequest(entity=entity, fields=frozenset()))
            }

        sections, students, staff = (
            await ids(Entity.SECTION),
            await ids(Entity.STUDENT),
            await ids(Entity.TEACHER),
        )
        guardians, courses, orgs = (
            await ids(Entity.GUARDIAN),
            await ids(Entity.COURSE),
            await ids(Entity.ORGANIZATION),
        )
        terms = await ids(Entity.ACADEMIC_SESSION)
        enrolments = await fetch_all(
            edfi, FetchRequest(entity=Entity.ENROLLMENT, fields=caps[Entity.ENROLLMENT].fields)
        )
        assert {e.section_id for e in enrolments} <= sections  # type: ignore[attr-defined]
        assert {e.person_id for e in enrolments} <= students | staff  # type: ignore[attr-defined]
        section_rows = await fetch_all(
            edfi, FetchRequest(entity=Entity.SECTION, fields=caps[Entity.SECTION].fields)
        )
        assert {s.course_id for s in section_rows} <= courses  # type: ignore[attr-defined]
        assert {t for s in section_rows for t in s.term_ids} <= terms  # type: ignore[attr-defined]
        assert {s.school_id for s in section_rows} <= orgs  # type: ignore[attr-defined]
        people = await fetch_all(
            edfi, FetchRequest(entity=Entity.STUDENT, fields=frozenset({"guardian_ids"}))
        )
        assert {g for p in people for g in p.guardian_ids} == guardians  # type: ignore[attr-defined]
        grades = await fetch_all(
            edfi, FetchRequest(entity=Entity.COURSE_GRADE, fields=frozenset({"term_id"}))
        )
        assert {g.term_id for g in grades} <= terms  # type: ignore[attr-defined]


async def test_id_look_ups_and_pushed_down_filters(sim_ds5: Starlette) -> None:
    state = sim_ds5.state.simulator
    async with edfi_adapter(sim_ds5) as edfi:
        everyone = of_type(
            await fetch_all(edfi, FetchRequest(entity=Entity.STUDENT, fields=frozenset({"school_id"}))),
            Student,
        )
        wanted = tuple(r.vendor_id for r in everyone[:3])
        found = await edfi.fetch(
            FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), ids=wanted)
        )
        assert [r.vendor_id for r in found.records] == list(wanted)
        section = (
            await edfi.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset(), limit=1))
        ).records[0]
        before = len(state.queries)
        enrolled = of_type(
            await fetch_all(
                edfi,
                FetchRequest(
                    entity=Entity.ENROLLMENT,
                    fields=frozenset({"role"}),
                    filters={"section_id": (section.vendor_id,)},
                ),
            ),
            Enrollment,
        )
        assert {e.role for e in enrolled} == {"student", "teacher"}
        pushed = [q for q in state.queries[before:] if "sectionIdentifier" in q]
        assert len(pushed) == 2  # one search of each enrolment collection
        school = str(everyone[0].school_id)
        at_school = await fetch_all(
            edfi,
            FetchRequest(
                entity=Entity.STUDENT, fields=frozenset({"school_id"}), filters={"school_id": (school,)}
            ),
        )
        assert {r.vendor_id for r in at_school} == {r.vendor_id for r in everyone if r.school_id == school}
        named = await fetch_all(
            edfi,
            FetchRequest(
                entity=Entity.STUDENT,
                fields=frozenset({"given_name"}),
                filters={"search": (str(of_type(found.records, Student)[0].given_name).upper(),)},
            ),
        )
        assert found.records[0].vendor_id in {r.vendor_id for r in named}


async def test_paging_through_a_collection(sim_ds5: Starlette) -> None:
    async with edfi_adapter(sim_ds5) as edfi:
        first = await edfi.fetch(
            FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), limit=40)
        )
        assert (len(first.records), first.next_cursor, first.total) == (40, "s0.40", STUDENTS)
        assert all(isinstance(r, Student) and r.family_name is None for r in first.records)  # projected
        paged = await fetch_all(edfi, FetchRequest(entity=Entity.STUDENT, fields=frozenset(), limit=40))
        whole = await fetch_all(edfi, FetchRequest(entity=Entity.STUDENT, fields=frozenset()))
        assert [r.vendor_id for r in paged] == [r.vendor_id for r in whole]
        with pytest.raises(UnsupportedRequest, match="cursor"):
            await edfi.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset(), cursor="x1"))
        with pytest.raises(UnsupportedRequest, match="class_type"):
            await edfi.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset({"class_type"})))


async def test_the_catalogue_is_read_once_per_ttl(sim_ds5: Starlette) -> None:
    state = sim_ds5.state.simulator
    async with edfi_adapter(sim_ds5) as edfi:
        before = state.requests_to("courseOfferings")
        for _ in range(3):
            await edfi.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset({"course_id"}), limit=5))
        assert state.requests_to("courseOfferings") - before == 1
    async with edfi_adapter(sim_ds5, catalogue_ttl=0) as edfi:
        before = state.requests_to("courseOfferings")
        for _ in range(2):
            await edfi.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset({"course_id"}), limit=5))
        assert state.requests_to("courseOfferings") - before == 2


def test_directory_opt_out_is_declared_only_when_recorded() -> None:
    from tests.adapters.edfi.conftest import edfi_config

    assert "directory_opt_out" in EdFiAdapter(edfi_config()).capabilities().entities[Entity.STUDENT].fields
    silent = EdFiAdapter(edfi_config(directory_opt_out_indicator="")).capabilities().entities[Entity.STUDENT]
    assert "directory_opt_out" not in silent.fields and "directory_opt_out" not in silent.filters
