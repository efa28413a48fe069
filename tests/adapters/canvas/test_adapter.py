"""The canvas adapter against the simulator (in process): the district's records,
field by field, with filters, look-ups by id, paging, projection and bulk reads."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from adapters.canvas import CAPABILITIES, CanvasAdapter
from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.model import of_type
from hub.sdk import (
    Assignment,
    BadVendorData,
    Enrollment,
    Entity,
    FetchRequest,
    Record,
    SourceAuthFailed,
    UnsupportedRequest,
    matches,
)

from .conftest import canvas_adapter, canvas_config, every_field, fetch_all, simulator
from .truth import Translate, expected_from_csv, key_of

SERVED = list(CAPABILITIES.entities)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def everything(district: Path) -> dict[Entity, list[Record]]:
    """Every record of every entity, read once (without paging)."""
    app, _ = simulator(district)
    found: dict[Entity, list[Record]] = {}
    async with canvas_adapter(app) as adapter:
        for entity in SERVED:
            found[entity] = list(
                (await adapter.fetch(FetchRequest(entity, every_field(entity, adapter)))).records
            )
    return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def csv_records(district: Path) -> AsyncIterator[dict[Entity, list[Record]]]:
    adapter = OneRosterCsvAdapter(OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=district))
    await adapter.open()
    yield {
        entity: list((await adapter.fetch(FetchRequest(entity, every_field(entity)))).records)
        for entity in SERVED
    }
    await adapter.aclose()


@pytest.mark.parametrize("entity", SERVED, ids=[e.value for e in SERVED])
async def test_every_entity_shows_the_district_field_by_field(
    district: Path,
    entity: Entity,
    everything: dict[Entity, list[Record]],
    csv_records: dict[Entity, list[Record]],
) -> None:
    _, state = simulator(district)
    translate = Translate(state.district)
    got = {key_of(r): r for r in map(translate.record, everything[entity])}
    assert len(got) == len(everything[entity]), "vendor ids must be unique"
    expected = {key_of(r): r for r in map(expected_from_csv, csv_records[entity])}
    if entity is Entity.ACADEMIC_SESSION:
        # Canvas terms: the school year and semesters, and Canvas's default term.
        assert {r.vendor_id for r in got.values()} == {None, "sy2027", "sy2027-fall", "sy2027-spring"}
        return
    if entity in (Entity.TEACHER, Entity.GUARDIAN):
        # Canvas knows the people with enrollments: teachers, and observers of enrolled students.
        expected = {key: r for key, r in expected.items() if key in got}
        assert len(got) == len(expected) >= 10
    assert got == expected
    assert len(got) > 0


async def test_paging_gives_the_same_records_as_one_read(
    district: Path, everything: dict[Entity, list[Record]]
) -> None:
    app, _ = simulator(district)
    async with canvas_adapter(app, per_page=20) as adapter:
        for entity in SERVED:
            fields = every_field(entity, adapter) - {"guardian_ids", "student_ids"}
            paged: list[Record] = []
            cursor = None
            while len(paged) < 150:  # several pages, and in every walk more than one collection
                result = await adapter.fetch(FetchRequest(entity, fields, limit=37, cursor=cursor))
                paged.extend(result.records)
                cursor = result.next_cursor
                if cursor is None:
                    break
            whole = [without_links(r) for r in everything[entity]]
            assert [without_links(r) for r in paged] == whole[: len(paged)], entity
            assert len(paged) == min(len(whole), 37 * 5) or cursor is None


def without_links(record: Record) -> Record:
    """``record`` without its links to other people (not asked for when paging)."""
    copy = dataclasses.replace(record)
    for name in ("guardian_ids", "student_ids"):
        if hasattr(copy, name):
            setattr(copy, name, ())
    return copy


async def test_a_cursor_resumes_at_the_record_without_reading_from_the_start(district: Path) -> None:
    app, state = simulator(district)
    async with canvas_adapter(app) as adapter:
        fields = frozenset({"score"})
        start = state.requests
        first = await adapter.fetch(FetchRequest(Entity.SCORE, fields, limit=150))
        from_start = state.requests - start
        before = state.requests
        second = await adapter.fetch(FetchRequest(Entity.SCORE, fields, limit=5, cursor=first.next_cursor))
        resumed = state.requests - before
        whole = await adapter.fetch(FetchRequest(Entity.SCORE, fields, limit=155))
    assert [r.vendor_id for r in [*first.records, *second.records]] == [r.vendor_id for r in whole.records]
    # The pages the cursor names (courses, sections, submissions), and at most
    # the next section's: never the pages before.
    assert resumed <= 5 < from_start
    assert first.next_cursor is not None and first.next_cursor.startswith("w")


FILTERS: list[tuple[Entity, str, int]] = [
    (Entity.SECTION, "course_id", 3),
    (Entity.SECTION, "term_ids", 1),
    (Entity.ENROLLMENT, "section_id", 3),
    (Entity.ENROLLMENT, "person_id", 4),
    (Entity.ENROLLMENT, "role", 1),
    (Entity.ASSIGNMENT, "section_id", 4),
    (Entity.SCORE, "section_id", 2),
    (Entity.SCORE, "student_id", 5),
    (Entity.SCORE, "assignment_id", 6),
    (Entity.COURSE_GRADE, "section_id", 3),
    (Entity.COURSE_GRADE, "student_id", 5),
    (Entity.GUARDIAN, "student_ids", 5),
    (Entity.TEACHER, "role", 1),
]


@pytest.mark.parametrize(("entity", "name", "count"), FILTERS, ids=[f"{e.value}.{n}" for e, n, _ in FILTERS])
async def test_filters_give_what_the_full_list_filtered_gives(
    district: Path, everything: dict[Entity, list[Record]], entity: Entity, name: str, count: int
) -> None:
    rows = everything[entity]
    values: list[str] = []
    for row in rows:
        value = getattr(row, name)
        for item in value if isinstance(value, tuple) else (value,):
            if item is not None and str(item) not in values:
                values.append(str(item))
    chosen = tuple(values[:: max(1, len(values) // count)][:count])
    filters = {name: chosen}
    app, _ = simulator(district)
    async with canvas_adapter(app) as adapter:
        got = await adapter.fetch(FetchRequest(entity, every_field(entity, adapter), filters=filters))
        paged = await fetch_all(
            adapter, FetchRequest(entity, every_field(entity, adapter), filters=filters, limit=9)
        )
    # Canvas answers by parent (section, person...): the same records, in another order.
    expected = sorted((r for r in rows if matches(r, filters)), key=by_id)
    assert expected and sorted(got.records, key=by_id) == expected
    assert sorted(paged, key=by_id) == expected


def by_id(record: Record) -> str:
    return record.vendor_id


LOOKUPS = [e for e in SERVED if e is not Entity.ACADEMIC_SESSION]


@pytest.mark.parametrize("many", [False, True], ids=["one-by-one", "by-list"])
@pytest.mark.parametrize("entity", LOOKUPS, ids=[e.value for e in LOOKUPS])
async def test_look_ups_by_id(
    district: Path, everything: dict[Entity, list[Record]], entity: Entity, many: bool
) -> None:
    rows = everything[entity]
    chosen = rows[1 :: max(1, len(rows) // 6)][:6]
    ids = (*(r.vendor_id for r in chosen), "404404", "not-an-id", "1.2.3.4")
    app, _ = simulator(district)
    async with canvas_adapter(app, id_lookup_max=2 if many else 20) as adapter:
        got = await adapter.fetch(FetchRequest(entity, every_field(entity, adapter), ids=ids))
        page = await adapter.fetch(FetchRequest(entity, every_field(entity, adapter), ids=ids, limit=4))
        rest = await adapter.fetch(
            FetchRequest(entity, every_field(entity, adapter), ids=ids, limit=4, cursor=page.next_cursor)
        )
    assert sorted(r.vendor_id for r in got.records) == sorted(r.vendor_id for r in chosen)
    assert sorted(got.records, key=lambda r: r.vendor_id) == sorted(chosen, key=lambda r: r.vendor_id)
    assert [r.vendor_id for r in [*page.records, *rest.records]] == [r.vendor_id for r in got.records]


async def test_scores_of_many_students_are_read_per_section_not_per_student(district: Path) -> None:
    app, state = simulator(district)
    async with canvas_adapter(app) as adapter:
        students = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset()))
        ids = tuple(r.vendor_id for r in students.records)
        before = len(state.paths)
        scores = await adapter.fetch(
            FetchRequest(Entity.SCORE, frozenset({"score"}), filters={"student_id": ids})
        )
    kinds = Counter(_kind(path) for path in state.paths[before:])
    sections = {r.vendor_id.split(".")[0] for r in scores.records}
    assert len(scores.records) == sum(len(v) for v in state.district.section_submissions.values())
    # One enrollment list per student (Canvas has no cross-course submissions list),
    # then one bulk submissions read per section, for all of its students at once.
    assert kinds == {"user enrollments": len(ids), "section submissions": len(sections)}
    assert all(("student_ids[]", "all") not in q for q in state.queries[before:] if "submissions" in str(q))


async def test_assignments_come_with_their_group_names_in_one_list(district: Path) -> None:
    app, state = simulator(district)
    async with canvas_adapter(app) as adapter:
        before = len(state.paths)
        assignments = await adapter.fetch(
            FetchRequest(Entity.ASSIGNMENT, every_field(Entity.ASSIGNMENT, adapter))
        )
    read = Counter(path.removeprefix("/api/v1/").split("/", 2)[-1] for path in state.paths[before:])
    queries = [
        q for path, q in zip(state.paths[before:], state.queries[before:], strict=True) if "groups" in path
    ]
    # The course list, each course's sections, and for each section its course's
    # groups with their assignments: no assignments list, no groups list of its own.
    assert read == {
        "courses": 1,
        "sections": len(state.district.courses),
        "assignment_groups": len(state.district.sections),
    }
    assert all({("include[]", "assignments"), ("include[]", "overrides")} <= set(q) for q in queries)
    assert assignments.records and all(isinstance(r, Assignment) and r.category for r in assignments.records)


def _kind(path: str) -> str:
    parts = path.removeprefix("/api/v1/").split("/")
    return {"users": "user enrollments", "sections": "section submissions"}.get(parts[0], path)


async def test_people_by_id_are_read_per_course_they_were_seen_in(district: Path) -> None:
    app, state = simulator(district)
    async with canvas_adapter(app) as adapter:
        sections = await adapter.fetch(FetchRequest(Entity.SECTION, frozenset(), limit=6))
        enrollments = await adapter.fetch(
            FetchRequest(
                Entity.ENROLLMENT,
                frozenset({"person_id", "role"}),
                filters={"section_id": tuple(r.vendor_id for r in sections.records)},
            )
        )
        ids = tuple(
            {str(r.person_id) for r in of_type(enrollments.records, Enrollment) if r.role == "student"}
        )
        before = len(state.paths)
        students = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset({"given_name"}), ids=ids))
    paths = state.paths[before:]
    assert {r.vendor_id for r in students.records} == set(ids)
    assert all(path.endswith("/users") and path.startswith("/api/v1/courses/") for path in paths)
    assert len(paths) <= 6


async def test_a_teacher_looked_up_as_a_student_is_not_one(
    district: Path, everything: dict[Entity, list[Record]]
) -> None:
    teacher = everything[Entity.TEACHER][0].vendor_id
    student = everything[Entity.STUDENT][0].vendor_id
    app, _ = simulator(district)
    async with canvas_adapter(app) as adapter:
        got = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset(), ids=(teacher, student)))
        staff = await adapter.fetch(FetchRequest(Entity.TEACHER, frozenset({"role"}), ids=(teacher, student)))
    assert [r.vendor_id for r in got.records] == [student]
    assert [(r.vendor_id, getattr(r, "role", None)) for r in staff.records] == [(teacher, "teacher")]


async def test_only_the_fields_asked_for_are_filled(district: Path) -> None:
    app, state = simulator(district)
    async with canvas_adapter(app) as adapter:
        result = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset({"given_name"}), limit=3))
        scores = await adapter.fetch(FetchRequest(Entity.SCORE, frozenset({"score"}), limit=3))
    blank = {
        f.name: getattr(type(r)(vendor_id="x"), f.name) for r in result.records for f in dataclasses.fields(r)
    }
    for record in [*result.records, *scores.records]:
        filled = {f.name for f in dataclasses.fields(record) if getattr(record, f.name) != blank.get(f.name)}
        assert filled <= {"vendor_id", "given_name", "score"}
    # No comment asked for: the comments are not asked of Canvas either.
    assert all(("include[]", "submission_comments") not in q for q in state.queries)
    assert all(("per_page", "100") in q for q in state.queries if "/users" in str(q) or "courses" in str(q))


async def test_per_page_is_sent_and_honoured(district: Path) -> None:
    app, state = simulator(district)
    async with canvas_adapter(app, per_page=30) as adapter:
        rows = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset({"identifier"})))
    assert len(rows.records) == 120
    assert [dict(q).get("page") for q in state.queries[1:]] == [None, "2", "3", "4"]
    assert all(("per_page", "30") in q for q in state.queries[1:])


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (FetchRequest(Entity.ORGANIZATION, frozenset()), "not served"),
        (FetchRequest(Entity.ATTENDANCE_EVENT, frozenset()), "not served"),
        (FetchRequest(Entity.STUDENT, frozenset({"birth_date"})), "fields not served: birth_date"),
        (
            FetchRequest(Entity.STUDENT, frozenset(), filters={"school_id": ("1",)}),
            "cannot be filtered by school_id",
        ),
        (FetchRequest(Entity.STUDENT, frozenset(), cursor="bogus"), "cursor"),
        (FetchRequest(Entity.STUDENT, frozenset(), cursor="w!!!", limit=2), "cursor"),
        (FetchRequest(Entity.STUDENT, frozenset(), limit=-1), "limit"),
    ],
)
async def test_requests_it_cannot_answer_are_refused_by_name(
    district: Path, request_: FetchRequest, message: str
) -> None:
    app, _ = simulator(district)
    async with canvas_adapter(app) as adapter:
        with pytest.raises(UnsupportedRequest) as caught:
            await adapter.fetch(request_)
    assert message in caught.value.reason


async def test_a_wrong_token_is_refused_with_the_variable_to_check(district: Path) -> None:
    app, state = simulator(district)
    state.change_token("another-token")
    adapter = CanvasAdapter(canvas_config(), transport=httpx.ASGITransport(app=app))
    with pytest.raises(SourceAuthFailed) as caught:
        await adapter.open()
    await adapter.aclose()
    assert "check HOMEROOM_TEST_CANVAS_TOKEN" in str(caught.value)
    assert "Invalid access token" in str(caught.value)
    assert "homeroom-canvas-sim" not in str(caught.value)


async def test_an_unknown_account_says_which_key_to_check(district: Path) -> None:
    app, _ = simulator(district)
    adapter = CanvasAdapter(canvas_config(account_id="42"), transport=httpx.ASGITransport(app=app))
    with pytest.raises(BadVendorData, match="check account_id"):
        await adapter.open()
    await adapter.aclose()


async def test_term_id_limits_the_courses_served(district: Path) -> None:
    app, _ = simulator(district)
    async with canvas_adapter(app, term_id="sis_term_id:sy2027") as adapter:
        year = await adapter.fetch(FetchRequest(Entity.COURSE, frozenset()))
        sections = await adapter.fetch(FetchRequest(Entity.SECTION, frozenset({"term_ids"}), limit=5))
    async with canvas_adapter(app, term_id="sis_term_id:sy2027-fall") as adapter:
        fall = await adapter.fetch(FetchRequest(Entity.COURSE, frozenset()))
        one = await adapter.fetch(
            FetchRequest(Entity.SECTION, frozenset(), ids=(sections.records[0].vendor_id,))
        )
    assert len(year.records) == 85 and all(r.term_ids == ("101",) for r in sections.records)  # type: ignore[attr-defined]
    assert fall.records == [] and one.records == []
    adapter = CanvasAdapter(canvas_config(term_id="sis_term_id:nope"), transport=httpx.ASGITransport(app=app))
    with pytest.raises(BadVendorData, match="check term_id"):
        await adapter.open()
    await adapter.aclose()


async def test_a_page_of_nothing_resumes_at_the_start(district: Path) -> None:
    app, _ = simulator(district)
    async with canvas_adapter(app) as adapter:
        empty = await adapter.fetch(FetchRequest(Entity.SCORE, frozenset({"score"}), limit=0))
        after = await adapter.fetch(
            FetchRequest(Entity.SCORE, frozenset({"score"}), limit=3, cursor=empty.next_cursor)
        )
        first = await adapter.fetch(FetchRequest(Entity.SCORE, frozenset({"score"}), limit=3))
    assert empty.records == [] and empty.next_cursor is not None
    assert after.records == first.records
