"""The caller's relations pushed down into the read (``FetchRequest.visible_if``):
a source that applies them never returns a row the caller cannot be related
to, and the answers are exactly those the hub gives without the push-down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.federation.access import DataAccess
from hub.model import Entity, Record
from hub.sdk import FetchRequest, FetchResult
from tests.support import RunningHub, make_district, running_hub

QUERIES = (
    '{ students(first: 7, filter: {search: "a"}) { pageInfo { hasNextPage endCursor } '
    "edges { node { id givenName } } } }",
    "{ viewer { students { edges { node { id givenName scores(first: 5) { edges { node { score } } } "
    "attendance { date status } courseGrades { letterGrade } } } } } }",
    "{ viewer { sections { edges { node { id title students { edges { node { id familyName } } } "
    "assignments(first: 3) { edges { node { title } } } } } } } }",
    "{ sections(first: 20) { totalCount edges { node { id title } } } }",
)
PERSONAS = ("teacher", "guardian", "student", "principal", "district_admin")


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("narrowing"), 120, seed=29)


@contextmanager
def _spy(running: RunningHub) -> Iterator[list[tuple[FetchRequest, list[Record]]]]:
    registry = running.hub.registry
    seen: list[tuple[FetchRequest, list[Record]]] = []
    original = registry.fetch

    async def fetch(source: str, request: FetchRequest) -> FetchResult:
        result = await original(source, request)
        seen.append((request, list(result.records)))
        return result

    registry.fetch = fetch  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        registry.fetch = original  # type: ignore[method-assign]


async def _answers(running: RunningHub, persona: str) -> list[str]:
    out = []
    for query in QUERIES:
        body = await running.query(query, persona=persona)
        out.append(json.dumps(body, sort_keys=True))
    return out


async def test_answers_are_the_same_with_and_without_the_push_down(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_hub(district) as running:
        narrowed = {persona: await _answers(running, persona) for persona in PERSONAS}

        async def nothing(self: DataAccess, source: str, entity: Entity) -> tuple[Any, ...]:
            return ()

        monkeypatch.setattr(DataAccess, "_narrowing", nothing)
        for persona in PERSONAS:
            assert await _answers(running, persona) == narrowed[persona], persona


async def test_a_teachers_directory_search_reads_no_hidden_student(district: Path) -> None:
    async with running_hub(district) as running:
        with _spy(running) as seen:
            body = await running.query(QUERIES[0], persona="teacher")
        assert "errors" not in body, body.get("errors")
        listed = [
            (request, rows)
            for request, rows in seen
            if request.entity is Entity.STUDENT and "search" in request.filters
        ]
        assert listed and all(request.visible_if for request, _ in listed)
        # Every student a search read is one the teacher teaches or one listed
        # in the directory: ask the hub which are visible, one by one.
        read = {row.vendor_id for _, rows in listed for row in rows}
        hidden = []
        for vendor_id in sorted(read):
            hub_id = running.hub.identity.hub_id(Entity.STUDENT, "sis", vendor_id)
            answer = await running.query(f'{{ student(id: "{hub_id}") {{ id }} }}', persona="teacher")
            if answer.get("data") is None or answer["data"].get("student") is None:
                hidden.append(vendor_id)
        assert hidden == []


async def test_an_attendance_date_range_is_asked_of_the_source(district: Path) -> None:
    query = (
        '{ viewer { students { edges { node { id attendance(from: "2026-11-10", to: "2026-11-14") '
        "{ date } } } } } }"
    )
    async with running_hub(district) as running:
        running.hub.registry.record_requests = True
        body = await running.query(query, persona="teacher")
        assert "errors" not in body, body.get("errors")
        asked = [r for _, r in running.hub.registry.requests if r.entity is Entity.ATTENDANCE_EVENT]
        assert asked and all(
            r.filters.get("date_from") == ("2026-11-10",) and r.filters.get("date_to") == ("2026-11-14",)
            for r in asked
        )
        dates = [
            mark["date"]
            for edge in body["data"]["viewer"]["students"]["edges"]
            for mark in edge["node"]["attendance"]
        ]
        assert dates and all("2026-11-10" <= d <= "2026-11-14" for d in dates)
