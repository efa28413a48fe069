"""The adapter's change feed (``hub.sdk.ChangeFeed``): course work read newest
first until the watermark, deletes from ``DELETED`` work, a full read asked
for whenever the feed cannot tell, and no feed at all where Classroom has none.

Through the simulator in process (its folder changed by the test), and with
respx where the vendor's payloads or a misbehaving server matter."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import respx
from starlette.applications import Starlette

from adapters.google_classroom import CAPABILITIES, GoogleClassroomAdapter
from adapters.google_classroom._feed import Mark, nanos
from adapters.google_classroom.simulator import SimulatorState
from hub.model import of_type
from hub.sdk import Assignment, Changes, Entity
from hub.sdk.http import Timing

from .conftest import classroom, classroom_config, simulator
from .folder import drop_row, first_row, rewrite, set_cells

FIELDS = frozenset({"title", "due_date", "points_possible", "section_id"})
COURSE_WORK = "/courseWork"


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(district, tmp_path / "district"))


def course_work_queries(state: SimulatorState, since: int) -> list[list[tuple[str, str]]]:
    return [
        query
        for path, query in zip(state.paths[since:], state.queries[since:], strict=True)
        if path.endswith(COURSE_WORK)
    ]


def work_of(state: SimulatorState, class_id: str, title: str) -> tuple[str, dict[str, Any]]:
    """The assignment vendor id and course work object of a line item."""
    course_id = state.district.course_ids[class_id]
    (work,) = [w for w in state.district.course_work[course_id] if w["title"] == title]
    return f"{course_id}/{work['id']}", work


async def test_the_starting_watermark_is_the_newest_update_time(folder: Path) -> None:
    app, state = simulator(folder)
    async with classroom(app) as adapter:
        mark = len(state.paths)
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
    assert start.complete and not start.records and not start.deleted
    assert start.watermark is not None
    parsed = Mark.parse(start.watermark)
    assert parsed is not None
    newest = max(
        (w["updateTime"] for ws in state.district.course_work.values() for w in ws),
        key=lambda text: nanos(text) or 0,
    )
    assert parsed.moment == newest
    courses = len(state.district.courses)
    asked = course_work_queries(state, mark)
    assert len(state.paths) - mark == 1 + courses, "the course list, then one one-item read per course"
    for query in asked:
        assert ("pageSize", "1") in query and ("orderBy", "updateTime desc") in query
        assert [value for key, value in query if key == "courseWorkStates"] == ["PUBLISHED", "DELETED"]
        assert ("fields", "courseWork(updateTime),nextPageToken") in query


async def test_nothing_changed_costs_one_small_page_per_course(folder: Path) -> None:
    app, state = simulator(folder)
    async with classroom(app) as adapter:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        mark = len(state.paths)
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
    assert delta == Changes(records=[], deleted=[], watermark=start.watermark)
    assert len(state.paths) - mark == 1 + len(state.district.courses)
    assert all(("pageSize", "10") in query for query in course_work_queries(state, mark))


class Wall:
    """One fake wall clock for the simulator's stamps and the adapter's clock
    (in process there is no ``Date`` header: the adapter uses its own)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)

    def tick(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

    def timing(self) -> Timing:
        return Timing(wall=lambda: self.now.timestamp())


async def poke(app: Starlette) -> None:
    """One request, so the simulator reads its changed folder (and stamps the change) now."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://classroom.test") as http:
        response = await http.get("/v1/courses", headers={"Authorization": "Bearer homeroom-sim-token"})
        assert response.status_code == 200


async def test_a_changed_assignment_arrives_alone_and_once(folder: Path) -> None:
    wall = Wall()
    app, state = simulator(folder, now=lambda: wall.now)
    row = first_row(folder, "lineItems.csv", classSourcedId="cls-01-hr-kg-01")
    vendor_id, _ = work_of(state, row["classSourcedId"], row["title"])
    async with classroom(app, timing=wall.timing()) as adapter:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        set_cells(
            folder, "lineItems.csv", row["sourcedId"], title="Agenda Check, revised", dueDate="2026-12-01"
        )
        await poke(app)  # changed (and stamped) a while before the next delta
        wall.tick(30)
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
        assert delta.watermark is not None
        wall.tick(60)
        after = await adapter.changes(Entity.ASSIGNMENT, delta.watermark, FIELDS)
    (record,) = of_type(delta.records, Assignment)
    assert record.vendor_id == vendor_id and record.title == "Agenda Check, revised"
    assert record.due_date is not None and record.due_date.date().isoformat() == "2026-12-01"
    assert record.section_id == vendor_id.split("/")[0]
    assert record.description is None, "only the fields asked for"
    assert delta.deleted == [] and delta.complete
    assert delta.watermark.startswith("2027-01-04T09:00:00.000Z|"), "the change's own updateTime"
    assert after == Changes(records=[], deleted=[], watermark=delta.watermark)


async def test_a_change_stamped_as_the_read_begins_comes_again_never_lost(folder: Path) -> None:
    wall = Wall()
    app, state = simulator(folder, now=lambda: wall.now)
    row = first_row(folder, "lineItems.csv", classSourcedId="cls-01-hr-kg-01")
    vendor_id, _ = work_of(state, row["classSourcedId"], row["title"])
    async with classroom(app, timing=wall.timing()) as adapter:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        set_cells(folder, "lineItems.csv", row["sourcedId"], title="Agenda Check, revised")
        # Stamped by the delta's own first request: within the skew of the read.
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
        assert delta.watermark is not None
        wall.tick(60)
        again = await adapter.changes(Entity.ASSIGNMENT, delta.watermark, FIELDS)
        assert again.watermark is not None
        wall.tick(60)
        settled = await adapter.changes(Entity.ASSIGNMENT, again.watermark, FIELDS)
    assert [r.vendor_id for r in delta.records] == [r.vendor_id for r in again.records] == [vendor_id]
    # Held back to the clock less the skew when the read began, then on to the change itself.
    assert delta.watermark.startswith("2027-01-04T08:59:55.000Z|")
    assert again.watermark.startswith("2027-01-04T09:00:00.000Z|")
    assert settled.records == []


async def test_deleted_course_work_is_reported_deleted(folder: Path) -> None:
    app, state = simulator(folder)
    row = first_row(folder, "lineItems.csv", classSourcedId="cls-01-hr-kg-01")
    vendor_id, _ = work_of(state, row["classSourcedId"], row["title"])
    async with classroom(app) as adapter:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        drop_row(folder, "lineItems.csv", row["sourcedId"])
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
    assert delta.complete and delta.records == [] and delta.deleted == [vendor_id]


async def test_a_delta_stops_at_the_first_item_older_than_the_watermark(folder: Path) -> None:
    # Pages of two: the course with three changed items takes two pages (the
    # second holds the first older item), every other course one.
    app, state = simulator(folder, max_page_size=2)
    rows = [row for row in _rows(folder, "lineItems.csv") if row["classSourcedId"] == "cls-01-hr-kg-01"]
    assert len(rows) >= 5
    changed = {row["sourcedId"] for row in rows[:3]}
    async with classroom(app) as adapter:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None

        def retitle(lines: list[dict[str, str]]) -> list[dict[str, str]]:
            for line in lines:
                if line["sourcedId"] in changed:
                    line["title"] += " (moved)"
            return lines

        rewrite(folder, "lineItems.csv", retitle)
        mark = len(state.paths)
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
    titles = sorted(r.title or "" for r in of_type(delta.records, Assignment))
    assert titles == sorted(row["title"] + " (moved)" for row in rows[:3])
    course_id = state.district.course_ids["cls-01-hr-kg-01"]
    paths = state.paths[mark:]
    assert paths.count(f"/v1/courses/{course_id}/courseWork") == 2
    course_pages = (len(state.district.courses) + 1) // 2
    assert len(paths) == course_pages + len(state.district.courses) + 1


async def test_a_course_added_or_gone_asks_for_a_full_read(folder: Path) -> None:
    app, _ = simulator(folder)
    async with classroom(app) as adapter:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        drop_row(folder, "classes.csv", first_row(folder, "classes.csv")["sourcedId"])
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
        again = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert again.watermark is not None
        settled = await adapter.changes(Entity.ASSIGNMENT, again.watermark, FIELDS)
    assert delta == Changes(watermark=start.watermark, complete=False)
    # After that full read the feed starts again from the new set of courses.
    assert again.watermark.rpartition("|")[2] != start.watermark.rpartition("|")[2]
    assert settled.complete and settled.records == []


async def test_a_course_that_turns_unreadable_asks_for_a_full_read(folder: Path) -> None:
    app, state = simulator(folder)
    course = state.district.courses[3]["id"]
    app, state = simulator(folder, api_disabled_courses=(course,))
    async with classroom(app) as adapter:
        # Skipped from the start (and so by the full read): the feed works without it.
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        steady = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
        # Readable again: its work was not read by the last full read.
        state.disabled_courses = frozenset()
        back = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
        problems = [p.where for p in adapter.report.problems]
    assert steady == Changes(records=[], deleted=[], watermark=start.watermark)
    assert back.complete is False
    assert f"courses/{course}/courseWork" in problems


@pytest.mark.parametrize("entity", sorted(set(CAPABILITIES.entities) - {Entity.ASSIGNMENT}, key=str))
async def test_entities_without_a_feed_are_read_in_full(folder: Path, entity: Entity) -> None:
    app, state = simulator(folder)
    async with classroom(app) as adapter:
        mark = len(state.paths)
        fields = CAPABILITIES.entities[entity].fields
        start = await adapter.changes(entity, None, fields)
        later = await adapter.changes(entity, "2026-11-29T12:00:00.000Z|0123456789abcdef", fields)
    assert start.complete is False and later.complete is False
    assert len(state.paths) == mark, "no request: there is nothing to ask Classroom for"


async def test_a_watermark_not_of_this_feed_asks_for_a_full_read(folder: Path) -> None:
    app, state = simulator(folder)
    async with classroom(app) as adapter:
        mark = len(state.paths)
        for since in ("", "2026-11-29T12:00:00Z", "yesterday|abc", "2026-11-29T12:00:00Z|"):
            assert (await adapter.changes(Entity.ASSIGNMENT, since, FIELDS)).complete is False
    assert len(state.paths) == mark


def test_update_times_compare_to_the_nanosecond() -> None:
    assert nanos("2020-04-05T19:41:15.292123457Z") == nanos("2020-04-05T19:41:15.292123456Z") + 1  # type: ignore[operator]
    assert nanos("2020-04-05T21:41:15.292+02:00") == nanos("2020-04-05T19:41:15.292Z")
    assert nanos("2020-04-05T19:41:15Z") == 1_586_115_675 * 1_000_000_000
    assert nanos("2020-04-05") is None and nanos(None) is None and nanos("2020-13-05T19:41:15Z") is None


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


# -- Classroom's own payloads (discovery-doc shapes), replayed with respx ---------------

HOST = "classroom.test"
COURSE = "123456789012"


def _work(work_id: str, update_time: str, state: str = "PUBLISHED", **extra: Any) -> dict[str, Any]:
    """A ``CourseWork`` as the discovery document describes it."""
    return {
        "courseId": COURSE,
        "id": work_id,
        "title": f"Work {work_id}",
        "state": state,
        "alternateLink": f"https://classroom.google.com/c/{COURSE}/a/{work_id}/details",
        "creationTime": "2020-04-05T19:41:15.292Z",
        "updateTime": update_time,
        "dueDate": {"year": 2020, "month": 4, "day": 12},
        "dueTime": {"hours": 23, "minutes": 59},
        "maxPoints": 100,
        "workType": "ASSIGNMENT",
        "submissionModificationMode": "MODIFIABLE_UNTIL_TURNED_IN",
        "assigneeMode": "ALL_STUDENTS",
        "creatorUserId": "104567890123456789012",
        **extra,
    }


@pytest.fixture
def google() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=f"https://{HOST}", assert_all_called=False) as router:
        router.get("/v1/courses").respond(200, json={"courses": [{"id": COURSE, "courseState": "ACTIVE"}]})
        yield router


def _adapter() -> GoogleClassroomAdapter:
    return GoogleClassroomAdapter(classroom_config(f"https://{HOST}", retries=0))


def _query(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(str(request.url)).query)


async def test_the_vendor_payload_gives_records_deletes_and_the_newest_time(
    google: respx.MockRouter,
) -> None:
    pages = {
        "": {
            "courseWork": [
                _work("3", "2020-04-07T10:00:00.5Z", state="DELETED"),
                _work("2", "2020-04-07T09:00:00.123456789Z", title="Essay, revised"),
            ],
            "nextPageToken": "page-2",
        },
        "page-2": {
            "courseWork": [_work("1", "2020-04-06T08:00:00.000000001Z"), _work("0", "2020-04-01T00:00:00Z")]
        },
    }
    asked: list[list[tuple[str, str]]] = []

    def course_work(request: httpx.Request) -> httpx.Response:
        query = _query(request)
        asked.append(query)
        return httpx.Response(200, json=pages[dict(query).get("pageToken", "")])

    route = google.get(f"/v1/courses/{COURSE}/courseWork")
    route.respond(200, json={"courseWork": [_work("1", "2020-04-06T08:00:00.000000001Z")]})
    adapter = _adapter()
    try:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        digest = start.watermark.rpartition("|")[2]
        assert start.watermark == f"2020-04-06T08:00:00.000000001Z|{digest}", "kept as Google wrote it"
        route.mock(side_effect=course_work)
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
    finally:
        await adapter.aclose()
    (record,) = of_type(delta.records, Assignment)
    assert (record.vendor_id, record.title, record.points_possible) == (f"{COURSE}/2", "Essay, revised", 100)
    assert delta.deleted == [f"{COURSE}/3"]
    assert delta.watermark == f"2020-04-07T10:00:00.5Z|{digest}"
    # Both pages asked alike but for the token; the second held the watermark's own item: the end.
    assert len(asked) == 2
    assert [value for key, value in asked[0] if key == "courseWorkStates"] == ["PUBLISHED", "DELETED"]
    assert ("orderBy", "updateTime desc") in asked[0]
    assert [pair for pair in asked[1] if pair[0] != "pageToken"] == asked[0]


async def test_an_answer_out_of_order_is_not_trusted(google: respx.MockRouter) -> None:
    route = google.get(f"/v1/courses/{COURSE}/courseWork")
    route.respond(200, json={"courseWork": [_work("9", "2020-04-06T08:00:00Z")]})
    adapter = _adapter()
    try:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
        assert start.watermark is not None
        # A server ignoring orderBy: oldest first.
        route.respond(
            200,
            json={"courseWork": [_work("8", "2020-04-07T08:00:00Z"), _work("9", "2020-04-08T08:00:00Z")]},
        )
        disordered = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
        route.respond(
            200, json={"courseWork": [{k: v for k, v in _work("9", "x").items() if k != "updateTime"}]}
        )
        untimed = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
    finally:
        await adapter.aclose()
    assert start.watermark.startswith("2020-04-06T08:00:00Z|")
    assert disordered.complete is False and untimed.complete is False


async def test_with_no_course_work_the_provider_clock_starts_the_feed(google: respx.MockRouter) -> None:
    google.get(f"/v1/courses/{COURSE}/courseWork").respond(
        200, json={}, headers={"Date": "Tue, 07 Apr 2020 10:00:00 GMT"}
    )
    adapter = _adapter()
    try:
        start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
    finally:
        await adapter.aclose()
    assert start.watermark is not None
    assert start.watermark.startswith("2020-04-07T09:59:55.000Z|"), "the Date header less the skew"


async def test_the_watermark_is_held_back_to_when_the_read_began() -> None:
    # Two courses read a moment apart: the second shows work stamped after the
    # first was read. Had the watermark moved to it, a change to the first
    # course stamped in between would never be read.
    other = "210987654321"
    date = {"Date": "Tue, 07 Apr 2020 10:00:00 GMT"}
    with respx.mock(base_url=f"https://{HOST}", assert_all_called=False) as router:
        router.get("/v1/courses").respond(
            200, json={"courses": [{"id": COURSE, "courseState": "ACTIVE"}, {"id": other}]}
        )
        first = router.get(f"/v1/courses/{COURSE}/courseWork")
        second = router.get(f"/v1/courses/{other}/courseWork")
        first.respond(200, json={"courseWork": [_work("1", "2020-04-06T08:00:00Z")]}, headers=date)
        second.respond(
            200, json={"courseWork": [_work("2", "2020-04-06T07:00:00Z", courseId=other)]}, headers=date
        )
        adapter = _adapter()
        try:
            start = await adapter.changes(Entity.ASSIGNMENT, None, FIELDS)
            assert start.watermark is not None
            assert start.watermark.startswith("2020-04-06T08:00:00Z|")
            recent = _work("3", "2020-04-07T10:00:00.700Z", courseId=other)
            second.respond(
                200,
                json={"courseWork": [recent, _work("2", "2020-04-06T07:00:00Z", courseId=other)]},
                headers=date,
            )
            delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, FIELDS)
        finally:
            await adapter.aclose()
    assert [r.vendor_id for r in delta.records] == [f"{other}/3"]
    assert delta.watermark is not None
    assert delta.watermark.startswith("2020-04-07T09:59:55.000Z|"), "the Date of the reads less the skew"
