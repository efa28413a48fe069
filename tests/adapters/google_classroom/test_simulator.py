"""The simulated Classroom speaks the API: paging, auth, partial responses,
errors in Google's envelope, and the generated district in Classroom's shape."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from .conftest import simulator

AUTH = {"Authorization": "Bearer homeroom-sim-token"}


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://classroom.test")


async def pages(http: httpx.AsyncClient, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        query = {**params, **({"pageToken": token} if token else {})}
        response = await http.get(path, params=query, headers=AUTH)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body.get(key, []))
        token = body.get("nextPageToken")
        if not token:
            return items


async def test_page_tokens_walk_a_list_and_are_bound_to_the_request(district: Path) -> None:
    app, state = simulator(district, max_page_size=20)
    async with client(app) as http:
        everything = await pages(http, "/v1/courses", "courses", pageSize=7)
        capped = (await http.get("/v1/courses", params={"pageSize": 500}, headers=AUTH)).json()
        first = (await http.get("/v1/courses", params={"pageSize": 7}, headers=AUTH)).json()
        changed = await http.get(
            "/v1/courses", params={"pageSize": 8, "pageToken": first["nextPageToken"]}, headers=AUTH
        )
        forged = await http.get("/v1/courses", params={"pageToken": "bm90LWEtdG9rZW4"}, headers=AUTH)
    assert [c["id"] for c in everything] == [c["id"] for c in state.district.courses]
    assert len(capped["courses"]) == 20 and "nextPageToken" in capped
    assert changed.status_code == forged.status_code == 400
    assert changed.json() == {
        "error": {"code": 400, "message": "Invalid page token.", "status": "INVALID_ARGUMENT"}
    }


async def test_an_unset_page_size_lets_the_server_choose(district: Path) -> None:
    app, _ = simulator(district, max_page_size=1000)
    async with client(app) as http:
        body = (await http.get("/v1/courses", headers=AUTH)).json()
        guardians = (await http.get("/v1/userProfiles/-/guardians", headers=AUTH)).json()
    assert "nextPageToken" not in body and len(body["courses"]) == 91
    assert "nextPageToken" not in guardians and len(guardians["guardians"]) > 100


async def test_requests_without_a_valid_token_get_401_in_googles_envelope(district: Path) -> None:
    app, _ = simulator(district)
    async with client(app) as http:
        missing = await http.get("/v1/courses")
        wrong = await http.get("/v1/courses", headers={"Authorization": "Bearer nope"})
        token = await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=("homeroom-sim", "homeroom-sim-secret"),
        )
        issued = token.json()["access_token"]
        with_issued = await http.get("/v1/courses", headers={"Authorization": f"Bearer {issued}"})
        refused = await http.post(
            "/token", data={"grant_type": "client_credentials"}, auth=("homeroom-sim", "wrong")
        )
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert with_issued.status_code == 200
    assert refused.status_code == 401 and refused.json() == {"error": "invalid_client"}


async def test_partial_responses_and_proto3_empty_lists(district: Path) -> None:
    app, state = simulator(district)
    course = state.district.courses[0]["id"]
    lonely = next(u for u in state.district.emails if u not in state.district.guardians)
    async with client(app) as http:
        narrow = await http.get(
            f"/v1/courses/{course}/students",
            params={"fields": "students(userId),nextPageToken"},
            headers=AUTH,
        )
        broken = await http.get("/v1/courses", params={"fields": "courses(id"}, headers=AUTH)
        empty = await http.get(f"/v1/userProfiles/{lonely}/guardians", headers=AUTH)
    assert all(set(item) == {"userId"} for item in narrow.json()["students"])
    assert broken.status_code == 400 and broken.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert empty.status_code == 200 and empty.json() == {}


async def test_list_filters_of_the_api(district: Path) -> None:
    app, state = simulator(district)
    d = state.district
    course = d.courses[0]["id"]
    student = d.students[course][0]
    email = student["profile"]["emailAddress"]
    async with client(app) as http:
        by_email = await pages(http, "/v1/courses", "courses", studentId=email)
        by_id = await pages(http, "/v1/courses", "courses", studentId=student["userId"])
        both = await http.get("/v1/courses", params={"studentId": "a", "teacherId": "b"}, headers=AUTH)
        mine = await pages(
            http, f"/v1/courses/{course}/courseWork/-/studentSubmissions", "studentSubmissions", userId=email
        )
        returned = await pages(
            http,
            f"/v1/courses/{course}/courseWork/-/studentSubmissions",
            "studentSubmissions",
            states="RETURNED",
        )
        late = await pages(
            http,
            f"/v1/courses/{course}/courseWork/-/studentSubmissions",
            "studentSubmissions",
            late="LATE_ONLY",
        )
        bad_state = await http.get("/v1/courses", params={"courseStates": "OPEN"}, headers=AUTH)
    assert [c["id"] for c in by_email] == [c["id"] for c in by_id] and course in {c["id"] for c in by_id}
    assert both.status_code == 400 and bad_state.status_code == 400
    assert mine and {s["userId"] for s in mine} == {student["userId"]}
    assert returned and {s["state"] for s in returned} == {"RETURNED"}
    assert all(s.get("late") is True for s in late)


async def test_429_and_classroom_api_disabled_in_googles_envelope(district: Path) -> None:
    app, state = simulator(district, rate_limit_per_second=1, clock=lambda: 0.0)
    async with client(app) as http:
        await http.get("/v1/courses", headers=AUTH)
        throttled = await http.get("/v1/courses", headers=AUTH)
    error = throttled.json()["error"]
    assert throttled.status_code == 429 and error["status"] == "RESOURCE_EXHAUSTED" and error["code"] == 429
    assert "Retry-After" not in throttled.headers

    student = sorted(state.district.guardians)[0]
    app, _ = simulator(district, api_disabled_user=student)
    async with client(app) as http:
        disabled = await http.get(f"/v1/userProfiles/{student}/guardians", headers=AUTH)
    error = disabled.json()["error"]
    assert disabled.status_code == 403 and error["status"] == "PERMISSION_DENIED"
    assert error["message"].startswith("@ClassroomApiDisabled")
    assert error["details"][0]["reason"] == "ClassroomApiDisabled"


def test_the_district_keeps_its_people_and_gets_classroom_ids(district: Path) -> None:
    _, state = simulator(district)
    d = state.district
    with (district / "users.csv").open(encoding="utf-8", newline="") as stream:
        users = {row["sourcedId"]: row for row in csv.DictReader(stream)}
    assert set(d.user_ids) == set(users)
    assert all(uid.isdigit() and len(uid) == 21 for uid in d.user_ids.values())
    assert len(set(d.user_ids.values())) == len(users)
    assert all(c["id"].isdigit() and c["id"] not in users for c in d.courses)
    # Identity across sources is the e-mail address: every user keeps theirs.
    assert {d.user_ids[s]: u["email"] for s, u in users.items() if u["email"]} == d.emails
    profiles = [m["profile"] for roster in d.students.values() for m in roster]
    assert profiles and all(p["emailAddress"] == d.emails[p["id"]] for p in profiles)


def test_course_work_due_dates_are_split_in_utc(district: Path) -> None:
    _, state = simulator(district)
    work = next(w for works in state.district.course_work.values() for w in works)
    with (district / "lineItems.csv").open(encoding="utf-8", newline="") as stream:
        titles = {row["title"]: row for row in csv.DictReader(stream)}
    due = titles[work["title"]]["dueDate"]  # e.g. 2026-08-18T23:59:00Z
    date, clock = due[:10].split("-"), due[11:19].split(":")
    assert work["dueDate"] == {"year": int(date[0]), "month": int(date[1]), "day": int(date[2])}
    expected = {"hours": int(clock[0]), "minutes": int(clock[1]), "seconds": int(clock[2])}
    assert work["dueTime"] == {name: value for name, value in expected.items() if value}


@pytest.mark.parametrize("key", ["api_disabled_courses"])
def test_disabled_courses_may_be_named_by_class_sourced_id(district: Path, key: str) -> None:
    _, plain = simulator(district)
    sourced_id, course = next(iter(plain.district.course_ids.items()))
    _, state = simulator(district, **{key: (sourced_id,)})
    assert state.disabled_courses == {course}
