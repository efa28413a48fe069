"""End to end: the hub talks to the Ed-Fi simulator over loopback HTTP and
answers GraphQL exactly as it does over the CSV set of the same district.

Hub ids differ by source name and vendor id, so answers are compared with
every ``id`` removed. Fields Ed-Fi cannot carry the same way are not asked
(see the adapter's README notes: a guardian's identifier, an assignment's
time of assignment, a section's class type).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.edfi.simulator import SimulatorState
from hub.testing.server import serving
from tests.adapters.edfi.conftest import KEY_ENV, SECRET_ENV
from tests.adapters.edfi.hubs import hub_over
from tests.support import running_hub

SECTIONS = """
{ sections(first: 12) { totalCount edges { node {
    title classCode location periods subjects
    course { title courseCode grades subjects org { name } }
    school { name identifier type parent { name } }
    terms { title type startDate endDate schoolYear }
    teachers { givenName familyName email phone username identifier }
    assignments(first: 10) { edges { node { title description dueDate category pointsPossible
        scores(first: 40) { edges { node { score scoreStatus late missing submittedAt comment
            student { givenName familyName } } } } } } }
    students(first: 40) { totalCount edges { node {
        givenName familyName middleName preferredName email username identifier gradeLevel birthDate
        sex races hispanicOrLatino programs directoryOptOut school { name } } } }
} } } }
"""

TEACHER_STUDENTS = """
{ viewer { students(first: 100) { totalCount edges { node {
    givenName familyName email gradeLevel programs school { name }
    guardians { givenName familyName email phone relationship }
    scores(first: 50) { edges { node { score scoreStatus assignment { title } } } }
    courseGrades { letterGrade percent term { title type } section { title } }
    attendance { date status }
} } } } }
"""


def _strip(value: Any) -> Any:
    """The answer without hub ids, lists in a canonical order."""
    if isinstance(value, dict):
        return {key: _strip(item) for key, item in value.items() if key not in ("id", "cursor", "endCursor")}
    if isinstance(value, list):
        return sorted((_strip(item) for item in value), key=repr)
    return value


def _edfi_source(base_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "ods",
        "kind": "edfi",
        "base_url": base_url,
        "data_standard": "5",
        "key_env": KEY_ENV,
        "secret_env": SECRET_ENV,
        # The live path is what these tests compare (HTTP sources are mirrored by default).
        "mode": "live",
        **overrides,
    }


@pytest.fixture(scope="module")
def served_ds5(sim_ds5: Starlette) -> Iterator[str]:
    with serving(sim_ds5) as base:
        yield base


async def _answers(district: Path, base: str, query: str, persona: str, **source: Any) -> tuple[Any, Any]:
    async with running_hub(district) as csv_hub:
        expected = await csv_hub.query(query, persona=persona)
    async with hub_over(_edfi_source(base, **source)) as edfi_hub:
        assert edfi_hub.hub.registry.states["ods"].state == "UP"
        assert edfi_hub.personas[persona].sourced_id is not None
        got = await edfi_hub.query(query, persona=persona)
    return expected, got


async def test_district_admin_sections_match_the_csv_source(district: Path, served_ds5: str) -> None:
    expected, got = await _answers(district, served_ds5, SECTIONS, "district_admin")
    assert "errors" not in expected, expected.get("errors")
    assert "errors" not in got, got.get("errors")
    sections = got["data"]["sections"]["edges"]
    assert len(sections) == 12
    assert sum(len(s["node"]["students"]["edges"]) for s in sections) > 60
    assert _strip(got["data"]) == _strip(expected["data"])


async def test_teacher_sees_the_same_students_as_over_the_csv_source(district: Path, served_ds5: str) -> None:
    expected, got = await _answers(district, served_ds5, TEACHER_STUDENTS, "teacher")
    assert "errors" not in expected, expected.get("errors")
    assert "errors" not in got, got.get("errors")
    students = got["data"]["viewer"]["students"]
    assert len(students["edges"]) > 5
    assert any(edge["node"]["guardians"] for edge in students["edges"])
    assert _strip(got["data"]) == _strip(expected["data"])


async def test_data_standard_4_serves_the_same_guardians(district: Path, sim_ds4: Starlette) -> None:
    query = """{ viewer { students(first: 100) { edges { node {
        givenName guardians { givenName relationship } } } } } }"""
    with serving(sim_ds4) as base:
        expected, got = await _answers(district, base, query, "teacher", data_standard="4")
    assert "errors" not in got, got.get("errors")
    assert _strip(got["data"]) == _strip(expected["data"])


@contextmanager
def faults(app: Starlette, **changes: Any) -> Iterator[SimulatorState]:
    """The shared simulator with ``changes`` to its config for the block."""
    state: SimulatorState = app.state.simulator
    original = state.config
    state.config = replace(original, **changes)
    try:
        yield state
    finally:
        state.config = original


async def test_failing_collection_gives_a_partial_answer_naming_the_source(
    sim_ds5: Starlette, served_ds5: str
) -> None:
    query = """{ sections(first: 3) { edges { node { title assignments(first: 2) { edges { node {
        title scores(first: 5) { edges { node { score } } } } } } } } } }"""
    async with hub_over(_edfi_source(served_ds5, retries=1, total_timeout=5)) as edfi_hub:
        failing = ("/data/v3/ed-fi/studentGradebookEntries",)
        with faults(sim_ds5, error_rate=1.0, error_status=503, fault_paths=failing) as state:
            before = state.requests_to("studentGradebookEntries")
            started = time.monotonic()
            answer = await edfi_hub.query(query, persona="district_admin")
            elapsed = time.monotonic() - started
            tries = state.requests_to("studentGradebookEntries") - before
    assert elapsed < 5
    sections = answer["data"]["sections"]["edges"]
    assert [s["node"]["title"] for s in sections]
    assert all(s["node"]["assignments"]["edges"] for s in sections)
    errors = answer["errors"]
    assert errors[0]["extensions"] == {"code": "SOURCE_UNAVAILABLE", "source": "ods"}
    assert "source 'ods'" in errors[0]["message"] and "503" in errors[0]["message"]
    assert tries >= 2  # the first attempt and one retry


async def test_slow_collection_gives_up_within_the_total_timeout(sim_ds5: Starlette, served_ds5: str) -> None:
    query = """{ sections(first: 2) { edges { node { title
        students(first: 5) { edges { node { givenName } } } } } } }"""
    source = _edfi_source(served_ds5, retries=0, total_timeout=1, read_timeout=0.5)
    async with hub_over(source) as edfi_hub:
        # Slow from now on (the hub's start-up reads enrolments to pick its personas).
        slow = ("/data/v3/ed-fi/studentSectionAssociations",)
        with faults(sim_ds5, latency=1.6, fault_paths=slow):
            started = time.monotonic()
            answer = await edfi_hub.query(query, persona="district_admin")
            elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert [s["node"]["title"] for s in answer["data"]["sections"]["edges"]]
    assert answer["errors"][0]["extensions"]["source"] == "ods"
    assert answer["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
