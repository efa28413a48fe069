"""How the adapter reads Clever: which requests answer which questions, that
every way of reading gives the same records, and what it refuses."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from adapters.clever import capabilities
from hub.sdk import (
    Enrollment,
    Entity,
    FetchRequest,
    Guardian,
    Record,
    Section,
    Student,
    Teacher,
    UnsupportedRequest,
    matches,
)

from .conftest import clever_adapter, clever_config, fetch_all, simulator


def _fields(entity: Entity, version: str = "v3.0") -> frozenset[str]:
    return capabilities(clever_config(api_version=version)).entities[entity].fields


def _by_id(rows: list[Record]) -> dict[str, Record]:
    return {row.vendor_id: row for row in rows}


def test_capabilities_are_honest_about_what_clever_has() -> None:
    v30 = capabilities(clever_config()).entities
    v31 = capabilities(clever_config(api_version="v3.1")).entities
    state_ids = capabilities(clever_config(identifier="state_id")).entities
    assert set(v30) == {
        *(Entity.ORGANIZATION, Entity.ACADEMIC_SESSION, Entity.COURSE, Entity.SECTION),
        *(Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN, Entity.ENROLLMENT),
    }  # no gradebook, course grades or attendance
    assert (
        "preferred_name" not in v30[Entity.STUDENT].fields and "preferred_name" in v31[Entity.STUDENT].fields
    )
    assert "directory_opt_out" not in v31[Entity.STUDENT].fields  # Clever has no such flag
    assert "phone" not in v30[Entity.TEACHER].fields and "username" not in v30[Entity.GUARDIAN].fields
    assert "identifier" in v30[Entity.GUARDIAN].fields  # contacts' sis_id
    assert "identifier" not in state_ids[Entity.GUARDIAN].fields  # contacts have no state id
    assert {"begin_date", "end_date"}.isdisjoint(v30[Entity.ENROLLMENT].fields)


@pytest.mark.parametrize("entity", [Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN, Entity.ENROLLMENT])
async def test_look_ups_scans_and_pages_give_the_same_records(district: Path, entity: Entity) -> None:
    app, _ = simulator(district, api_version="v3.1")
    fields = _fields(entity, "v3.1")
    async with clever_adapter(app, api_version="v3.1", page_size=9) as adapter:
        whole = await fetch_all(adapter, FetchRequest(entity=entity, fields=fields))
        paged = await fetch_all(adapter, FetchRequest(entity=entity, fields=fields, limit=4))
        some = [row.vendor_id for row in whole[::7]][:12]
        looked_up = await fetch_all(adapter, FetchRequest(entity=entity, fields=fields, ids=tuple(some)))
    async with clever_adapter(app, api_version="v3.1", max_lookups=0) as adapter:
        scanned = await fetch_all(adapter, FetchRequest(entity=entity, fields=fields, ids=tuple(some)))
    assert paged == whole and len({row.vendor_id for row in whole}) == len(whole)
    assert (
        _by_id(looked_up)
        == _by_id(scanned)
        == {key: row for key, row in _by_id(whole).items() if key in some}
    )


async def test_a_page_may_end_inside_a_sections_roster(district: Path) -> None:
    app, _ = simulator(district)
    fields = frozenset({"person_id", "role"})
    cursors: list[str] = []
    async with clever_adapter(app, page_size=7) as adapter:
        whole = await fetch_all(adapter, FetchRequest(entity=Entity.ENROLLMENT, fields=fields))
        for limit in (5, 11):
            rows: list[Record] = []
            cursor = None
            while True:
                page = await adapter.fetch(
                    FetchRequest(entity=Entity.ENROLLMENT, fields=fields, limit=limit, cursor=cursor)
                )
                rows.extend(page.records)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
                cursors.append(cursor)
            assert rows == whole, limit
    # Some pages ended inside a section's roster: their cursor counts its members already answered.
    assert any(not cursor.endswith(":0") for cursor in cursors)


@pytest.mark.parametrize(
    ("entity", "attribute", "path"),
    [
        (Entity.SECTION, "school_id", "/v3.0/schools/"),
        (Entity.SECTION, "term_ids", "/v3.0/terms/"),
        (Entity.STUDENT, "school_id", "/v3.0/schools/"),
        (Entity.ENROLLMENT, "person_id", "/v3.0/users/"),
        (Entity.ENROLLMENT, "section_id", "/v3.0/sections/"),
        (Entity.GUARDIAN, "student_ids", "/v3.0/users/"),
        (Entity.STUDENT, "guardian_ids", "/v3.0/users/"),
    ],
)
async def test_filters_clever_can_scope_use_its_sub_resources(
    district: Path, entity: Entity, attribute: str, path: str
) -> None:
    app, state = simulator(district)
    # Without guardian_ids (unless filtered on), whose join reads contacts besides.
    fields = _fields(entity) - ({"guardian_ids"} - {attribute})
    async with clever_adapter(app, max_lookups=0) as adapter:
        everything = await fetch_all(adapter, FetchRequest(entity=entity, fields=fields))
    values: Counter[str] = Counter()
    for row in everything:
        held = getattr(row, attribute)
        values.update(held if isinstance(held, tuple) else (held,))
    chosen = tuple(value for value, _ in values.most_common(3))
    expected = [row for row in everything if matches(row, {attribute: chosen})]
    async with clever_adapter(app) as adapter:
        before = len(state.paths)
        found = await fetch_all(
            adapter, FetchRequest(entity=entity, fields=fields, filters={attribute: chosen})
        )
        sent = state.paths[before:]
    assert expected and _by_id(found) == _by_id(expected)
    joins = [p for p in sent if attribute == "guardian_ids" and p.endswith("/mycontacts")]
    scoped = [p for p in sent if p.startswith(path) and p.count("/") >= 3 and p not in joins]
    assert scoped and len(scoped) <= 3  # one read per value
    assert scoped + joins == sent
    assert len(found) == len(_by_id(found))


async def test_guardians_of_many_students_cost_one_read_of_the_contacts(district: Path) -> None:
    app, state = simulator(district)
    async with clever_adapter(app, page_size=20) as adapter:
        before = len(state.paths)
        students = await fetch_all(
            adapter, FetchRequest(entity=Entity.STUDENT, fields=frozenset({"guardian_ids"}))
        )
        sent = Counter(state.paths[before:])
        guardians = await fetch_all(
            adapter, FetchRequest(entity=Entity.GUARDIAN, fields=frozenset({"student_ids"}))
        )
    # 60 students in pages of 20: three pages, and the contact list read once (pages of 20 too).
    assert sent["/v3.0/users"] == 3 + -(-len(guardians) // 20)
    assert not [p for p in sent if "mycontacts" in p]
    expected: dict[str, set[str]] = {}
    for guardian in guardians:
        assert isinstance(guardian, Guardian)
        for student_id in guardian.student_ids:
            expected.setdefault(student_id, set()).add(guardian.vendor_id)
    for student in students:
        assert isinstance(student, Student)
        assert set(student.guardian_ids) == expected.get(student.vendor_id, set())
        assert len(student.guardian_ids) == len(set(student.guardian_ids))


async def test_a_role_filter_reads_only_the_lists_that_can_hold_it(district: Path) -> None:
    app, state = simulator(district)
    async with clever_adapter(app) as adapter:
        before = len(state.queries)
        admins = await fetch_all(
            adapter,
            FetchRequest(
                entity=Entity.TEACHER,
                fields=frozenset({"role"}),
                filters={"role": ("districtAdministrator",)},
            ),
        )
        roles = [q.get("role") for q in state.queries[before:]]
        schools = await fetch_all(
            adapter,
            FetchRequest(
                entity=Entity.ORGANIZATION, fields=frozenset({"type"}), filters={"type": ("school",)}
            ),
        )
    assert {getattr(row, "role", None) for row in admins} == {"districtAdministrator"} and len(admins) == 2
    assert roles == ["district_admin", "staff"]  # never the teachers
    assert {getattr(row, "type", None) for row in schools} == {"school"}
    assert "/v3.0/districts" not in state.paths[-1:]


async def test_staff_keep_their_role_and_schools(district: Path) -> None:
    app, _ = simulator(district)
    async with clever_adapter(app) as adapter:
        staff = await fetch_all(adapter, FetchRequest(entity=Entity.TEACHER, fields=_fields(Entity.TEACHER)))
    roles = Counter(row.role for row in staff if isinstance(row, Teacher))
    assert set(roles) == {"teacher", "districtAdministrator", "principal", "counselor"}
    principal = next(row for row in staff if isinstance(row, Teacher) and row.role == "principal")
    assert principal.school_ids and principal.identifier and principal.identifier.startswith("stf-")


async def test_sections_and_their_enrollments_agree(district: Path) -> None:
    app, _ = simulator(district)
    async with clever_adapter(app) as adapter:
        sections = await fetch_all(
            adapter, FetchRequest(entity=Entity.SECTION, fields=_fields(Entity.SECTION))
        )
        enrollments = await fetch_all(
            adapter, FetchRequest(entity=Entity.ENROLLMENT, fields=_fields(Entity.ENROLLMENT))
        )
    school_of = {row.vendor_id: row.school_id for row in sections if isinstance(row, Section)}
    for row in enrollments:
        assert isinstance(row, Enrollment)
        assert row.section_id in school_of and row.school_id == school_of[row.section_id]
        assert row.vendor_id == f"{row.section_id}:{row.role}:{row.person_id}"
        assert (row.role == "teacher") == (row.primary is not None)


async def test_requests_it_cannot_answer_are_refused(district: Path) -> None:
    app, _ = simulator(district)
    async with clever_adapter(app) as adapter:
        for request in (
            FetchRequest(entity=Entity.SCORE, fields=frozenset()),
            FetchRequest(entity=Entity.TEACHER, fields=frozenset({"phone"})),
            FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters={"email": ("x",)}),
            FetchRequest(entity=Entity.STUDENT, fields=frozenset(), cursor="not-ours"),
            FetchRequest(entity=Entity.STUDENT, fields=frozenset(), cursor="7::0"),
            FetchRequest(entity=Entity.STUDENT, fields=frozenset(), limit=-1),
        ):
            with pytest.raises(UnsupportedRequest):
                await adapter.fetch(request)
        empty = await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset(), ids=()))
    assert list(empty.records) == [] and empty.total == 0


async def test_the_simulators_rate_limit_is_waited_out_not_failed(district: Path) -> None:
    app, state = simulator(district, rate_limit=3, rate_window=1.0)
    async with clever_adapter(app, page_size=20, total_timeout=10) as adapter:
        students = await fetch_all(
            adapter, FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}))
        )
    assert len(students) == 60 and state.throttled >= 1
