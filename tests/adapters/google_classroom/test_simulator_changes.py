"""The simulated Classroom follows its CSV folder: a changed row gets a new
``updateTime`` (course work, submissions, courses), course work lists in the
order ``orderBy`` asks (``updateTime desc`` by default), deleted work stays
listed as ``DELETED`` for a while, and submissions have no ordering."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.google_classroom.simulator import SimulatorState

from .conftest import simulator
from .folder import drop_row, first_row, set_cells

AUTH = {"Authorization": "Bearer homeroom-sim-token"}
Json = dict[str, Any]


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(district, tmp_path / "district"))


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://classroom.test")


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def works(http: httpx.AsyncClient, course_id: str, *params: tuple[str, str]) -> list[Json]:
    response = await http.get(
        f"/v1/courses/{course_id}/courseWork", params=[*params, ("pageSize", "100")], headers=AUTH
    )
    assert response.status_code == 200, response.text
    found: list[Json] = response.json().get("courseWork", [])
    return found


def newest(state: SimulatorState) -> dt.datetime:
    district = state.district
    stamps = [
        *(c["updateTime"] for c in district.courses),
        *(w["updateTime"] for ws in district.course_work.values() for w in ws),
        *(s["updateTime"] for ss in district.submissions.values() for s in ss),
    ]
    return max(moment(stamp) for stamp in stamps)


def line_item(folder: Path, state: SimulatorState) -> tuple[Json, str, str]:
    """A line item of a class with several of them: its row, its course id and its course work id."""
    row = first_row(folder, "lineItems.csv", classSourcedId="cls-01-hr-kg-01")
    course_id = state.district.course_ids[row["classSourcedId"]]
    (work,) = [w for w in state.district.course_work[course_id] if w["title"] == row["title"]]
    return row, course_id, work["id"]


async def test_a_changed_line_item_moves_its_course_work_alone(folder: Path) -> None:
    app, state = simulator(folder)
    row, course_id, work_id = line_item(folder, state)
    async with client(app) as http:
        before = {w["id"]: w for w in await works(http, course_id)}
        latest = newest(state)
        set_cells(folder, "lineItems.csv", row["sourcedId"], title="Agenda Check, revised")
        after = await works(http, course_id)
        again = await works(http, course_id)
    assert len(before) > 2 and state.reloads == 1, "read again once, on the first request after the change"
    assert after == again
    changed = {w["id"]: w for w in after}
    assert changed[work_id]["title"] == "Agenda Check, revised"
    stamp = changed[work_id]["updateTime"]
    assert moment(stamp) > latest, "later than every updateTime served before"
    assert stamp.endswith("Z") and len(stamp) == len("2026-11-29T12:00:00.000Z")
    assert {k: w for k, w in changed.items() if k != work_id} == {
        k: w for k, w in before.items() if k != work_id
    }, "the other work keeps its updateTime"
    # Unordered requests list the newest first: Classroom's default is updateTime desc.
    assert after[0]["id"] == work_id


async def test_course_work_is_listed_in_the_order_asked(folder: Path) -> None:
    app, state = simulator(folder)
    _, course_id, _ = line_item(folder, state)
    async with client(app) as http:
        default = await works(http, course_id)
        desc = await works(http, course_id, ("orderBy", "updateTime desc"))
        asc = await works(http, course_id, ("orderBy", "updateTime"))
        due_asc = await works(http, course_id, ("orderBy", "dueDate asc"))
        due_desc = await works(http, course_id, ("orderBy", "dueDate desc,updateTime"))
        refused = [
            await http.get(f"/v1/courses/{course_id}/courseWork", params={"orderBy": text}, headers=AUTH)
            for text in ("title", "updateTime sideways", "updateTime desc desc", "")
        ]
    times = [moment(w["updateTime"]) for w in desc]
    assert len(set(times)) > 1 and times == sorted(times, reverse=True)
    assert default == desc
    assert [moment(w["updateTime"]) for w in asc] == sorted(times)

    def due(work: Json) -> tuple[int, ...]:
        date, clock = work["dueDate"], work.get("dueTime", {})
        return (date["year"], date["month"], date["day"], clock.get("hours", 0), clock.get("minutes", 0))

    assert [due(w) for w in due_asc] == sorted(due(w) for w in due_asc)
    assert [due(w) for w in due_desc] == sorted((due(w) for w in due_desc), reverse=True)
    # "" is no orderBy at all (the default); the others are not Classroom's grammar.
    assert [r.status_code for r in refused] == [400, 400, 400, 200]
    assert refused[0].json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_deleted_course_work_is_listed_as_deleted_until_dropped(folder: Path) -> None:
    now = [dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)]
    app, state = simulator(folder, keep_deleted=3600, now=lambda: now[0])
    row, course_id, work_id = line_item(folder, state)
    async with client(app) as http:
        drop_row(folder, "lineItems.csv", row["sourcedId"])
        published = await works(http, course_id)
        deleted = await works(http, course_id, ("courseWorkStates", "DELETED"))
        both = await works(
            http, course_id, ("courseWorkStates", "PUBLISHED"), ("courseWorkStates", "DELETED")
        )
        submissions = (
            await http.get(f"/v1/courses/{course_id}/courseWork/{work_id}/studentSubmissions", headers=AUTH)
        ).json()
        now[0] += dt.timedelta(seconds=3599)
        kept = await works(http, course_id, ("courseWorkStates", "DELETED"))
        now[0] += dt.timedelta(seconds=2)
        dropped = await works(http, course_id, ("courseWorkStates", "DELETED"))
        gone = await http.get(
            f"/v1/courses/{course_id}/courseWork/{work_id}/studentSubmissions", headers=AUTH
        )
    assert work_id not in {w["id"] for w in published}
    assert [(w["id"], w["state"]) for w in deleted] == [(work_id, "DELETED")]
    assert moment(deleted[0]["updateTime"]) == now[0] - dt.timedelta(seconds=3601)
    assert both[0] == deleted[0] and len(both) == len(published) + 1, "newest first, beside the published"
    assert submissions == {}, "the submissions went with the work"
    assert kept == deleted and dropped == []
    assert gone.status_code == 404


async def test_a_changed_score_moves_the_submission_not_its_course_work(folder: Path) -> None:
    app, state = simulator(folder)
    result = first_row(folder, "results.csv", scoreStatus="fully graded")
    course_id = state.district.course_ids[result["classSourcedId"]]
    user_id = state.district.user_ids[result["studentSourcedId"]]
    path = f"/v1/courses/{course_id}/courseWork/-/studentSubmissions"
    async with client(app) as http:
        before = (await http.get(path, params={"userId": user_id}, headers=AUTH)).json()["studentSubmissions"]
        work_before = await works(http, course_id)
        latest = newest(state)
        set_cells(folder, "results.csv", result["sourcedId"], score="12.5")
        after = (await http.get(path, params={"userId": user_id}, headers=AUTH)).json()["studentSubmissions"]
        work_after = await works(http, course_id)
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 1
    old, new = changed[0]
    assert (old["assignedGrade"], new["assignedGrade"]) == (float(result["score"]), 12.5)
    assert moment(new["updateTime"]) > latest
    # As in Classroom: a grade is the submission's change, not the course work's.
    assert work_after == work_before


async def test_a_changed_class_moves_its_course_update_time(folder: Path) -> None:
    app, state = simulator(folder)
    row = first_row(folder, "classes.csv")
    course_id = state.district.course_ids[row["sourcedId"]]
    async with client(app) as http:
        before = (await http.get(f"/v1/courses/{course_id}", headers=AUTH)).json()
        others = (await http.get("/v1/courses", headers=AUTH, params={"pageSize": 100})).json()["courses"]
        latest = newest(state)
        set_cells(folder, "classes.csv", row["sourcedId"], location="Room 999")
        after = (await http.get(f"/v1/courses/{course_id}", headers=AUTH)).json()
        listed = (await http.get("/v1/courses", headers=AUTH, params={"pageSize": 100})).json()["courses"]
    assert (before["room"], after["room"]) == (row["location"], "Room 999")
    assert moment(after["updateTime"]) > latest
    assert [c for c in listed if c["id"] != course_id] == [c for c in others if c["id"] != course_id]


async def test_submissions_have_no_ordering(folder: Path) -> None:
    app, state = simulator(folder)
    course_id = state.district.courses[0]["id"]
    async with client(app) as http:
        refused = await http.get(
            f"/v1/courses/{course_id}/courseWork/-/studentSubmissions",
            params={"orderBy": "updateTime desc"},
            headers=AUTH,
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert 'Unknown name "orderBy"' in refused.json()["error"]["message"]


async def test_an_unchanged_folder_is_not_read_again(folder: Path) -> None:
    app, state = simulator(folder)
    served = state.district
    async with client(app) as http:
        for _ in range(3):
            assert (await http.get("/v1/courses", headers=AUTH)).status_code == 200
    assert state.reloads == 0 and state.district is served


async def test_no_update_time_is_served_from_the_future(folder: Path) -> None:
    # A clock before the district's latest dates: Classroom never stamps ahead of its own clock.
    now = [dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)]
    app, state = simulator(folder, now=lambda: now[0])
    row, course_id, work_id = line_item(folder, state)
    assert newest(state) == now[0]
    assert any(
        moment(w["updateTime"]) < now[0] for works in state.district.course_work.values() for w in works
    ), "earlier dates are served as they are"
    now[0] += dt.timedelta(minutes=5)
    async with client(app) as http:
        set_cells(folder, "lineItems.csv", row["sourcedId"], title="Agenda Check, revised")
        after = {w["id"]: w for w in await works(http, course_id)}
    assert after[work_id]["updateTime"] == "2026-10-01T08:05:00.000Z"
    assert newest(state) == now[0]
