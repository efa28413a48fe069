"""The adapter's change feed against the simulator (in process): a score
changed in the CSV folder arrives through ``changes`` alone, built as ``fetch``
builds it, from Canvas's ``graded_since`` / ``submitted_since``, with a
watermark on the instance's clock that moves on; other entities have no feed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapters.canvas import CAPABILITIES, CanvasAdapter
from adapters.canvas.simulator import SimulatorState
from hub.sdk import ChangeFeed, Entity, FetchRequest, Score
from tests.conftest import shared_path

from .changes import Clock, edit, result_row, rows, score_key, submission_ids
from .conftest import canvas_adapter, canvas_config, simulator

FIELDS = CAPABILITIES.entities[Entity.SCORE].fields
SINCE = ("graded_since", "submitted_since")


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(district, tmp_path / "district"))


def _submission_reads(state: SimulatorState, mark: int) -> list[tuple[str, dict[str, str]]]:
    """The submissions lists read since request ``mark`` (path, query)."""
    return [
        (path, dict(query))
        for path, query in zip(state.paths[mark:], state.queries[mark:], strict=True)
        if path.endswith("/students/submissions")
    ]


async def test_the_adapter_offers_the_change_feed(district: Path) -> None:
    app, _ = simulator(district)
    async with canvas_adapter(app) as canvas:
        assert isinstance(canvas, ChangeFeed)


async def test_a_changed_score_arrives_alone_and_the_watermark_moves_on(folder: Path) -> None:
    clock = Clock()
    app, state = simulator(folder, now=clock)
    row = result_row(folder)
    key = score_key(state.district, row)
    courses = len(state.district.courses)
    async with canvas_adapter(app) as canvas:
        mark = state.requests
        start = await canvas.changes(Entity.SCORE, None, FIELDS)
        started = state.requests - mark
        clock.advance(60)
        mark = state.requests
        quiet = await canvas.changes(Entity.SCORE, start.watermark, FIELDS)
        quiet_requests, quiet_reads = state.requests - mark, _submission_reads(state, mark)
        clock.advance(60)
        edit(folder, "results.csv", {row["sourcedId"]}, score="12.5")
        fetched = await canvas.fetch(FetchRequest(Entity.SCORE, FIELDS, ids=(key,)))  # graded here, at 09:02
        clock.advance(10)
        mark = state.requests
        changed = await canvas.changes(Entity.SCORE, quiet.watermark, FIELDS)
        changed_requests = state.requests - mark
        clock.advance(60)
        after = await canvas.changes(Entity.SCORE, changed.watermark, FIELDS)
        clock.advance(-3600)  # the instance's clock set back: the watermark stays where it was
        behind = await canvas.changes(Entity.SCORE, after.watermark, FIELDS)
    assert start.watermark == "2027-01-11T08:59:55Z" and list(start.records) == [] and start.complete
    assert started == 1  # one small request: the clock
    assert list(quiet.records) == [] and list(quiet.deleted) == [] and quiet.complete
    assert quiet.watermark == "2027-01-11T09:00:55Z"
    # The course list, then both filters per course, and never a full submissions list.
    assert quiet_requests == 1 + 2 * courses
    assert all(sum(name in query for name in SINCE) == 1 for _, query in quiet_reads)
    assert all(query[name] == start.watermark for _, query in quiet_reads for name in SINCE if name in query)
    (record,) = changed.records
    assert isinstance(record, Score) and record.vendor_id == key and record.score == 12.5
    assert record == fetched.records[0]  # built and projected as fetch builds it
    assert changed.watermark == "2027-01-11T09:02:05Z" and list(changed.deleted) == []
    # Nothing more than the delta's reads, the course's sections and the one score.
    assert changed_requests == 1 + 2 * courses + 2
    assert list(after.records) == [] and after.watermark == "2027-01-11T09:03:05Z"
    assert list(behind.records) == [] and behind.watermark is None


async def test_a_grade_given_as_a_delta_starts_is_reported_again_not_lost(folder: Path) -> None:
    clock = Clock()
    app, state = simulator(folder, now=clock)
    row = result_row(folder)
    async with canvas_adapter(app) as canvas:
        start = await canvas.changes(Entity.SCORE, None, FIELDS)
        edit(folder, "results.csv", {row["sourcedId"]}, score="55")
        clock.advance(20)
        first = await canvas.changes(Entity.SCORE, start.watermark, FIELDS)  # graded as it starts
        clock.advance(60)
        assert first.watermark is not None
        second = await canvas.changes(Entity.SCORE, first.watermark, FIELDS)
        clock.advance(60)
        assert second.watermark is not None
        third = await canvas.changes(Entity.SCORE, second.watermark, FIELDS)
    key = score_key(state.district, row)
    assert [r.vendor_id for r in first.records] == [key]
    assert [r.vendor_id for r in second.records] == [key]  # within the skew: again, harmlessly
    assert list(third.records) == []


async def test_work_handed_in_arrives_by_submitted_since(folder: Path) -> None:
    clock = Clock()
    app, state = simulator(folder, now=clock)
    row = result_row(folder, "not submitted")
    async with canvas_adapter(app) as canvas:
        start = await canvas.changes(Entity.SCORE, None, FIELDS)
        edit(folder, "results.csv", {row["sourcedId"]}, scoreStatus="submitted", missing="false")
        changed = await canvas.changes(Entity.SCORE, start.watermark, FIELDS)
    (record,) = changed.records
    assert isinstance(record, Score) and record.vendor_id == score_key(state.district, row)
    assert record.score_status == "SUBMITTED" and record.missing is False
    assert record.submitted_at is not None and record.submitted_at.isoformat() == "2027-01-11T09:00:00+00:00"


async def test_a_score_in_a_course_of_several_sections_keeps_its_section(folder: Path) -> None:
    app, state = simulator(folder, now=Clock())
    district = state.district
    shared = {c for c, sections in district.course_sections.items() if len(sections) > 1}
    row = next(
        r
        for r in rows(folder / "results.csv")
        if r["scoreStatus"] == "fully graded"
        and district.by_id["section"][submission_ids(district, r)[0]]["course_id"] in shared
    )
    section, _, _ = submission_ids(district, row)
    async with canvas_adapter(app) as canvas:
        start = await canvas.changes(Entity.SCORE, None, FIELDS)
        edit(folder, "results.csv", {row["sourcedId"]}, score="1")
        changed = await canvas.changes(Entity.SCORE, start.watermark, FIELDS)
        fetched = await canvas.fetch(
            FetchRequest(Entity.SCORE, FIELDS, filters={"section_id": (str(section),)})
        )
    (record,) = changed.records
    assert isinstance(record, Score) and record.vendor_id == score_key(district, row)
    assert record.section_id == str(section) and record in fetched.records


async def test_many_changed_scores_are_read_again_in_bulk(folder: Path) -> None:
    app, state = simulator(folder, now=Clock())
    district = state.district
    graded = [r for r in rows(folder / "results.csv") if r["scoreStatus"] == "fully graded"]
    by_section = Counter(submission_ids(district, r)[0] for r in graded)
    section = by_section.most_common(1)[0][0]
    mine = [r for r in graded if submission_ids(district, r)[0] == section and r["score"] != "7.25"]
    assert len(mine) > 20  # more than id_lookup_max: not one request per score
    async with canvas_adapter(app) as canvas:
        start = await canvas.changes(Entity.SCORE, None, FIELDS)
        edit(folder, "results.csv", {r["sourcedId"] for r in mine}, score="7.25")
        mark = state.requests
        changed = await canvas.changes(Entity.SCORE, start.watermark, FIELDS)
    assert {r.vendor_id for r in changed.records} == {score_key(district, r) for r in mine}
    assert all(isinstance(r, Score) and r.score == 7.25 for r in changed.records)
    single = [path for path in state.paths[mark:] if "/assignments/" in path]
    bulk = [path for path, query in _submission_reads(state, mark) if not any(n in query for n in SINCE)]
    assert single == [] and bulk == [f"/api/v1/sections/{section}/students/submissions"]


@pytest.mark.parametrize("entity", [e for e in CAPABILITIES.entities if e is not Entity.SCORE], ids=str)
async def test_entities_canvas_has_no_delta_for_are_read_in_full(district: Path, entity: Entity) -> None:
    app, state = simulator(district)
    fields = CAPABILITIES.entities[entity].fields
    async with canvas_adapter(app) as canvas:
        mark = state.requests
        first = await canvas.changes(entity, None, fields)
        later = await canvas.changes(entity, "2027-01-11T09:00:00Z", fields)
    assert (first.complete, first.watermark, list(first.records)) == (False, None, [])
    assert (later.complete, later.watermark, list(later.records)) == (False, "2027-01-11T09:00:00Z", [])
    assert state.requests == mark  # nothing asked of Canvas


async def test_a_watermark_it_did_not_give_means_a_full_read(district: Path) -> None:
    app, state = simulator(district)
    async with canvas_adapter(app) as canvas:
        mark = state.requests
        answer = await canvas.changes(Entity.SCORE, "not a time", FIELDS)
    assert not answer.complete and answer.watermark == "not a time" and state.requests == mark


# -- Canvas's own payloads (respx) ----------------------------------------------------

BASE = "https://example.com"
COURSE, SECTION = 4242, 219
TWO_DATES = [("Date", "Tue, 30 Mar 2021 16:20:00 GMT"), ("Date", "Tue, 30 Mar 2021 16:19:58 GMT")]


def _live_submission() -> dict[str, Any]:
    path = shared_path("data", "canvas", "edfi-lms-toolkit_submission.live.data.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def live() -> Iterator[tuple[respx.MockRouter, dict[str, Any]]]:
    """Canvas at example.com: one course of one section, whose graded_since list
    holds a real submission (graded 2021-03-30T16:11:38Z)."""
    submission = _live_submission()
    api = f"{BASE}/api/v1"
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{api}/accounts/1").respond(
            200, json={"id": 1, "name": "Test Account"}, headers=TWO_DATES
        )
        router.get(f"{api}/accounts/1/courses").respond(
            200, json=[{"id": COURSE, "name": "Biology", "enrollment_term_id": 1}], headers=TWO_DATES
        )
        router.get(f"{api}/courses/{COURSE}/sections").respond(
            200, json=[{"id": SECTION, "course_id": COURSE}]
        )
        router.get(
            f"{api}/sections/{SECTION}/assignments/{submission['assignment_id']}/submissions/{submission['user_id']}"
        ).respond(200, json=submission)
        yield router, submission


def _live_adapter() -> CanvasAdapter:
    return CanvasAdapter(canvas_config(BASE, account_id="1"), transport=httpx.AsyncHTTPTransport())


async def test_a_real_graded_submission_arrives_with_its_section(
    live: tuple[respx.MockRouter, dict[str, Any]],
) -> None:
    router, submission = live
    submissions = router.get(f"{BASE}/api/v1/courses/{COURSE}/students/submissions")
    submissions.mock(
        side_effect=lambda request: httpx.Response(
            200, json=[submission] if "graded_since" in request.url.params else []
        )
    )
    adapter = _live_adapter()
    try:
        start = await adapter.changes(Entity.SCORE, None, FIELDS)
        changed = await adapter.changes(Entity.SCORE, "2021-03-30T16:00:00Z", FIELDS)
        quiet = await adapter.changes(Entity.SCORE, "2021-03-30T16:11:38Z", FIELDS)  # "after" is strict
    finally:
        await adapter.aclose()
    # The earlier of two Date headers, less the skew.
    assert start.watermark == "2021-03-30T16:19:53Z"
    (record,) = changed.records
    assert record == Score(
        vendor_id=f"{SECTION}.356597.1163",
        assignment_id=f"{SECTION}.356597",
        student_id="1163",
        section_id=str(SECTION),
        score=20.0,
        score_status="FULLY_GRADED",
        late=False,
        missing=False,
        submitted_at=dt.datetime(2021, 3, 16, 16, 20, 10, tzinfo=dt.UTC),
        comment=None,
    )
    assert changed.watermark == "2021-03-30T16:19:53Z"
    asked = [dict(call.request.url.params) for call in submissions.calls]
    assert {key for query in asked for key in query if key.endswith("_since")} == set(SINCE)
    assert all(query["student_ids[]"] == "all" for query in asked)
    assert list(quiet.records) == []  # a time the vendor's looser answer repeats is checked again here


async def test_canvas_refusing_the_filters_means_no_feed(
    live: tuple[respx.MockRouter, dict[str, Any]],
) -> None:
    router, _ = live
    router.get(f"{BASE}/api/v1/courses/{COURSE}/students/submissions").respond(
        400, json={"errors": {"graded_since": "Invalid datetime for graded_since"}}
    )
    adapter = _live_adapter()
    try:
        answer = await adapter.changes(Entity.SCORE, "2021-03-30T16:00:00Z", FIELDS)
    finally:
        await adapter.aclose()
    assert not answer.complete and answer.watermark == "2021-03-30T16:00:00Z"
