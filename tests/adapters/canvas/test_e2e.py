"""End to end over loopback HTTP: a hub whose one source is the simulated
Canvas answers "sections, their students, and the students' scores and
course grades" exactly as the generated district says (its CSV files, read
here directly). Beside the OneRoster SIS it syncs from, Canvas records merge
with the SIS's on the keys of the issue (sis_user_id, sis_section_id,
course_code), so a teacher's dashboard shows SIS rosters with LMS scores. A
failing or slow Canvas gives a partial answer with an error naming it.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.canvas.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.model import Entity
from hub.testing.server import serving

from .hubs import canvas_hub, canvas_table

SECTIONS = """
query($after: String) { sections(first: 50, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node {
    title classCode
    students(first: 100, includeInactive: true) { edges { node {
      identifier givenName familyName
      courseGrades { letterGrade percent section { classCode } }
    } } }
    assignments(first: 100) { edges { node {
      title pointsPossible dueDate
      scores(first: 100) { edges { node {
        score scoreStatus late missing submittedAt comment student { identifier }
      } } }
    } } }
  } }
} }
"""
STATUS = {
    "fully graded": "FULLY_GRADED",
    "partially graded": "PARTIALLY_GRADED",
    "submitted": "SUBMITTED",
    "not submitted": "NOT_SUBMITTED",
    "exempt": "EXEMPT",
}
HANDED_IN = frozenset({"FULLY_GRADED", "PARTIALLY_GRADED", "SUBMITTED"})

Row = tuple[Any, ...]


def rows(district: Path, name: str) -> list[dict[str, str]]:
    with (district / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    found = dt.datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


def ground_truth(district: Path) -> dict[str, Any]:
    """class sourcedId -> title, students (sourcedId -> names, course grades) and
    assignments (title -> points, due date, scores), from the CSV files."""
    users = {row["sourcedId"]: row for row in rows(district, "users.csv")}
    truth: dict[str, Any] = {
        row["sourcedId"]: {"title": row["title"], "students": {}, "assignments": {}}
        for row in rows(district, "classes.csv")
    }
    grades: dict[str, list[Row]] = defaultdict(list)
    for row in rows(district, "courseGrades.csv"):
        grades[row["studentSourcedId"]].append(
            (row["letterGrade"], float(row["percent"]), row["classSourcedId"])
        )
    for row in rows(district, "enrollments.csv"):
        if row["role"] == "student":
            student = users[row["userSourcedId"]]
            truth[row["classSourcedId"]]["students"][row["userSourcedId"]] = {
                "names": (student["givenName"], student["familyName"]),
                "grades": sorted(grades[row["userSourcedId"]], key=repr),
            }
    items: dict[str, dict[str, Any]] = {}
    for row in rows(district, "lineItems.csv"):
        items[row["sourcedId"]] = {
            "points": float(row["resultValueMax"]),
            "due": when(row["dueDate"]),
            "scores": [],
        }
        truth[row["classSourcedId"]]["assignments"][row["title"]] = items[row["sourcedId"]]
    for row in rows(district, "results.csv"):
        status = STATUS[row["scoreStatus"]]
        items[row["lineItemSourcedId"]]["scores"].append(
            (
                row["studentSourcedId"],
                float(row["score"]) if row["score"] else None,
                status,
                row["late"] == "true",
                row["missing"] == "true",
                # Canvas's submitted_at is when work was handed in: none for missing or excused work.
                when(row["scoreDate"]) if status in HANDED_IN else None,
                row["comment"] or None,
            )
        )
    for item in items.values():
        item["scores"].sort(key=repr)
    return truth


def answer_as_truth(sections: list[dict[str, Any]]) -> dict[str, Any]:
    """The GraphQL answer in the shape of :func:`ground_truth`."""
    found: dict[str, Any] = {}
    for section in (edge["node"] for edge in sections):
        students = {
            student["identifier"]: {
                "names": (student["givenName"], student["familyName"]),
                "grades": sorted(
                    (
                        (g["letterGrade"], g["percent"], g["section"]["classCode"])
                        for g in student["courseGrades"]
                    ),
                    key=repr,
                ),
            }
            for student in (e["node"] for e in section["students"]["edges"])
        }
        assignments = {
            a["title"]: {
                "points": a["pointsPossible"],
                "due": when(a["dueDate"]),
                "scores": sorted(
                    (
                        (
                            s["student"]["identifier"],
                            s["score"],
                            s["scoreStatus"],
                            s["late"],
                            s["missing"],
                            when(s["submittedAt"]),
                            s["comment"],
                        )
                        for s in (e["node"] for e in a["scores"]["edges"])
                    ),
                    key=repr,
                ),
            }
            for a in (e["node"] for e in section["assignments"]["edges"])
        }
        found[section["classCode"]] = {
            "title": section["title"],
            "students": students,
            "assignments": assignments,
        }
    return found


@pytest.fixture(scope="module")
def fast_switching() -> Iterator[None]:
    # The simulator runs in a thread of this process: hand the GIL over more
    # often than every 5 ms, or each loopback request waits for it.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture(scope="module")
def canvas_app(district: Path) -> Starlette:
    return create_simulator(district, SimulatorConfig())


@pytest.fixture(scope="module")
def canvas_url(canvas_app: Starlette, fast_switching: None) -> Iterator[str]:
    with serving(canvas_app) as base_url:
        yield base_url


async def test_sections_students_and_scores_equal_the_ground_truth(district: Path, canvas_url: str) -> None:
    async with canvas_hub(canvas_table(canvas_url), personas=False) as hub:
        assert hub.hub.registry.states["lms"].state == "UP"
        sections: list[dict[str, Any]] = []
        after = None
        while True:  # three pages of sections: the adapter's cursors through the hub's
            body = await hub.query(SECTIONS, persona="district_admin", variables={"after": after})
            assert body["_status"] == 200 and "errors" not in body, body.get("errors")
            page = body["data"]["sections"]
            sections.extend(page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    got, expected = answer_as_truth(sections), ground_truth(district)
    assert len(sections) == len(expected) == 91
    # Not trivially equal: students in every section, scores of every kind.
    scores = [s for section in got.values() for a in section["assignments"].values() for s in a["scores"]]
    assert {s[2] for s in scores} == set(STATUS.values())
    assert len(scores) == len(rows(district, "results.csv"))
    assert sum(len(section["students"]) for section in got.values()) > 600
    for class_id, section in expected.items():
        assert got[class_id] == section, class_id


async def test_with_the_sis_a_teacher_sees_sis_rosters_with_canvas_scores(
    district: Path, canvas_url: str
) -> None:
    sis = {"name": "sis", "kind": "oneroster-csv", "path": str(district)}
    identity = {"primary": "sis", "match": [{"source": "lms"}]}
    query = """{ viewer { sections { edges { node { sources { source vendorId }
        students(first: 100, includeInactive: true) { edges { node { sources { source vendorId }
            scores(first: 200) { edges { node { score scoreStatus assignment { title } } } }
        } } } } } } } }"""
    async with canvas_hub(sis, canvas_table(canvas_url), identity=identity) as hub:
        assert not hub.hub.identity.ambiguities, [str(a) for a in hub.hub.identity.ambiguities]
        hub.hub.registry.record_requests = True
        body = await hub.query(query, persona="teacher")
        asked = {(source, request.entity) for source, request in hub.hub.registry.requests}
    assert "errors" not in body, body.get("errors")
    titles = {row["sourcedId"]: row["title"] for row in rows(district, "lineItems.csv")}
    truth = ground_truth(district)
    sections = [e["node"] for e in body["data"]["viewer"]["sections"]["edges"]]
    assert sections
    # A teacher sees a student's scores in the sections they teach.
    taught = {sis_id(section) for section in sections}
    results: dict[str, list[Row]] = defaultdict(list)
    for row in rows(district, "results.csv"):
        if row["classSourcedId"] in taught:
            score = float(row["score"]) if row["score"] else None
            title = titles[row["lineItemSourcedId"]]
            results[row["studentSourcedId"]].append((title, score, STATUS[row["scoreStatus"]]))
    for section in sections:
        # The SIS's section, merged with Canvas's (sis_section_id = the class's sourcedId).
        class_id = sis_id(section)
        students = [e["node"] for e in section["students"]["edges"]]
        assert {sis_id(s) for s in students} == set(truth[class_id]["students"])
        for student in students:
            nodes = (e["node"] for e in student["scores"]["edges"])
            scores = [(s["assignment"]["title"], s["score"], s["scoreStatus"]) for s in nodes]
            assert sorted(scores, key=repr) == sorted(results[sis_id(student)], key=repr)
    # The gradebook came from Canvas (the hub's default lms_entities).
    assert ("lms", Entity.SCORE) in asked and ("sis", Entity.SCORE) not in asked


def sis_id(node: dict[str, Any]) -> str:
    """The SIS's vendor id of a record merged from the SIS and Canvas."""
    sources: dict[str, str] = {ref["source"]: ref["vendorId"] for ref in node["sources"]}
    assert set(sources) == {"sis", "lms"}, sources
    return sources["sis"]


