"""The simulated provider: token endpoint, paging headers, fields, filters,
throttling and faults, and its answers checked against the official 1.2 OpenAPI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.oneroster_rest.simulator import SimulatorConfig
from hub.sdk.http import parse_link_header
from tests.conftest import shared_path

from .conftest import SIM_BASE, simulator

ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
DEFAULTS = SimulatorConfig()


@asynccontextmanager
async def signed_in(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` holding a valid bearer token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_BASE) as client:
        answer = await client.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(DEFAULTS.client_id, DEFAULTS.client_secret),
        )
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


async def test_the_token_endpoint_rejects_bad_credentials(district: Path) -> None:
    app, state = simulator(district)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_BASE) as client:
        wrong = await client.post(
            "/token", data={"grant_type": "client_credentials"}, auth=("homeroom-sim", "x")
        )
        missing = await client.post("/token", data={"grant_type": "client_credentials"})
        grant = await client.post("/token", data={"grant_type": "password"}, auth=("homeroom-sim", "x"))
        form = await client.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULTS.client_id,
                "client_secret": DEFAULTS.client_secret,
            },
        )
        anonymous = await client.get(f"{ROSTERING}/orgs")
        forged = await client.get(f"{ROSTERING}/orgs", headers={"Authorization": "Bearer made-up"})
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    assert missing.status_code == 401
    assert (grant.status_code, grant.json()) == (400, {"error": "unsupported_grant_type"})
    assert form.status_code == 200 and form.json()["token_type"] == "bearer"
    assert anonymous.status_code == forged.status_code == 401
    assert anonymous.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        "unauthorisedrequest"
    )
    assert state.tokens_issued == 1


async def test_collections_page_with_total_count_and_links(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        first = await client.get(f"{ROSTERING}/students", params={"limit": 25, "filter": "status='active'"})
        links = parse_link_header(first.headers["Link"])
        second = await client.get(links["next"])
        last = await client.get(links["last"])
    assert first.headers["X-Total-Count"] == "60"
    assert len(first.json()["users"]) == 25
    assert set(links) == {"first", "next", "last"}
    assert "filter=status%3D%27active%27" in links["next"] and "offset=25" in links["next"]
    assert second.json()["users"][0]["sourcedId"] == "stu-000026"
    assert len(last.json()["users"]) == 10 and "next" not in parse_link_header(last.headers["Link"])


async def test_fields_and_filters_follow_the_spec(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        picked = await client.get(f"{ROSTERING}/users", params={"fields": "sourcedId,givenName", "limit": 2})
        filtered = await client.get(
            f"{ROSTERING}/enrollments",
            params={"filter": "class.sourcedId='cls-01-hr-kg-01' AND role='teacher'"},
        )
        unknown_field = await client.get(f"{ROSTERING}/users", params={"fields": "shoeSize"})
        unknown_filter = await client.get(f"{ROSTERING}/users", params={"filter": "shoeSize='9'"})
        broken_filter = await client.get(f"{ROSTERING}/users", params={"filter": "givenName='unterminated"})
        single = await client.get(f"{ROSTERING}/students/stu-000001")
        missing = await client.get(f"{ROSTERING}/students/nobody")
    assert [set(user) for user in picked.json()["users"]] == [{"sourcedId", "givenName"}] * 2
    enrollments = filtered.json()["enrollments"]
    assert len(enrollments) == 1 and enrollments[0]["role"] == "teacher"
    for refused, minor in (
        (unknown_field, "invalid_selection_field"),
        (unknown_filter, "invalid_filter_field"),
        (broken_filter, "invalid_filter_field"),
    ):
        assert refused.status_code == 400
        assert refused.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == minor
    assert single.json()["user"]["sourcedId"] == "stu-000001"
    assert missing.status_code == 404


async def test_past_the_rate_it_answers_429_with_retry_after(district: Path) -> None:
    app, _ = simulator(district, rate_limit_per_second=2, retry_after=3)
    async with signed_in(app) as client:
        statuses = [(await client.get(f"{ROSTERING}/orgs")).status_code for _ in range(3)]
        busy = await client.get(f"{ROSTERING}/orgs")
    assert statuses == [200, 200, 429]
    assert busy.headers["Retry-After"] == "3"
    assert (
        busy.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "server_busy"
    )


async def test_faults_from_the_config(district: Path) -> None:
    failing, _ = simulator(district, error_rate=1.0, error_status=500, fault_paths=(GRADEBOOK,))
    async with signed_in(failing) as client:
        assert (await client.get(f"{ROSTERING}/orgs")).status_code == 200
        assert (await client.get(f"{GRADEBOOK}/results")).status_code == 500
    cut, _ = simulator(district, truncate_rate=1.0)
    async with signed_in(cut) as client:
        answer = await client.get(f"{ROSTERING}/orgs")
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


async def test_healthz_reports_the_request_counts_without_adding_to_them(district: Path) -> None:
    app, state = simulator(district)
    async with signed_in(app) as client:
        before = (await client.get("/healthz")).json()
        await client.get(f"{ROSTERING}/orgs")
        await client.get(f"{GRADEBOOK}/results", params={"limit": 1})
        await client.get(f"{ROSTERING}/orgs", headers={"Authorization": "Bearer made-up"})  # refused: counted
        after = (await client.get("/healthz")).json()
    assert before == {"status": "ok", "dataRequests": 0, "tokenRequests": 1}
    assert after == {"status": "ok", "dataRequests": 3, "tokenRequests": 1}
    assert state.data_requests == 3


# -- the official description ---------------------------------------------------

COLLECTIONS = [
    (ROSTERING, "/academicSessions"),
    (ROSTERING, "/classes"),
    (ROSTERING, "/courses"),
    (ROSTERING, "/demographics"),
    (ROSTERING, "/enrollments"),
    (ROSTERING, "/gradingPeriods"),
    (ROSTERING, "/orgs"),
    (ROSTERING, "/schools"),
    (ROSTERING, "/students"),
    (ROSTERING, "/teachers"),
    (ROSTERING, "/terms"),
    (ROSTERING, "/users"),
    (GRADEBOOK, "/categories"),
    (GRADEBOOK, "/lineItems"),
    (GRADEBOOK, "/results"),
]
SINGLES = [
    (ROSTERING, "/users/{sourcedId}", "/users/stu-000001"),
    (ROSTERING, "/classes/{sourcedId}", "/classes/cls-01-hr-kg-01"),
    (ROSTERING, "/orgs/{sourcedId}", "/orgs/org-district"),
    (GRADEBOOK, "/results/{sourcedId}", "/results/res-00000001"),
]


def _validator(spec_file: str, path: str, status: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (add it to [test])")
    spec = json.loads(shared_path("reference", "openapi", spec_file).read_text(encoding="utf-8"))
    schema = spec["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    # OpenAPI 3.0 schemas are JSON Schema with local $refs into components.
    return jsonschema.Draft7Validator({**schema, "components": spec["components"]})


def _spec_file(service: str) -> str:
    return "oneroster12-rosters.json" if service == ROSTERING else "oneroster12-gradebook.json"


def _problems(validator: Any, body: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)][:5]


async def test_answers_validate_against_the_official_openapi(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        for service, path in COLLECTIONS:
            validator = _validator(_spec_file(service), path, "200")
            answer = await client.get(service + path, params={"limit": 1000})
            assert answer.status_code == 200
            # The generated district has semesters and grading periods, but no "term"s.
            assert answer.json()[next(iter(answer.json()))] or path == "/terms", path
            assert _problems(validator, answer.json()) == [], path
        for service, template, path in SINGLES:
            validator = _validator(_spec_file(service), template, "200")
            answer = await client.get(service + path)
            assert _problems(validator, answer.json()) == [], path
        errors = {
            "400": await client.get(f"{ROSTERING}/users", params={"fields": "shoeSize"}),
            "404": await client.get(f"{ROSTERING}/users/nobody"),
        }
        for status, answer in errors.items():
            validator = _validator(
                "oneroster12-rosters.json", "/users" if status == "400" else "/users/{sourcedId}", status
            )
            assert answer.status_code == int(status)
            assert _problems(validator, answer.json()) == [], status
