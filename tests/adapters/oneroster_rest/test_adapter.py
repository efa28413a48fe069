"""The oneroster-rest adapter against the simulator (in process): the same records
as the CSV adapter for the same district, with push-down, paging and fallbacks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from adapters.oneroster_rest._filter import Predicate, parse_filter
from hub.sdk import (
    Entity,
    FetchRequest,
    Guardian,
    Record,
    SourceAuthFailed,
    Student,
    UnsupportedRequest,
)

from .conftest import csv_adapter, every_field, fetch_all, rest_adapter, simulator

ENTITIES = list(Entity)


def comparable(record: Record) -> Record:
    # A guardian's students come in the order the provider lists them; the CSV
    # adapter lists them in file order. Same links, possibly another order.
    if isinstance(record, Guardian):
        return dataclasses.replace(record, student_ids=tuple(sorted(record.student_ids)))
    return record


@pytest.mark.parametrize("entity", ENTITIES, ids=[e.value for e in ENTITIES])
async def test_every_entity_matches_the_csv_adapter(district: Path, entity: Entity) -> None:
    app, _ = simulator(district)
    request = FetchRequest(entity, every_field(entity))
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        got = await rest.fetch(request)
        expected = await csv.fetch(request)
    assert [comparable(r) for r in got.records] == [comparable(r) for r in expected.records]
    assert got.total == expected.total
    assert got.next_cursor is None


async def test_only_the_fields_asked_for_are_filled_and_selected(district: Path) -> None:
    app, state = simulator(district)
    async with rest_adapter(app) as rest:
        result = await rest.fetch(FetchRequest(Entity.STUDENT, frozenset({"given_name"}), limit=3))
    assert [set(vars_of(r)) for r in result.records] == [{"vendor_id", "given_name"}] * 3
    assert state.queries[-1]["fields"] == "givenName,primaryOrg,roles,sourcedId,status"
    assert state.queries[-1]["limit"] == "3"


def vars_of(record: Record) -> dict[str, object]:
    blank = type(record)(vendor_id=record.vendor_id)
    return {
        f.name: getattr(record, f.name)
        for f in dataclasses.fields(record)
        if f.name == "vendor_id" or getattr(record, f.name) != getattr(blank, f.name)
    }


async def test_id_look_ups_are_pushed_down_in_or_chunks(district: Path) -> None:
    app, state = simulator(district)
    ids = ("stu-000003", "stu-000001", "stu-000002")
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        state.queries.clear()
        state.paths.clear()
        got = await rest.fetch(FetchRequest(Entity.STUDENT, every_field(Entity.STUDENT), ids=ids))
        expected = await csv.fetch(FetchRequest(Entity.STUDENT, every_field(Entity.STUDENT), ids=ids))
    student_filters = [
        query["filter"]
        for path, query in zip(state.paths, state.queries, strict=True)
        if path.endswith("/students")
    ]
    assert student_filters == [
        "sourcedId='stu-000003' OR sourcedId='stu-000001'",
        "sourcedId='stu-000002'",
    ]
    assert sorted(r.vendor_id for r in got.records) == sorted(ids)
    assert {r.vendor_id: r for r in got.records} == {r.vendor_id: r for r in expected.records}


async def test_a_long_id_list_reads_the_collection_instead_of_many_chunks(district: Path) -> None:
    app, state = simulator(district)
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        ids = tuple(r.vendor_id for r in (await csv.fetch(FetchRequest(Entity.STUDENT, frozenset()))).records)
        state.data_requests = 0
        got = await rest.fetch(FetchRequest(Entity.STUDENT, frozenset({"family_name"}), ids=ids))
    assert len(got.records) == len(ids) == 60
    # 30 chunks of two ids, or one size probe and one page of the whole collection.
    assert state.data_requests == 2


async def test_link_filters_are_pushed_down_and_reapplied(district: Path) -> None:
    app, state = simulator(district)
    fields = every_field(Entity.ENROLLMENT)
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        teacher = (
            await csv.fetch(FetchRequest(Entity.TEACHER, frozenset(), filters={"role": ("teacher",)}))
        ).records[0]
        request = FetchRequest(Entity.ENROLLMENT, fields, filters={"person_id": (teacher.vendor_id,)})
        got = await rest.fetch(request)
        expected = await csv.fetch(request)
        assert state.queries[-1]["filter"] == f"user.sourcedId='{teacher.vendor_id}'"
        sections = tuple(sorted({str(r.section_id) for r in got.records}))
        both = FetchRequest(Entity.ENROLLMENT, fields, filters={"section_id": sections, "role": ("student",)})
        got_students = await fetch_all(rest, both)
        expected_students = await fetch_all(csv, both)
    assert got.records == expected.records and got.records
    assert got_students == expected_students and got_students
    assert all(r.role == "student" for r in got_students)


async def test_attendance_date_ranges_are_pushed_down(district: Path) -> None:
    app, state = simulator(district)
    request = FetchRequest(
        Entity.ATTENDANCE_EVENT,
        every_field(Entity.ATTENDANCE_EVENT),
        filters={"date_from": ("2026-11-10",), "date_to": ("2026-11-12",)},
    )
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        got = await rest.fetch(request)
        expected = await csv.fetch(request)
    assert state.queries[-1]["filter"] == "date>='2026-11-10' AND date<='2026-11-12'"
    assert got.records == expected.records and got.records
    assert got.total == expected.total


@pytest.mark.parametrize("size", [1, 7, 100])
async def test_limit_and_cursor_page_through_the_same_records(district: Path, size: int) -> None:
    app, _ = simulator(district)
    fields = frozenset({"family_name"})
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        first = await rest.fetch(FetchRequest(Entity.STUDENT, fields, limit=size))
        got = await fetch_all(rest, FetchRequest(Entity.STUDENT, fields, limit=size))
        expected = (await csv.fetch(FetchRequest(Entity.STUDENT, fields))).records
        guardians = await fetch_all(rest, FetchRequest(Entity.GUARDIAN, frozenset(), limit=size))
        all_guardians = (await csv.fetch(FetchRequest(Entity.GUARDIAN, frozenset()))).records
    assert first.total == 60
    assert got == list(expected)
    assert [g.vendor_id for g in guardians] == [g.vendor_id for g in all_guardians]


@pytest.mark.parametrize(
    "hostile",
    ["x' OR sourcedId!='", "stu-000001' OR sourcedId='stu-000002", "') OR ('1'='1", "'", "a''b"],
)
async def test_hostile_values_cannot_widen_a_filter(district: Path, hostile: str) -> None:
    app, state = simulator(district)
    async with rest_adapter(app) as rest:
        by_id = await rest.fetch(FetchRequest(Entity.STUDENT, frozenset({"given_name"}), ids=(hostile,)))
        sent_ids = parse_filter(state.queries[-1]["filter"])
        by_link = await rest.fetch(
            FetchRequest(Entity.ENROLLMENT, frozenset({"role"}), filters={"person_id": (hostile,)})
        )
        sent_link = parse_filter(state.queries[-1]["filter"])
    assert by_id.records == [] and by_link.records == []
    assert sent_ids.predicates == (Predicate("sourcedId", "=", hostile),)
    assert sent_link.predicates == (Predicate("user.sourcedId", "=", hostile),)


async def test_a_provider_refusing_dotted_filters_is_read_whole_once_learned(district: Path) -> None:
    app, state = simulator(district, dotted_filters=False)
    request = FetchRequest(Entity.ASSIGNMENT, every_field(Entity.ASSIGNMENT), filters={"section_id": ("x",)})
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        section = (await csv.fetch(FetchRequest(Entity.SECTION, frozenset(), limit=1))).records[0].vendor_id
        request = dataclasses.replace(request, filters={"section_id": (section,)})
        state.queries.clear()
        got = await rest.fetch(request)
        refused_then_whole = [q.get("filter") for q in state.queries if "lineItems" not in str(q)]
        state.queries.clear()
        again = await rest.fetch(request)
        expected = await csv.fetch(request)
    assert got.records == expected.records == again.records and got.records
    assert refused_then_whole[0] == f"class.sourcedId='{section}'"
    assert all("class.sourcedId" not in str(q.get("filter")) for q in state.queries)


async def test_json_booleans_read_the_same(district: Path) -> None:
    app, _ = simulator(district, json_booleans=True)
    fields = every_field(Entity.STUDENT)
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        got = await rest.fetch(FetchRequest(Entity.STUDENT, fields))
        enrollments = await rest.fetch(FetchRequest(Entity.ENROLLMENT, every_field(Entity.ENROLLMENT)))
        expected = await csv.fetch(FetchRequest(Entity.STUDENT, fields))
        expected_enrollments = await csv.fetch(
            FetchRequest(Entity.ENROLLMENT, every_field(Entity.ENROLLMENT))
        )
    assert got.records == expected.records
    assert enrollments.records == expected_enrollments.records


async def test_a_revoked_token_is_renewed_without_failing(district: Path) -> None:
    app, state = simulator(district)
    async with rest_adapter(app) as rest:
        await rest.fetch(FetchRequest(Entity.ORGANIZATION, frozenset({"name"})))
        state.revoke_tokens()
        result = await rest.fetch(FetchRequest(Entity.ORGANIZATION, frozenset({"name"})))
    assert len(result.records) == 3
    assert state.tokens_issued == 2


async def test_wrong_credentials_fail_open_naming_what_to_check(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = simulator(district)
    monkeypatch.setenv("HOMEROOM_TEST_OR_CLIENT_SECRET", "wrong")
    with pytest.raises(SourceAuthFailed) as caught:
        async with rest_adapter(app):
            pass
    assert "invalid_client" in caught.value.reason
    assert "HOMEROOM_TEST_OR_CLIENT_SECRET" in caught.value.reason
    assert "wrong" not in str(caught.value)


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256"])
async def test_oauth1_signed_1_1_provider(
    district: Path, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, state = simulator(district, version="1.1", auth="oauth1", signature_method=method)
    settings = {
        "version": "1.1",
        "auth": "oauth1",
        "token_url": None,
        "oauth1_signature_method": method,
        "base_url": "http://127.0.0.1",  # authlib signs over plain http on loopback only
    }
    async with rest_adapter(app, **settings) as rest:
        result = await rest.fetch(FetchRequest(Entity.STUDENT, frozenset({"given_name"}), limit=5))
    assert len(result.records) == 5
    assert state.token_requests == 0
    monkeypatch.setenv("HOMEROOM_TEST_OR_CLIENT_SECRET", "wrong")
    with pytest.raises(SourceAuthFailed):
        async with rest_adapter(app, **settings):
            pass


UNCHANGED_IN_1_1 = [
    Entity.ORGANIZATION,
    Entity.ACADEMIC_SESSION,
    Entity.COURSE,
    Entity.SECTION,
    Entity.ENROLLMENT,
    Entity.ASSIGNMENT,
    Entity.COURSE_GRADE,
    Entity.ATTENDANCE_EVENT,
]


async def test_a_1_1_provider_serves_the_same_district(district: Path) -> None:
    app, _ = simulator(district, version="1.1")
    async with rest_adapter(app, version="1.1") as rest, csv_adapter(district) as csv:
        for entity in UNCHANGED_IN_1_1:
            request = FetchRequest(entity, every_field(entity))
            assert (await rest.fetch(request)).records == (await csv.fetch(request)).records, entity
        # 1.1 has no preferred names, no late/missing flags and one role per user.
        students = frozenset(every_field(Entity.STUDENT) - {"preferred_name"})
        request = FetchRequest(Entity.STUDENT, students)
        assert (await rest.fetch(request)).records == (await csv.fetch(request)).records
        scores = frozenset(every_field(Entity.SCORE) - {"late", "missing"})
        request = FetchRequest(Entity.SCORE, scores, filters={"section_id": ("cls-01-hr-kg-01",)})
        got = await rest.fetch(request)
        assert got.records == (await csv.fetch(request)).records and got.records
        teachers = await rest.fetch(FetchRequest(Entity.TEACHER, frozenset({"role"})))
        assert {t.role for t in teachers.records} <= {
            "teacher",
            "aide",
            "proctor",
            "administrator",
        }


async def test_requests_outside_the_capabilities_are_refused(district: Path) -> None:
    app, _ = simulator(district)
    async with rest_adapter(app) as rest:
        with pytest.raises(UnsupportedRequest, match="shoe_size"):
            await rest.fetch(FetchRequest(Entity.STUDENT, frozenset({"shoe_size"})))
        with pytest.raises(UnsupportedRequest, match="cannot be filtered by phone"):
            await rest.fetch(FetchRequest(Entity.STUDENT, frozenset(), filters={"phone": ("x",)}))
        with pytest.raises(UnsupportedRequest, match="cursor"):
            await rest.fetch(FetchRequest(Entity.STUDENT, frozenset(), cursor="x42"))
    async with rest_adapter(app, homeroom_extensions=False) as core:
        assert Entity.COURSE_GRADE not in core.capabilities().entities
        assert Student is not None


PEOPLE_FILTERS = [
    (Entity.STUDENT, {"search": ("an",)}),
    (Entity.STUDENT, {"search": ("WILSON theo",)}),
    (Entity.STUDENT, {"directory_opt_out": ("true",)}),
    (Entity.STUDENT, {"grade_level": ("01", "KG")}),
    (Entity.STUDENT, {"school_id": ("org-school-01",), "search": ("a",)}),
    (Entity.STUDENT, {"email": ("ethan.jensen@students.willowsprings.k12.us", "nobody@example.org")}),
    (Entity.TEACHER, {"search": ("e",)}),
    (Entity.TEACHER, {"role": ("teacher", "principal")}),
    (Entity.GUARDIAN, {"student_ids": ("stu-000006", "stu-000028")}),
]


@pytest.mark.parametrize(("entity", "filters"), PEOPLE_FILTERS)
async def test_people_filters_match_the_csv_adapter(
    district: Path, entity: Entity, filters: dict[str, tuple[str, ...]]
) -> None:
    app, _ = simulator(district)
    request = FetchRequest(entity, every_field(entity), filters=filters)
    async with rest_adapter(app) as rest, csv_adapter(district) as csv:
        got = await fetch_all(rest, request)
        expected = await fetch_all(csv, request)
        paged = await fetch_all(rest, dataclasses.replace(request, limit=4))
        first = await rest.fetch(dataclasses.replace(request, limit=4))
    assert first.total == len(expected)
    assert [comparable(r) for r in got] == [comparable(r) for r in expected]
    assert [r.vendor_id for r in paged] == [r.vendor_id for r in expected]
    if filters not in ({"directory_opt_out": ("true",)},):
        assert expected, "the case should select someone"


async def test_email_is_pushed_down(district: Path) -> None:
    app, state = simulator(district)
    async with rest_adapter(app) as rest:
        await rest.fetch(FetchRequest(Entity.GUARDIAN, frozenset(), filters={"email": ("x@example.org",)}))
    assert state.queries[-1]["filter"] == "email='x@example.org'"
