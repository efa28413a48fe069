"""The simulated Canvas: the district in Canvas's shape, its ids, auth, paging,
throttling and faults."""

from __future__ import annotations

import csv
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.canvas.simulator import SimulatorConfig
from hub.sdk.http import parse_link_header

from .conftest import SIM_BASE, simulator

API = "/api/v1"
TOKEN = SimulatorConfig().token


@asynccontextmanager
async def signed_in(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url=SIM_BASE, headers=headers) as client:
        yield client


def rows(district: Path, name: str) -> list[dict[str, str]]:
    with (district / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


async def test_the_token_is_checked(district: Path) -> None:
    app, state = simulator(district)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_BASE) as client:
        anonymous = await client.get(f"{API}/accounts/self")
        forged = await client.get(f"{API}/accounts/self", headers={"Authorization": "Bearer made-up"})
        good = await client.get(f"{API}/accounts/self", headers={"Authorization": f"Bearer {TOKEN}"})
        state.change_token("rotated")
        stale = await client.get(f"{API}/accounts/self", headers={"Authorization": f"Bearer {TOKEN}"})
    assert anonymous.status_code == forged.status_code == stale.status_code == 401
    assert anonymous.json()["errors"][0]["message"] == "user authorization required"
    assert forged.json() == {"errors": [{"message": "Invalid access token."}]}
    assert forged.headers["WWW-Authenticate"].startswith("Bearer")
    assert good.status_code == 200 and good.json()["sis_account_id"] == "org-district"


async def test_ids_are_canvas_numbers_and_sis_ids_the_sourced_ids(district: Path) -> None:
    app, _ = simulator(district)
    users = {row["sourcedId"]: row for row in rows(district, "users.csv")}
    async with signed_in(app) as client:
        students = (
            await client.get(f"{API}/accounts/self/users", params={"enrollment_type": "student"})
        ).json()
        student = students[0]
        by_sis = (await client.get(f"{API}/users/sis_user_id:{student['sis_user_id']}")).json()
        course = (await client.get(f"{API}/accounts/1/courses", params={"include[]": "term"})).json()[0]
        section = (
            await client.get(f"{API}/courses/sis_course_id:{course['sis_course_id']}/sections")
        ).json()[0]
    assert isinstance(student["id"], int) and str(student["id"]) not in users
    assert student["sis_user_id"] in users and by_sis == student
    assert "email" not in student  # only with include[]=email
    row = users[student["sis_user_id"]]
    assert (student["first_name"], student["last_name"], student["login_id"]) == (
        row["givenName"],
        row["familyName"],
        row["username"],
    )
    assert course["sis_course_id"] == "crs-01-hr-kg" and course["term"]["sis_term_id"] == "sy2027"
    assert section["sis_section_id"] == "cls-01-hr-kg-01" and section["course_id"] == course["id"]


