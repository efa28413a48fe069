"""Real Canvas payloads (``../shared/data/canvas/``) replayed through the adapter with respx.

The canvasapi fixture collections hold ``{name: {method, endpoint, data,
status_code, headers?}}`` with endpoints under ``https://example.com/api/v1/``;
each GET fixture is served at its endpoint, page links and all. The adapter
reads them as it would read Canvas, and the mapped records are checked field
by field, quirks included (ids as numbers or strings, objects missing most
fields, a ``next`` link to another path, a typo'd ``assignments_id``).
Skipped when the shared folder is absent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapters.canvas import CAPABILITIES, CanvasAdapter
from hub.sdk import (
    AcademicSession,
    Assignment,
    Course,
    Enrollment,
    Entity,
    FetchRequest,
    Guardian,
    Record,
    Score,
    Section,
)
from tests.conftest import shared_path

from .conftest import canvas_config

BASE = "https://example.com"
API = f"{BASE}/api/v1/"
UTC = dt.UTC


def fixture_collections() -> dict[str, dict[str, Any]]:
    folder = shared_path("data", "canvas")
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("canvasapi_*.json")):
        for name, fixture in json.loads(path.read_text(encoding="utf-8")).items():
            if isinstance(fixture, dict) and fixture.get("method") in ("GET", "ANY"):
                found[f"{path.stem}:{name}"] = fixture
    return found


def live_submission() -> dict[str, Any]:
    path = shared_path("data", "canvas", "edfi-lms-toolkit_submission.live.data.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def served() -> dict[tuple[str, str], dict[str, Any]]:
    """Every GET fixture by (endpoint path, its query): the first fixture of an endpoint wins."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for fixture in fixture_collections().values():
        path, _, query = fixture["endpoint"].partition("?")
        found.setdefault((path, query), fixture)
    found[("sections/219/students/submissions", "")] = {"data": [live_submission()]}
    found[("accounts/1", "")] = {"data": {"id": 1, "name": "Test Account"}}
    return found


@pytest.fixture
def canvas(served: dict[tuple[str, str], dict[str, Any]]) -> Iterator[respx.MockRouter]:
    """Canvas at https://example.com answering with the fixtures; anything else is its 404.

    A first page is served whatever its query (``per_page``, ``include[]``...);
    a later page only at the exact query its ``next`` link names.
    """

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1/")
        query = request.url.query.decode()
        fixture = served.get((path, query)) or served.get((path, ""))
        if fixture is None or ("page" in request.url.params and (path, query) not in served):
            return httpx.Response(
                404, json={"errors": [{"message": "The specified resource does not exist."}]}
            )
        headers = fixture.get("headers") or {}
        return httpx.Response(fixture.get("status_code") or 200, json=fixture["data"], headers=headers)

    with respx.mock(assert_all_called=False) as router:
        router.route(host="example.com").mock(side_effect=answer)
        yield router


async def fetch(request: FetchRequest) -> list[Record]:
    adapter = CanvasAdapter(
        canvas_config(BASE, account_id="1"), transport=httpx.AsyncHTTPTransport(verify=False)
    )
    try:
        await adapter.open()
        return list((await adapter.fetch(request)).records)
    finally:
        await adapter.aclose()


def everything(entity: Entity, **kwargs: Any) -> FetchRequest:
    """Every served field, links to other people aside (their lists are not in the fixtures)."""
    return FetchRequest(
        entity, CAPABILITIES.entities[entity].fields - {"guardian_ids", "student_ids"}, **kwargs
    )


async def test_enrollment_terms(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.ACADEMIC_SESSION))
    assert records == [
        AcademicSession(vendor_id="56", title="Test Enrollment Term 1", type="term"),
        AcademicSession(vendor_id="67", title="Test Enrollment Term 2", type="term"),
    ]


async def test_courses_by_id_including_a_unicode_name(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.COURSE, ids=("1", "2", "3", "9")))
    assert records == [
        Course(vendor_id="1", title="Test Course 1234", course_code="TST1234"),
        Course(vendor_id="2", title="Test Course 5678", course_code="TST5678"),
        Course(vendor_id="3", title="\u00a2", course_code="TEST_UNICODE"),
    ]