def _source_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in body.get("errors", ()) if e.get("extensions", {}).get("source") == "lms"]


SCORES = """{ sections(first: 3) { edges { node { title
    students(first: 5) { edges { node {
        givenName scores(first: 3) { edges { node { score } } }
    } } } } } } }"""


async def test_failing_submissions_give_a_partial_answer_naming_the_source(
    canvas_app: Starlette, canvas_url: str
) -> None:
    state: SimulatorState = canvas_app.state.simulator
    table = canvas_table(canvas_url, retries=1, backoff_base=0.05, backoff_max=0.1, total_timeout=5)
    async with canvas_hub(table, personas=False) as hub:
        original = state.config
        state.config = replace(
            original, error_rate=1.0, error_status=503, fault_paths=("/students/submissions",)
        )
        try:
            started = time.monotonic()
            body = await hub.query(SCORES, persona="district_admin")
            elapsed = time.monotonic() - started
        finally:
            state.config = original
    assert body["_status"] == 200 and elapsed < 5
    students = [s["node"] for e in body["data"]["sections"]["edges"] for s in e["node"]["students"]["edges"]]
    assert students and all(s["givenName"] and s["scores"]["edges"] == [] for s in students)
    (error,) = _source_errors(body)
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert error["message"].startswith("source 'lms': ")
    assert "submissions answered 503: simulated failure" in error["message"]


