"""The simulated Canvas over time: a change in its CSV folder is read again on
the next request, ids kept, and stamped as Canvas stamps it, so that
``graded_since`` and ``submitted_since`` return just what changed."""

from __future__ import annotations

import datetime as dt
import email.utils
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.canvas._sim_data import submission_json

from .changes import T0, Clock, edit, result_row, rewrite, rows, submission_ids
from .conftest import simulator
from .test_simulator import API, signed_in

BEFORE = "2027-01-11T08:00:00Z"  # after every date in the files, before the clock starts


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(district, tmp_path / "district"))


async def _submissions(client: httpx.AsyncClient, where: str, **query: str) -> list[dict[str, Any]]:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("student_ids[]", "all"),
        ("per_page", "100"),
        *query.items(),
    ]
    answer = await client.get(f"{API}/{where}/students/submissions", params=params)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


async def test_a_new_score_is_graded_since_and_not_handed_in_again(folder: Path) -> None:
    clock = Clock()
    app, state = simulator(folder, now=clock)
    row = result_row(folder)
    section, assignment, user = submission_ids(state.district, row)
    course = state.district.by_id["section"][section]["course_id"]
    where = f"courses/{course}"
    async with signed_in(app) as client:
        unchanged = await _submissions(client, where, graded_since=BEFORE)
        before = await _submissions(client, where)
        clock.advance(60)
        edit(folder, "results.csv", {row["sourcedId"]}, score="12.5")
        graded = await _submissions(client, where, graded_since=BEFORE)
        handed_in = await _submissions(client, where, submitted_since=BEFORE)
        stamp = graded[0]["graded_at"] if graded else ""
        strictly_after = await _submissions(client, where, graded_since=stamp)
        in_section = await _submissions(client, f"sections/{section}", graded_since=BEFORE)
        after = await _submissions(client, where)
    assert unchanged == [] and state.reloads == 1
    (submission,) = graded
    assert (submission["assignment_id"], submission["user_id"]) == (assignment, user)
    assert submission["score"] == 12.5 and submission["grade"] == "12.5"
    assert submission["graded_at"] == submission["posted_at"] == "2027-01-11T09:01:00Z"
    old = next(s for s in before if (s["assignment_id"], s["user_id"]) == (assignment, user))
    assert submission["submitted_at"] == old["submitted_at"] == f"{row['scoreDate']}T00:00:00Z"
    assert handed_in == [] and strictly_after == []  # a regrade is no new hand-in; "after" is strict
    assert in_section == graded  # the section's list takes the filters too
    # Everything else is served as before, ids and all.
    assert [s for s in after if s["id"] != submission["id"]] == [
        s for s in before if s["id"] != submission["id"]
    ]


async def test_work_handed_in_is_submitted_since_and_not_graded_since(folder: Path) -> None:
    clock = Clock()
    app, state = simulator(folder, now=clock)
    row = result_row(folder, "not submitted")
    section, assignment, user = submission_ids(state.district, row)
    where = f"sections/{section}"
    async with signed_in(app) as client:
        assert await _submissions(client, where, submitted_since=BEFORE) == []
        clock.advance(30)
        edit(folder, "results.csv", {row["sourcedId"]}, scoreStatus="submitted", missing="false")
        handed_in = await _submissions(client, where, submitted_since=BEFORE)
        graded = await _submissions(client, where, graded_since=BEFORE)
    (submission,) = handed_in
    assert (submission["assignment_id"], submission["user_id"]) == (assignment, user)
    assert (
        submission["workflow_state"] == "submitted" and submission["submitted_at"] == "2027-01-11T09:00:30Z"
    )
    assert submission["graded_at"] is None and graded == []


async def test_a_comment_alone_moves_no_time_as_in_canvas(folder: Path) -> None:
    app, state = simulator(folder, now=Clock())
    row = result_row(folder)
    section, assignment, user = submission_ids(state.district, row)
    where = f"sections/{section}"
    async with signed_in(app) as client:
        edit(folder, "results.csv", {row["sourcedId"]}, comment="Well argued")
        graded = await _submissions(client, where, graded_since=BEFORE)
        handed_in = await _submissions(client, where, submitted_since=BEFORE)
        listed = await _submissions(client, where, **{"include[]": "submission_comments"})
    assert graded == [] and handed_in == []
    mine = next(s for s in listed if (s["assignment_id"], s["user_id"]) == (assignment, user))
    assert [c["comment"] for c in mine["submission_comments"]] == ["Well argued"]


