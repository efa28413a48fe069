"""The adapter against the simulator in process: the SDK contract for every
declared entity, field and filter, push-down, paging, auth and failures."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest

from adapters.google_classroom import CAPABILITIES, GoogleClassroomAdapter
from adapters.google_classroom.simulator import SimulatorConfig
from hub.model.entities import RECORD_TYPES
from hub.sdk import (
    Entity,
    FetchRequest,
    Record,
    SourceAuthFailed,
    UnsupportedRequest,
    data_fields,
    filter_value,
    matches,
)

from .conftest import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    SIM_BASE,
    TOKEN_ENV,
    classroom,
    classroom_config,
    fetch_all,
    simulator,
)

ENTITIES = sorted(CAPABILITIES.entities, key=str)


def declared(entity: Entity) -> frozenset[str]:
    return CAPABILITIES.entities[entity].fields


def _default(record_type: type[Record], name: str) -> object:
    spec = next(f for f in dataclasses.fields(record_type) if f.name == name)
    return spec.default


@pytest.fixture(scope="module")
def everything(district: Path) -> dict[Entity, list[Record]]:
    """Every record of every served entity, all declared fields, read once."""

    async def read() -> dict[Entity, list[Record]]:
        app, _ = simulator(district)
        async with classroom(app) as adapter:
            return {e: await fetch_all(adapter, FetchRequest(entity=e, fields=declared(e))) for e in ENTITIES}

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_ENV, str(SimulatorConfig().token))
        return asyncio.run(read())


@pytest.mark.parametrize("entity", ENTITIES, ids=str)
def test_every_declared_field_is_filled_somewhere(
    entity: Entity, everything: dict[Entity, list[Record]]
) -> None:
    rows = everything[entity]
    assert rows, f"no {entity} at all"
    record_type = RECORD_TYPES[entity]
    empty = [
        name
        for name in declared(entity)
        if all(getattr(row, name) == _default(record_type, name) for row in rows)
    ]
    assert not empty, f"{entity}: declared but never filled: {empty}"
    assert len({row.vendor_id for row in rows}) == len(rows), "vendor ids repeat"


@pytest.mark.parametrize("entity", ENTITIES, ids=str)
async def test_only_the_fields_asked_for_are_filled(entity: Entity, district: Path) -> None:
    record_type = RECORD_TYPES[entity]
    app, _ = simulator(district)
    asked = sorted(declared(entity))[:1]
    async with classroom(app) as adapter:
        result = await adapter.fetch(FetchRequest(entity=entity, fields=frozenset(asked), limit=20))
    assert result.records
    for row in result.records:
        assert isinstance(row, record_type)
        for name in data_fields(record_type):
            if name not in asked:
                assert getattr(row, name) == _default(record_type, name), f"{entity}.{name} leaked"


@pytest.mark.parametrize("entity", ENTITIES, ids=str)
async def test_look_ups_by_id_return_exactly_those_records(
    entity: Entity, district: Path, everything: dict[Entity, list[Record]]
) -> None:
    rows = everything[entity]
    wanted = (
        rows[0].vendor_id,
        rows[len(rows) // 2].vendor_id,
        rows[-1].vendor_id,
        "../../v1/courses",
        "nope",
    )
    app, _ = simulator(district)
    async with classroom(app) as adapter:
        result = await adapter.fetch(FetchRequest(entity=entity, fields=declared(entity), ids=wanted))
    assert sorted(r.vendor_id for r in result.records) == sorted(set(wanted[:3]))
    by_id = {r.vendor_id: r for r in rows}
    assert all(r == by_id[r.vendor_id] for r in result.records)


def _filter_cases(everything: dict[Entity, list[Record]]) -> list[tuple[Entity, str, tuple[str, ...]]]:
    cases = []
    for entity in ENTITIES:
        rows = everything[entity]
        for name in sorted(CAPABILITIES.entities[entity].filters - {"search"}):
            values: list[str] = []
            for row in rows[:: max(1, len(rows) // 7)]:
                value = getattr(row, name)
                items = value if isinstance(value, tuple) else (value,)
                values.extend(filter_value(item) for item in items if item is not None)
            few = tuple(dict.fromkeys(values))[:2]
            many = tuple(dict.fromkeys(values))[:7]
            cases += [(entity, name, few), (entity, name, many)]
    return cases


async def test_every_declared_filter_means_what_the_sdk_says(
    district: Path, everything: dict[Entity, list[Record]]
) -> None:
    app, _ = simulator(district)
    async with classroom(app) as adapter:
        for entity, name, values in _filter_cases(everything):
            assert values, f"no values to filter {entity}.{name} with"
            filters = {name: values}
            expected = [r.vendor_id for r in everything[entity] if matches(r, filters)]
            got = await fetch_all(
                adapter, FetchRequest(entity=entity, fields=declared(entity), filters=filters)
            )
            assert sorted(r.vendor_id for r in got) == sorted(expected), (entity, name, values)
            assert expected


async def test_search_finds_people_by_every_word_of_their_names(
    district: Path, everything: dict[Entity, list[Record]]
) -> None:
    student = everything[Entity.STUDENT][5]
    term = f"{getattr(student, 'family_name', '').upper()} {getattr(student, 'given_name', '')[:2]}"
    app, _ = simulator(district)
    async with classroom(app) as adapter:
        found = await adapter.fetch(
            FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters={"search": (term,)})
        )
    assert student.vendor_id in {r.vendor_id for r in found.records}
    assert len(found.records) < 5


async def test_cursors_page_through_every_record_once(
    district: Path, everything: dict[Entity, list[Record]]
) -> None:
    app, _ = simulator(district)
    async with classroom(app) as adapter:
        first = await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset(), limit=50))
        rows = await fetch_all(adapter, FetchRequest(entity=Entity.STUDENT, fields=frozenset(), limit=50))
        with pytest.raises(UnsupportedRequest, match="cursor"):
            await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset(), cursor="x1"))
    assert first.total == 120 and first.next_cursor == "50" and len(first.records) == 50
    assert [r.vendor_id for r in rows] == [r.vendor_id for r in everything[Entity.STUDENT]]


async def test_unsupported_questions_are_refused_by_name(district: Path) -> None:
    app, _ = simulator(district)
    async with classroom(app) as adapter:
        for request, message in (
            (FetchRequest(entity=Entity.ORGANIZATION, fields=frozenset()), "not served"),
            (FetchRequest(entity=Entity.STUDENT, fields=frozenset({"grade_level"})), "grade_level"),
            (
                FetchRequest(entity=Entity.SECTION, fields=frozenset(), filters={"school_id": ("x",)}),
                "school_id",
            ),
            (FetchRequest(entity=Entity.STUDENT, fields=frozenset(), limit=-1), "limit"),
        ):
            with pytest.raises(UnsupportedRequest, match=message):
                await adapter.fetch(request)
        empty = await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset(), ids=()))
    assert empty.records == [] and empty.total == 0


# -- push-down: what it costs ---------------------------------------------------------


def _queries(
    paths: list[str], queries: list[list[tuple[str, str]]], fragment: str
) -> list[dict[str, list[str]]]:
    found = []
    for path, query in zip(paths, queries, strict=True):
        if fragment in path:
            grouped: dict[str, list[str]] = {}
            for key, value in query:
                grouped.setdefault(key, []).append(value)
            found.append(grouped)
    return found


async def test_one_students_scores_read_only_their_courses_with_user_id(
    district: Path, everything: dict[Entity, list[Record]]
) -> None:
    student = everything[Entity.STUDENT][0].vendor_id
    app, state = simulator(district)
    async with classroom(app) as adapter:
        before = state.data_requests
        rows = await fetch_all(
            adapter,
            FetchRequest(
                entity=Entity.SCORE, fields=frozenset({"score"}), filters={"student_id": (student,)}
            ),
        )
        spent = state.data_requests - before
    expected = [r.vendor_id for r in everything[Entity.SCORE] if r.student_id == student]
    assert sorted(r.vendor_id for r in rows) == sorted(expected) and expected
    courses = {r.section_id for r in everything[Entity.SCORE] if r.student_id == student}
    # One course look-up by student, then one submissions list per course of theirs.
    assert spent <= 1 + 2 * len(courses) < len(everything[Entity.SECTION])
    lists = _queries(state.paths, state.queries, "/studentSubmissions")
    assert lists and all(q.get("userId") == [student] for q in lists)
    assert any(q.get("studentId") == [student] for q in _queries(state.paths, state.queries, "/v1/courses"))


async def test_section_filters_read_only_those_courses(
    district: Path, everything: dict[Entity, list[Record]]
) -> None:
    sections = tuple(r.vendor_id for r in everything[Entity.SECTION][:2])
    app, state = simulator(district)
    async with classroom(app) as adapter:
        await adapter.fetch(
            FetchRequest(
                entity=Entity.ASSIGNMENT, fields=frozenset({"title"}), filters={"section_id": sections}
            )
        )
    read = {path.split("/")[3] for path in state.paths if path.endswith("/courseWork")}
    assert read == set(sections)


async def test_only_the_vendor_fields_behind_the_asked_attributes_are_requested(district: Path) -> None:
    app, state = simulator(district)
    async with classroom(app) as adapter:
        await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), limit=3))
    masks = {q["fields"][0] for q in _queries(state.paths, state.queries, "/students")}
    assert masks == {"students(profile(name(givenName)),userId),nextPageToken"}


async def test_guardians_are_read_in_one_domain_wide_listing(district: Path) -> None:
    app, state = simulator(district, max_page_size=40)
    async with classroom(app) as adapter:
        before = state.data_requests
        rows = await fetch_all(
            adapter, FetchRequest(entity=Entity.GUARDIAN, fields=frozenset({"student_ids"}))
        )
    assert len(rows) > 100
    assert state.data_requests - before == sum("/userProfiles/-/guardians" in p for p in state.paths) > 1


async def test_the_scan_bound_stops_a_question_that_reads_too_much(district: Path) -> None:
    app, _ = simulator(district)
    async with classroom(app, max_scan_records=500) as adapter:
        with pytest.raises(UnsupportedRequest, match="max_scan_records"):
            await adapter.fetch(FetchRequest(entity=Entity.SCORE, fields=frozenset()))


# -- auth ---------------------------------------------------------------------------------


async def test_a_wrong_token_is_an_auth_failure_with_a_hint(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    app, _ = simulator(district)
    with pytest.raises(SourceAuthFailed) as caught:
        async with classroom(app):
            pass
    assert f"check {TOKEN_ENV}" in caught.value.reason and "UNAUTHENTICATED" in caught.value.reason
    assert "not-the-token" not in str(caught.value)


async def test_a_token_file_is_read_again_when_it_changes(district: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("stale-token\n", encoding="utf-8")
    app, _ = simulator(district, token="fresh-token")
    config = classroom_config(token_env=None, token_file=str(token_file))
    adapter = GoogleClassroomAdapter(config, transport=httpx.ASGITransport(app=app))
    try:
        with pytest.raises(SourceAuthFailed):
            await adapter.open()
        token_file.write_text("fresh-token\n", encoding="utf-8")
        await adapter.open()
        result = await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset(), limit=1))
    finally:
        await adapter.aclose()
    assert result.records


async def test_oauth2_client_credentials_against_the_simulators_token_endpoint(district: Path) -> None:
    app, state = simulator(district, token=None)
    async with classroom(
        app,
        token_env=None,
        token_url=f"{SIM_BASE}/token",
        client_id_env=CLIENT_ID_ENV,
        client_secret_env=CLIENT_SECRET_ENV,
    ) as adapter:
        result = await adapter.fetch(
            FetchRequest(entity=Entity.SECTION, fields=frozenset({"title"}), limit=2)
        )
    assert len(result.records) == 2 and state._tokens
