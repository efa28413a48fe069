"""The simulated Clever: token check, envelopes and paging, ids, the shape of
people, sub-resources, throttling and faults."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.clever import SPEC, CleverAdapter
from adapters.clever._sim_data import clever_id
from adapters.clever.simulator_spec import SIMULATOR
from hub.federation.registry import configure_source
from hub.sdk import SimulatorOptions

from .conftest import SIM_BASE, TOKEN, simulator

V30 = "/v3.0"


@asynccontextmanager
async def signed_in(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` holding the district token."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=SIM_BASE, headers=headers
    ) as client:
        yield client


def _rows(district: Path, name: str) -> list[dict[str, str]]:
    with (district / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


async def _everything(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a list, following ``links`` rel ``next``."""
    found: list[dict[str, Any]] = []
    answer = await client.get(path, params=params)
    while True:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found.extend(item["data"] for item in body["data"])
        following = [link["uri"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return found
        answer = await client.get(following[0])


async def test_only_the_district_token_is_accepted(district: Path) -> None:
    app, state = simulator(district)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_BASE) as client:
        anonymous = await client.get(f"{V30}/users")
        forged = await client.get(f"{V30}/users", headers={"Authorization": "Bearer made-up"})
        basic = await client.get(f"{V30}/users", headers={"Authorization": f"Basic {TOKEN}"})
    assert anonymous.status_code == forged.status_code == basic.status_code == 401
    assert anonymous.json() == {"message": "invalid or missing bearer token"}
    assert state.data_requests == 3


async def test_lists_page_along_next_links_in_id_order(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        first = await client.get(f"{V30}/users", params={"role": "student", "limit": 25})
        everyone = await _everything(client, f"{V30}/users", role="student", limit=25)
        whole = await _everything(client, f"{V30}/users", role="student", limit=10_000)
        second = await client.get(first.json()["links"][1]["uri"])
    body = first.json()
    assert len(body["data"]) == 25
    assert body["links"][0] == {"rel": "self", "uri": "/v3.0/users?role=student&limit=25"}
    last_id = body["data"][-1]["data"]["id"]
    assert body["links"][1] == {
        "rel": "next",
        "uri": f"/v3.0/users?role=student&limit=25&starting_after={last_id}",
    }
    assert body["data"][0]["uri"] == f"/v3.0/users/{body['data'][0]['data']['id']}"
    assert [link["rel"] for link in second.json()["links"]] == ["self", "next", "prev"]
    ids = [user["id"] for user in everyone]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 60
    assert everyone == whole


async def test_limits_and_roles_are_checked(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        too_many = await client.get(f"{V30}/sections", params={"limit": 10_001})
        bad_role = await client.get(f"{V30}/users", params={"role": "districtadmin"})
        bad_limit = await client.get(f"{V30}/users", params={"limit": "-3"})
        missing = await client.get(f"{V30}/users/{'0' * 24}")
    assert (too_many.status_code, too_many.json()) == (413, {"message": "limit must be at most 10000"})
    assert bad_role.status_code == bad_limit.status_code == 400
    assert (missing.status_code, missing.json()) == (404, {"message": "Resource not found"})


async def test_people_have_clever_ids_and_the_vendor_shape(district: Path) -> None:
    app, _ = simulator(district, api_version="v3.1")
    async with signed_in(app) as client:
        users = await _everything(client, "/v3.1/users", limit=1000)
        sections = await _everything(client, "/v3.1/sections")
    sourced = {row["sourcedId"]: row for row in _rows(district, "users.csv")}
    students = [u for u in users if "student" in u["roles"]]
    assert len(students) == sum(1 for key in sourced if key.startswith("stu-"))
    for user in users:
        assert re.fullmatch(r"[0-9a-f]{24}", user["id"])
    for student in students:
        role = student["roles"]["student"]
        assert student["id"] == clever_id("user", role["sis_id"]) != role["sis_id"]
        assert role["state_id"] == sourced[role["sis_id"]]["identifier"]
        assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", role["dob"])
        flags = ("hispanic_ethnicity", "ell_status", "iep_status", "section_504_status")
        assert all(role[flag] in ("Y", "N") for flag in flags)
        assert role["frl_status"] in ("Free", "Paid")
    kinds = {kind for user in users for kind in user["roles"]}
    assert kinds == {"student", "teacher", "district_admin", "staff", "contact"}
    contact = next(u for u in users if "contact" in u["roles"])
    links = contact["roles"]["contact"]["student_relationships"]
    assert links and all(link["student"] in {s["id"] for s in students} for link in links)
    assert all(s["teachers"] and s["teacher"] == s["teachers"][0] for s in sections)


async def test_v30_carries_no_v31_fields(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        students = await _everything(client, f"{V30}/users", role="student")
    fields = {name for student in students for name in student["roles"]["student"]}
    assert "ell_status" in fields
    assert not fields & {"iep_status", "section_504_status", "frl_status", "preferred_name"}


async def test_sub_resources_list_what_the_records_link(district: Path) -> None:
    app, _ = simulator(district)
    async with signed_in(app) as client:
        sections = await _everything(client, f"{V30}/sections")
        users = {u["id"]: u for u in await _everything(client, f"{V30}/users", limit=1000)}
        section = sections[0]
        school = await _everything(client, f"{V30}/schools/{section['school']}/sections")
        course = await _everything(client, f"{V30}/courses/{section['course']}/sections")
        student_id = section["students"][0]
        mine = await _everything(client, f"{V30}/users/{student_id}/sections")
        contacts = await _everything(client, f"{V30}/users/{student_id}/mycontacts")
        at_school = await _everything(client, f"{V30}/schools/{section['school']}/users", role="student")
        taught = await _everything(client, f"{V30}/users/{section['teacher']}/mystudents")
        roster = await _everything(client, f"{V30}/sections/{section['id']}/users", role="student")
    assert {s["id"] for s in school} == {s["id"] for s in sections if s["school"] == section["school"]}
    assert section["id"] in {s["id"] for s in course} and section["id"] in {s["id"] for s in mine}
    assert {c["id"] for c in contacts} == {
        u["id"]
        for u in users.values()
        if any(
            link["student"] == student_id
            for link in u["roles"].get("contact", {}).get("student_relationships", ())
        )
    }
    assert student_id in {u["id"] for u in at_school} and all("student" in u["roles"] for u in at_school)
    assert set(section["students"]) <= {u["id"] for u in taught}
    assert {u["id"] for u in roster} == set(section["students"])


async def test_past_the_rate_limit_it_answers_429_until_the_window_resets(district: Path) -> None:
    now = [1_900_000_010.5]
    app, state = simulator(district, rate_limit=3, rate_window=60.0, wall_clock=lambda: now[0])
    async with signed_in(app) as client:
        answers = [await client.get(f"{V30}/districts") for _ in range(4)]
        now[0] += 60  # the next window
        after_reset = await client.get(f"{V30}/districts")
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    # The Unix time the fixed window of a minute ends, as Clever's header says.
    assert answers[3].headers["X-RateLimit-Reset"] == "1900000020"
    assert answers[3].json() == {"message": "rate limit exceeded"} and state.throttled == 1
    assert after_reset.status_code == 200


async def test_faults_are_injected_where_configured(district: Path) -> None:
    app, state = simulator(district, error_rate=1.0, error_status=502, fault_paths=("/v3.0/sections",))
    async with signed_in(app) as client:
        failing = await client.get(f"{V30}/sections")
        fine = await client.get(f"{V30}/terms")
    assert (failing.status_code, failing.json()) == (502, {"message": "simulated failure"})
    assert fine.status_code == 200
    cut_app, _ = simulator(district, truncate_rate=1.0)
    async with signed_in(cut_app) as client:
        cut = await client.get(f"{V30}/terms")
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()
    assert state.requests_to("/v3.0/sections") == 1


async def test_latency_is_added(district: Path) -> None:
    app, _ = simulator(district, latency=0.2)
    async with signed_in(app) as client:
        started = time.monotonic()
        answer = await client.get(f"{V30}/districts")
        elapsed = time.monotonic() - started
    assert answer.status_code == 200 and elapsed >= 0.2


async def test_homeroom_simulate_gets_an_app_a_table_and_its_variables(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = SimulatorOptions(client_secret="tok-123", source_name="clever-2", extra={"api_version": "v3.1"})
    SIMULATOR.check_options(options)
    app = SIMULATOR.create(district, options)
    table = SIMULATOR.source_table(SIM_BASE, options)
    variables = dict(SIMULATOR.environment(options))
    assert table == {
        "name": "clever-2",
        "kind": "clever",
        "base_url": SIM_BASE,
        "api_version": "v3.1",
        "token_env": "CLEVER_2_TOKEN",
    }
    assert variables == {"CLEVER_2_TOKEN": "tok-123"} and "tok-123" not in table.values()
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    adapter = configure_source(table, {SPEC.kind: SPEC})
    assert isinstance(adapter, CleverAdapter)
    adapter = CleverAdapter(adapter.config, transport=httpx.ASGITransport(app=app))
    try:
        report = await adapter.open()
    finally:
        await adapter.aclose()
    assert report.counts == {"Organization": 1}
    with pytest.raises(ValueError, match=r"api_version must be v3\.0 or v3\.1"):
        SIMULATOR.create(district, SimulatorOptions(extra={"api_version": "v4"}))
    with pytest.raises(ValueError, match="has no option"):
        SIMULATOR.check_options(SimulatorOptions(extra={"version": "v3.1"}))