async def test_collections_page_by_link_header_honouring_per_page(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        default = await client.get(f"{API}/accounts/self/courses")
        capped = await client.get(f"{API}/accounts/self/courses", params={"per_page": 500})
        first = await client.get(f"{API}/accounts/self/courses", params={"per_page": 40})
        links = parse_link_header(first.headers["Link"])
        second = await client.get(links["next"])
        last = await client.get(links["last"])
        users = await client.get(f"{API}/accounts/self/users", params={"per_page": 50})
        terms = await client.get(f"{API}/accounts/self/terms", params={"per_page": 2})
    assert len(default.json()) == 10 and len(capped.json()) == 85
    assert set(links) == {"current", "next", "first", "last"}
    assert "page=2" in links["next"] and "per_page=40" in links["next"]
    assert [len(r.json()) for r in (first, second, last)] == [40, 40, 5]
    assert "prev" in parse_link_header(second.headers["Link"])
    assert "next" not in parse_link_header(last.headers["Link"])
    assert "last" not in parse_link_header(users.headers["Link"])  # counting users is "expensive"
    assert list(terms.json()) == ["enrollment_terms"] and len(terms.json()["enrollment_terms"]) == 2


async def test_enrollments_by_type_and_state(district: Path) -> None:
    app, state = simulator(district)
    section = state.district.sections[0]["id"]
    async with signed_in(app) as client:
        default = (await client.get(f"{API}/sections/{section}/enrollments", params={"per_page": 100})).json()
        students = (
            await client.get(
                f"{API}/sections/{section}/enrollments",
                params=[("type[]", "StudentEnrollment"), ("per_page", "100")],
            )
        ).json()
    assert {e["type"] for e in default} == {"StudentEnrollment", "TeacherEnrollment", "ObserverEnrollment"}
    assert {e["type"] for e in students} == {"StudentEnrollment"}
    assert all(e["enrollment_state"] in ("active", "invited") for e in default)
    assert all("current_score" in e["grades"] for e in students)


def test_the_district_in_canvas_shape_mirrors_the_csv_set(district: Path) -> None:
    _, state = simulator(district)
    d = state.district
    assert len(d.courses) == len(rows(district, "courses.csv"))
    assert len(d.sections) == len(rows(district, "classes.csv"))
    assert sum(len(s) for s in d.section_submissions.values()) == len(rows(district, "results.csv"))
    assert sum(len(a) for a in d.assignments.values()) == len(rows(district, "lineItems.csv"))
    graded = [e for e in d.enrollments if e.get("grades", {}).get("current_score") is not None]
    assert len(graded) == len(rows(district, "courseGrades.csv"))
    guardians = {
        r["userSourcedId"]
        for r in rows(district, "roles.csv")
        if r["role"] in ("parent", "guardian", "relative")
    }
    assert {d.by_id["user"][g]["sis_user_id"] for g in d.observees} <= guardians
    observers = [e for e in d.enrollments if e["type"] == "ObserverEnrollment"]
    assert observers and all(e["associated_user_id"] in d.observers for e in observers)
    shared = [a for course in d.assignments.values() for a in course if a["only_visible_to_overrides"]]
    assert shared and all(len(a["overrides"]) == 1 and a["due_at"] is None for a in shared)


async def test_the_bucket_drains_and_then_says_rate_limit_exceeded(district: Path) -> None:
    app, state = simulator(district, rate_limit_per_second=1, rate_limit_burst=3)
    async with signed_in(app) as client:
        answers = [await client.get(f"{API}/accounts/self") for _ in range(5)]
    # As Canvas: a request is refused only once the bucket is full, so the one
    # that finds it nearly full still runs and overdraws it (remaining < 0).
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 403]
    remaining = [float(a.headers["X-Rate-Limit-Remaining"]) for a in answers]
    assert remaining[0] > remaining[1] > remaining[2] > 0 > remaining[3]
    assert answers[4].text == "403 Forbidden (Rate Limit Exceeded)\n"
    assert answers[4].headers["content-type"].startswith("text/plain")
    assert float(answers[0].headers["X-Request-Cost"]) == pytest.approx(200.0)
    assert "X-Request-Cost" not in answers[4].headers
    assert state.throttled == 1


async def test_without_a_rate_limit_the_bucket_stays_full(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        answers = [await client.get(f"{API}/accounts/self") for _ in range(3)]
    assert {a.headers["X-Rate-Limit-Remaining"] for a in answers} == {"600.0"}


async def test_faults_on_chosen_paths(district: Path) -> None:
    options: dict[str, Any] = {
        "error_rate": 1.0,
        "error_status": 502,
        "fault_paths": ("/students/submissions",),
    }
    app, state = simulator(district, **options)
    section = state.district.sections[0]["id"]
    async with signed_in(app) as client:
        failing = await client.get(f"{API}/sections/{section}/students/submissions")
        fine = await client.get(f"{API}/sections/{section}/enrollments")
    assert failing.status_code == 502 and fine.status_code == 200
    app, state = simulator(district, truncate_rate=1.0, latency=0.05)
    async with signed_in(app) as client:
        started = time.monotonic()
        cut = await client.get(f"{API}/accounts/self/courses")
        elapsed = time.monotonic() - started
    assert elapsed >= 0.05
    with pytest.raises(ValueError):
        cut.json()


async def test_unknown_things_are_404_with_canvas_error_body(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        answers = [
            await client.get(f"{API}/courses/1"),
            await client.get(f"{API}/accounts/99/courses"),
            await client.get(f"{API}/users/sis_user_id:nobody/observees"),
            await client.get(f"{API}/sections/3001/assignments/1/submissions/1"),
        ]
    assert {a.status_code for a in answers} == {404}
    assert answers[0].json() == {"errors": [{"message": "The specified resource does not exist."}]}