async def test_ids_stay_put_and_a_deleted_row_is_gone(folder: Path) -> None:
    app, state = simulator(folder, now=Clock())
    first = state.district
    gone = result_row(folder)
    gone_ids = submission_ids(first, gone)
    kept = {key: result.id for key, result in first.submission.items() if key != gone_ids}
    users = {user["sis_user_id"]: user["id"] for user in first.users}
    dropped = rows(folder / "users.csv")[0]["sourcedId"]
    async with signed_in(app) as client:
        rewrite(
            folder / "results.csv", lambda found: [r for r in found if r["sourcedId"] != gone["sourcedId"]]
        )
        rewrite(folder / "users.csv", lambda found: [r for r in found if r["sourcedId"] != dropped])
        section = gone_ids[0]
        listed = await _submissions(client, f"sections/{section}")
    now = state.district
    assert now is not first
    # Canvas ids are the objects' own: removing rows renumbers nothing.
    assert {user["sis_user_id"]: user["id"] for user in now.users} == {
        sis: canvas for sis, canvas in users.items() if sis != dropped
    }
    assert {key: result.id for key, result in now.submission.items()} == {
        key: value for key, value in kept.items() if key[2] != users[dropped]
    }
    assert (gone_ids[1], gone_ids[2]) not in {(s["assignment_id"], s["user_id"]) for s in listed}


async def test_a_changed_assignment_gets_a_new_updated_at(folder: Path) -> None:
    app, state = simulator(folder, now=Clock())
    item = rows(folder / "lineItems.csv")[0]
    assignment = next(
        a for a in state.district.by_id["assignment"].values() if a["integration_id"] == item["sourcedId"]
    )
    course = assignment["course_id"]
    async with signed_in(app) as client:
        before = (await client.get(f"{API}/courses/{course}/assignments", params={"per_page": 100})).json()
        edit(folder, "lineItems.csv", {item["sourcedId"]}, title="Renamed essay")
        after = (await client.get(f"{API}/courses/{course}/assignments", params={"per_page": 100})).json()
    changed = next(a for a in after if a["id"] == assignment["id"])
    assert changed["name"] == "Renamed essay" and changed["updated_at"] == "2027-01-11T09:00:00Z"
    assert [a for a in after if a["id"] != assignment["id"]] == [
        a for a in before if a["id"] != assignment["id"]
    ]


async def test_a_malformed_since_is_refused_as_canvas_words_it(district: Path) -> None:
    app, state = simulator(district)
    course = state.district.courses[0]["id"]
    async with signed_in(app) as client:
        bad = await client.get(
            f"{API}/courses/{course}/students/submissions",
            params={"student_ids[]": "all", "graded_since": "yesterday"},
        )
        day_only = await client.get(
            f"{API}/courses/{course}/students/submissions",
            params={"student_ids[]": "all", "submitted_since": "2026-11-01"},
        )
    assert bad.status_code == 400 and bad.json() == {
        "errors": {"graded_since": "Invalid datetime for graded_since"}
    }
    assert day_only.status_code == 400 and "submitted_since" in day_only.json()["errors"]


async def test_every_answer_carries_the_instance_clock_never_behind_what_it_served(district: Path) -> None:
    # A wall clock before the district's school year: the instance's clock moves past the files' times.
    app, state = simulator(district, now=lambda: dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    served = [submission_json(result) for result in state.district.submission.values()]
    latest = max(
        dt.datetime.fromisoformat(s[name])
        for s in served
        for name in ("submitted_at", "graded_at")
        if s[name]
    )
    fixed_app, _ = simulator(district, now=Clock())
    async with signed_in(app) as client, signed_in(fixed_app) as fixed:
        moved = await client.get(f"{API}/accounts/self")
        exact = await fixed.get(f"{API}/accounts/self")
        refused = await fixed.get(f"{API}/accounts/self", headers={"Authorization": "Bearer wrong"})
    assert email.utils.parsedate_to_datetime(exact.headers["Date"]) == T0
    assert refused.status_code == 401 and "Date" in refused.headers
    assert email.utils.parsedate_to_datetime(moved.headers["Date"]) > latest


async def test_unchanged_files_are_not_read_again(folder: Path) -> None:
    app, state = simulator(folder)
    async with signed_in(app) as client:
        for _ in range(3):
            assert (await client.get(f"{API}/accounts/self/courses")).status_code == 200
        edit(folder, "courses.csv", set(), title="")  # rewritten, nothing in it changed
        await client.get(f"{API}/accounts/self/courses")
        await client.get(f"{API}/accounts/self/courses")
    assert state.reloads == 1
