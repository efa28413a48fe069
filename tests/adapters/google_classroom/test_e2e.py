"""End to end over real loopback HTTP: a hub whose source is the simulated
Classroom answers GraphQL as the generated district's ground truth says; a
hub over the SIS and Classroom makes each person and section one record
(matched on e-mail and the course's SIS alias) with Classroom's gradebook;
a failing Classroom gives a partial answer with an error naming the source."""

from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.google_classroom.simulator import SimulatorConfig, create_simulator
from hub.testing.server import serving

from .hubs import classroom_hub, classroom_source
from .truth import ground_truth

SECTIONS = """
{
  sections(first: 200) {
    totalCount
    pageInfo { hasNextPage }
    edges { node {
      title location
      students(first: 100) { edges { node { email givenName familyName } } }
      assignments(first: 100) { edges { node {
        title pointsPossible dueDate assignDate category
        scores(first: 200) { edges { node { score scoreStatus late submittedAt student { email } } } }
      } } }
    } }
  }
}
"""

DASHBOARD = """{ viewer { sections { edges { node { title sources { source vendorId }
  students { edges { node { id email sources { source vendorId }
    scores(first: 500) { edges { node { score scoreStatus assignment { title section { title } }
      sources { source } } } } } } } } } } } }"""


@pytest.fixture(scope="module")
def fast_switching() -> Iterator[None]:
    # The simulator runs in a thread of this process: hand the GIL over more
    # often than every 5 ms, or each loopback request waits for it.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture(scope="module")
def provider(district: Path, fast_switching: None) -> Iterator[str]:
    with serving(create_simulator(district)) as base_url:
        yield base_url


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _section_answer(node: dict[str, Any]) -> dict[str, Any]:
    students = sorted(
        (s["node"]["email"], s["node"]["givenName"], s["node"]["familyName"])
        for s in node["students"]["edges"]
    )
    assignments = {}
    for edge in node["assignments"]["edges"]:
        work = edge["node"]
        scores = sorted(
            (
                s["node"]["student"]["email"],
                s["node"]["score"],
                s["node"]["scoreStatus"],
                s["node"]["late"],
                s["node"]["submittedAt"][:10] if s["node"]["submittedAt"] else None,
            )
            for s in work["scores"]["edges"]
        )
        assignments[work["title"]] = {
            "pointsPossible": work["pointsPossible"],
            "dueDate": _when(work["dueDate"]),
            "assignDate": _when(work["assignDate"]),
            "category": work["category"],
            "scores": scores,
        }
    return {"location": node["location"], "students": students, "assignments": assignments}


async def test_sections_students_and_scores_equal_the_ground_truth(district: Path, provider: str) -> None:
    truth = ground_truth(district)
    async with classroom_hub([classroom_source(provider)]) as hub:
        body = await hub.query(SECTIONS, persona="district_admin")
    assert body["_status"] == 200 and "errors" not in body, body.get("errors")
    sections = body["data"]["sections"]
    assert sections["totalCount"] == len(truth) and not sections["pageInfo"]["hasNextPage"]
    got = {edge["node"]["title"]: _section_answer(edge["node"]) for edge in sections["edges"]}
    assert set(got) == set(truth)
    for title, expected in truth.items():
        assert got[title] == expected, title
    # Not trivially so: rosters, every status, late work and a lot of scores.
    scores = [s for t in truth.values() for a in t["assignments"].values() for s in a["scores"]]
    assert len(scores) > 3000 and {s[2] for s in scores} == {
        "FULLY_GRADED",
        "PARTIALLY_GRADED",
        "SUBMITTED",
        "NOT_SUBMITTED",
    }
    assert any(s[3] for s in scores) and sum(len(t["students"]) for t in truth.values()) > 700


async def test_the_sis_and_classroom_make_one_record_per_person_and_section(
    district: Path, provider: str
) -> None:
    truth = ground_truth(district)
    tables = [{"name": "sis", "kind": "oneroster-csv", "path": str(district)}, classroom_source(provider)]
    async with classroom_hub(tables, identity={"primary": "sis", "match": [{"source": "lms"}]}) as hub:
        identity = hub.hub.identity
        body = await hub.query(DASHBOARD, persona="teacher")
    assert not identity.ambiguities, identity.ambiguities[:3]
    assert "errors" not in body, body.get("errors")
    sections = body["data"]["viewer"]["sections"]["edges"]
    assert sections
    expected: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    seen = 0
    for section in sections:
        node = section["node"]
        # The SIS section and the Classroom course are one record (the course's alias is its class id).
        assert {ref["source"] for ref in node["sources"]} == {"sis", "lms"}
        for work_title, work in truth[node["title"]]["assignments"].items():
            for email, score, status, *_ in work["scores"]:
                expected[email].add((work_title, node["title"], score, status))
        for edge in node["students"]["edges"]:
            student = edge["node"]
            # One person in both sources: matched on the e-mail address.
            assert {ref["source"] for ref in student["sources"]} == {"sis", "lms"}
            got = {
                (
                    s["node"]["assignment"]["title"],
                    s["node"]["assignment"]["section"]["title"],
                    s["node"]["score"],
                    s["node"]["scoreStatus"],
                )
                for s in student["scores"]["edges"]
            }
            # Scores come from Classroom, for the sections this teacher teaches.
            assert all(s["node"]["sources"][0]["source"] == "lms" for s in student["scores"]["edges"])
            assert got == expected[student["email"]], student["email"]
            seen += 1
    assert seen >= 10


async def test_a_failing_classroom_gives_partial_data_and_an_error_naming_it(
    district: Path, fast_switching: None
) -> None:
    faults = SimulatorConfig(error_rate=1.0, error_status=503, fault_paths=("studentSubmissions",))
    query = """{ sections(first: 3) { edges { node { title
      assignments(first: 2) { edges { node { title scores { edges { node { score } } } } } } } } } }"""
    with serving(create_simulator(district, faults)) as base_url:
        source = classroom_source(base_url, total_timeout=5, retries=1, backoff_base=0.05)
        async with classroom_hub([source]) as hub:
            body = await hub.query(query, persona="district_admin")
    assert body["_status"] == 200
    sections = body["data"]["sections"]["edges"]
    assert len(sections) == 3
    works = [w["node"] for s in sections for w in s["node"]["assignments"]["edges"]]
    assert works and all(w["title"] and w["scores"]["edges"] == [] for w in works)
    errors = [e for e in body["errors"] if e.get("extensions", {}).get("source") == "lms"]
    assert errors, body["errors"]
    assert errors[0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert errors[0]["message"].startswith("source 'lms': ")
    assert "studentSubmissions answered 503" in errors[0]["message"]