async def test_a_slow_canvas_is_cut_off_at_the_total_timeout(canvas_app: Starlette, canvas_url: str) -> None:
    state: SimulatorState = canvas_app.state.simulator
    table = canvas_table(canvas_url, total_timeout=0.5, read_timeout=10)
    async with canvas_hub(table, personas=False) as hub:
        original = state.config
        state.config = replace(original, latency=2.0, fault_paths=("/students/submissions",))
        try:
            started = time.monotonic()
            body = await hub.query(SCORES, persona="district_admin")
            elapsed = time.monotonic() - started
        finally:
            state.config = original
    assert body["_status"] == 200 and elapsed < 1.5
    assert len(body["data"]["sections"]["edges"]) == 3
    (error,) = _source_errors(body)
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert "within 0.5 s (total_timeout)" in error["message"]


async def test_a_wrong_token_leaves_the_source_down_with_a_clear_reason(
    canvas_app: Starlette, canvas_url: str
) -> None:
    state: SimulatorState = canvas_app.state.simulator
    state.change_token("rotated-token")
    try:
        async with canvas_hub(canvas_table(canvas_url), personas=False) as hub:
            health = (await hub.client.get("/healthz")).json()
            body = await hub.query(
                "{ sections(first: 1) { edges { node { title } } } }", persona="district_admin"
            )
    finally:
        state.change_token(SimulatorConfig().token)
    assert health["sources"]["lms"]["state"] != "UP"
    assert "HOMEROOM_TEST_CANVAS_TOKEN" in health["sources"]["lms"]["error"]
    assert SimulatorConfig().token not in str(health) + str(body)
    (error,) = _source_errors(body)
    assert error["extensions"]["code"] == "SOURCE_AUTH_FAILED"
