"""End to end over real loopback HTTP: a hub whose source is the simulated
OneRoster 1.2 provider answers GraphQL exactly as a hub over the same
district's CSV set; a failing or slow provider gives a partial answer with
an error naming the source, within the configured timeout."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.oneroster_rest.simulator import SimulatorConfig, create_simulator
from hub.testing.server import serving
from tests.support import make_district, running_hub

from .hubs import rest_hub, rest_source

DISTRICT_QUERY = """
{
  schools { id name type identifier parent { name } children { name } }
  students(first: 40) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id givenName familyName middleName preferredName email username identifier
      gradeLevel birthDate sex races hispanicOrLatino programs directoryOptOut
      school { id name }
      guardians { id givenName familyName email phone relationship }
      sections(first: 20) { totalCount edges { node {
        id title classCode classType location periods subjects
        course { title courseCode grades subjects org { name } }
        terms { title type startDate endDate schoolYear parent { title } }
        teachers { givenName familyName email phone }
      } } }
      scores(first: 8) { totalCount edges { node {
        score scoreStatus late missing submittedAt comment
        assignment { title description category pointsPossible assignDate dueDate }
      } } }
      courseGrades { letterGrade percent term { title } section { classCode } }
      attendance { date status school { name } }
    } }
  }
}
"""

TEACHER_QUERY = """
{
  viewer {
    roles
    person { id givenName familyName ... on Teacher { email phone schools { name } } }
    sections { totalCount edges { node {
      id title classCode
      students(first: 50) { totalCount edges { node { id givenName familyName } } }
      assignments(first: 10) { totalCount edges { node { title category pointsPossible dueDate } } }
    } } }
    students(first: 60) { totalCount edges { node {
      id givenName familyName preferredName email gradeLevel programs school { name }
      guardians { givenName familyName email phone relationship }
      scores(first: 10) { edges { node { score scoreStatus late missing assignment { title } } } }
      courseGrades { letterGrade percent }
      attendance { date status }
    } } }
  }
}
"""

PRINCIPAL_QUERY = """
{
  viewer { students(first: 30) { totalCount pageInfo { hasNextPage } edges { node {
    id givenName familyName gradeLevel programs birthDate guardians { email relationship }
  } } } }
  students(first: 20, filter: {search: "an"}) { edges { node { id givenName familyName } } }
}
"""

SCORES_QUERY = """
{ students(first: 5) { edges { node { givenName scores(first: 3) { edges { node { score } } } } } } }
"""


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("or-rest-e2e"), 150)


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


async def answers(query: str, persona: str, running: Any) -> dict[str, Any]:
    body = await running.query(query, persona=persona)
    assert body["_status"] == 200
    assert "errors" not in body, body.get("errors")
    return body


async def test_the_rest_source_answers_as_the_csv_source(district: Path, provider: str) -> None:
    queries = {"district_admin": DISTRICT_QUERY, "teacher": TEACHER_QUERY, "principal": PRINCIPAL_QUERY}
    async with running_hub(district) as csv_hub:
        expected = {persona: await answers(query, persona, csv_hub) for persona, query in queries.items()}
        csv_personas = csv_hub.personas
    async with rest_hub(rest_source(provider)) as hub:
        # The same people act as the personas compared (the guardian's first
        # child, and so the student persona, may differ: see Guardian.student_ids).
        assert {name: hub.personas[name] for name in queries} == {
            name: csv_personas[name] for name in queries
        }
        got = {persona: await answers(query, persona, hub) for persona, query in queries.items()}
    for persona in queries:
        assert got[persona] == expected[persona], first_difference(got[persona], expected[persona])
    # And not trivially so: a full page of students, and a teacher with students.
    assert len(expected["district_admin"]["data"]["students"]["edges"]) == 40
    assert expected["teacher"]["data"]["viewer"]["students"]["edges"]
    assert len(expected["principal"]["data"]["viewer"]["students"]["edges"]) == 30
    assert expected["principal"]["data"]["students"]["edges"]


async def test_a_second_page_continues_where_the_first_ended(district: Path, provider: str) -> None:
    query = """query($after: String) {
      students(first: 70, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } }
    }"""
    async with running_hub(district) as csv_hub:
        ids_csv = await _all_ids(csv_hub, query)
    async with rest_hub(rest_source(provider)) as hub:
        ids_rest = await _all_ids(hub, query)
    assert ids_rest == ids_csv and len(ids_rest) == 150


async def _all_ids(running: Any, query: str) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        body = await running.query(query, persona="district_admin", variables={"after": after})
        page = body["data"]["students"]
        ids.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def _source_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in body.get("errors", ()) if e.get("extensions", {}).get("source") == "sis"]


async def test_a_failing_gradebook_gives_partial_data_and_an_error(
    district: Path, fast_switching: None
) -> None:
    faults = SimulatorConfig(error_rate=1.0, error_status=503, fault_paths=("/ims/oneroster/gradebook",))
    with serving(create_simulator(district, faults)) as base_url:
        async with rest_hub(rest_source(base_url, total_timeout=5, retries=1, backoff_base=0.05)) as hub:
            started = time.monotonic()
            body = await hub.query(SCORES_QUERY, persona="district_admin")
            elapsed = time.monotonic() - started
    assert body["_status"] == 200
    students = body["data"]["students"]["edges"]
    assert [edge["node"]["givenName"] for edge in students] and all(
        edge["node"]["scores"]["edges"] == [] for edge in students
    )
    (error,) = _source_errors(body)
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert error["message"].startswith("source 'sis': ")
    assert "results answered 503" in error["message"] and "server_busy" in error["message"]
    assert elapsed < 5


async def test_a_slow_gradebook_is_cut_off_at_the_total_timeout(district: Path, fast_switching: None) -> None:
    slow = SimulatorConfig(latency=2.0, fault_paths=("/ims/oneroster/gradebook",))
    with serving(create_simulator(district, slow)) as base_url:
        async with rest_hub(rest_source(base_url, total_timeout=0.5, read_timeout=10)) as hub:
            started = time.monotonic()
            body = await hub.query(SCORES_QUERY, persona="district_admin")
            elapsed = time.monotonic() - started
    assert body["_status"] == 200
    assert len(body["data"]["students"]["edges"]) == 5
    (error,) = _source_errors(body)
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert "within 0.5 s (total_timeout)" in error["message"]
    assert elapsed < 1.5


async def test_wrong_credentials_leave_the_source_down_with_a_clear_reason(
    district: Path, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEROOM_TEST_OR_CLIENT_SECRET", "not-the-secret")
    async with rest_hub(rest_source(provider)) as hub:
        health = (await hub.client.get("/healthz")).json()
        body = await hub.query("{ students(first: 1) { edges { node { id } } } }", persona="district_admin")
    assert health["sources"]["sis"]["state"] != "UP"
    assert "invalid_client" in health["sources"]["sis"]["error"]
    assert "not-the-secret" not in str(health) + str(body)
    assert body["_status"] == 200 and body["data"]["students"]["edges"] == []
    (error,) = _source_errors(body)
    assert error["extensions"]["code"] == "SOURCE_AUTH_FAILED"


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for key in a.keys() | b.keys():
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}: {str(a)[:300]} / {str(b)[:300]}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
    elif a != b:
        return f"{path}: {a!r} != {b!r}"
    return None