async def test_a_course_sections_over_two_pages(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.SECTION, filters={"course_id": ("1",)}))
    assert records == [
        Section(vendor_id=str(n), title=f"Section {n}", course_id="1", term_ids=("1",)) for n in (1, 2, 3, 4)
    ]
    pages = [str(call.request.url) for call in canvas.calls if "/sections" in call.request.url.path]
    assert pages == [f"{API}courses/1/sections?per_page=100", f"{API}courses/1/sections?page=2&per_page=2"]


async def test_a_section_by_id_takes_its_term_from_its_course(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.SECTION, ids=("1",)))
    assert records == [Section(vendor_id="1", title="Section 1", course_id="1", term_ids=("1",))]


async def test_an_enrollment_by_id(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.ENROLLMENT, ids=("1",)))
    assert records == [Enrollment(vendor_id="1", role="student", person_id="1")]


@pytest.mark.parametrize(("name", "value"), [("section_id", "1"), ("person_id", "1")])
async def test_objects_that_are_not_enrollments_are_passed_over(
    canvas: respx.MockRouter, name: str, value: str
) -> None:
    # canvasapi serves sections and bare {id, course_id} objects at these
    # endpoints; with no enrollment type they are not enrollments. Both pages
    # are read, the second at the other path the next link names.
    records = await fetch(everything(Entity.ENROLLMENT, filters={name: (value,)}))
    paths = [call.request.url.path for call in canvas.calls if "enrollments" in call.request.url.path]
    assert records == []
    assert len(paths) == 2 and paths[1].endswith("/list_enrollments")


async def test_assignments_of_a_section_over_two_pages(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.ASSIGNMENT, filters={"section_id": ("1",)}))
    assert records == [
        Assignment(
            vendor_id=f"1.{n}",
            title=f"Assignment {1 if n % 2 else 2}",
            description="Do this assignment" if n % 2 else "Do this assignment too",
            section_id="1",
        )
        for n in (1, 2, 3, 4)
    ]
    groups = [call for call in canvas.calls if call.request.url.path.endswith("/assignment_groups")]
    assert len(groups) == 1  # read once for the course, for the categories


async def test_a_real_submission_maps_field_by_field(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.SCORE, filters={"section_id": ("219",)}))
    assert records == [
        Score(
            vendor_id="219.356597.1163",
            assignment_id="219.356597",
            student_id="1163",
            section_id="219",
            score=20.0,
            score_status="FULLY_GRADED",
            late=False,
            missing=False,
            submitted_at=dt.datetime(2021, 3, 16, 16, 20, 10, tzinfo=UTC),
            comment=None,
        )
    ]


async def test_submissions_naming_no_assignment_are_passed_over_in_lists(canvas: respx.MockRouter) -> None:
    # canvasapi's list fixtures spell it "assignments_id": no assignment, no score.
    assert await fetch(everything(Entity.SCORE, filters={"section_id": ("1",)})) == []


async def test_a_submission_read_by_id_is_named_by_its_path(canvas: respx.MockRouter) -> None:
    records = await fetch(everything(Entity.SCORE, ids=("1.1.1", "1.1.2")))
    assert records == [Score(vendor_id="1.1.1", assignment_id="1.1", student_id="1", section_id="1")]


async def test_observers_of_a_student(canvas: respx.MockRouter) -> None:
    wanted = frozenset({"given_name", "family_name", "student_ids"})
    records = await fetch(FetchRequest(Entity.GUARDIAN, wanted, filters={"student_ids": ("1",)}))
    # canvasapi's observers have a name only (no first, last or sortable name
    # to split). Their own observee lists are not in the fixtures (404): they
    # are known to observe the student they were found through.
    assert records == [
        Guardian(vendor_id="3", student_ids=("1",)),
        Guardian(vendor_id="4", student_ids=("1",)),
    ]
    assert [c.request.url.path for c in canvas.calls if c.request.url.path.endswith("/observers")] == [
        "/api/v1/users/1/observers"
    ]


def test_the_shared_fixtures_hold_the_endpoints_replayed() -> None:
    endpoints = {f["endpoint"] for f in fixture_collections().values()}
    assert {"courses/1/sections", "accounts/1/terms", "sections/1/assignments/1/submissions/1"} <= endpoints
    assert Path(shared_path("data", "canvas", "edfi-lms-toolkit_submission.live.data.json")).exists()
