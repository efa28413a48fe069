"""The Ed-Fi simulator: token endpoint, paging, searches, errors, throttling and faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.edfi.simulator import SimulatorConfig, SimulatorState
from hub.sdk import BadVendorData, Entity, FetchRequest, SourceUnavailable
from tests.adapters.edfi.conftest import STUDENTS, edfi_adapter, simulator

API = "/data/v3/ed-fi"


@asynccontextmanager
async def _client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` holding a token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ods.test"
    ) as client:
        answer = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("homeroom-sim", "homeroom-sim-secret"),
        )
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


async def test_token_endpoint_refuses_bad_credentials(sim_ds5: Starlette) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim_ds5), base_url="http://ods.test"
    ) as client:
        bad = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=("homeroom-sim", "no")
        )
        assert bad.status_code == 401 and bad.json() == {"error": "invalid_client"}
        anonymous = await client.get(f"{API}/students")
        assert anonymous.status_code == 401
        good = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("homeroom-sim", "homeroom-sim-secret"),
        )
        assert good.status_code == 200 and good.json()["expires_in"] == 1800


async def test_offset_limit_total_count_and_searches(sim_ds5: Starlette) -> None:
    async with _client(sim_ds5) as client:
        first = await client.get(f"{API}/students", params={"totalCount": "true"})
        assert first.headers["Total-Count"] == str(STUDENTS)
        assert len(first.json()) == 25  # Ed-Fi's default limit
        assert "Total-Count" not in (await client.get(f"{API}/students")).headers
        last = await client.get(f"{API}/students", params={"offset": STUDENTS - 10, "limit": 500})
        assert len(last.json()) == 10
        too_many = await client.get(f"{API}/students", params={"limit": 501})
        assert too_many.status_code == 400 and too_many.headers["content-type"] == "application/problem+json"
        one = first.json()[0]
        found = await client.get(f"{API}/students", params={"studentUniqueId": one["studentUniqueId"]})
        assert found.json() == [one]
        assert (await client.get(f"{API}/students/{one['id']}")).json() == one
        school = (await client.get(f"{API}/schools")).json()[0]["schoolId"]
        enrolled = await client.get(
            f"{API}/studentSchoolAssociations", params={"schoolId": school, "limit": 500}
        )
        assert enrolled.json() and all(a["schoolReference"]["schoolId"] == school for a in enrolled.json())
        unknown = await client.get(f"{API}/students", params={"favouriteColour": "blue"})
        assert unknown.status_code == 400


async def test_ds4_names_guardians_parents_and_answers_messages(sim_ds4: Starlette) -> None:
    async with _client(sim_ds4) as client:
        parents = await client.get(f"{API}/parents", params={"limit": 1})
        assert "parentUniqueId" in parents.json()[0]
        links = (await client.get(f"{API}/studentParentAssociations", params={"limit": 1})).json()
        assert "parentReference" in links[0]
        assert (await client.get(f"{API}/contacts")).status_code == 404
        refused = await client.get(f"{API}/students", params={"limit": 1000})
        assert refused.status_code == 400 and "message" in refused.json()


async def test_throttling_answers_429_with_retry_after(district: Path) -> None:
    app, _ = simulator(district, rate_limit_per_second=2, retry_after=7)
    async with _client(app) as client:
        answers = [await client.get(f"{API}/schools") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "7"


def _faulty(state: SimulatorState, **faults: object) -> None:
    state.config = replace(state.config, **faults)  # type: ignore[arg-type]


async def test_adapter_retries_5xx_then_reports_the_source(district: Path) -> None:
    app, state = simulator(district, seed=3)
    async with edfi_adapter(app, retries=2) as adapter:
        _faulty(state, error_rate=1.0, error_status=502, fault_paths=(f"{API}/students",))
        with pytest.raises(SourceUnavailable, match=r"source 'ods'.*students answered 502.*3 attempts"):
            await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"})))
        _faulty(state, error_rate=0.5)
        result = await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"})))
        assert len(result.records) == STUDENTS  # some attempts failed, the retries succeeded


async def test_truncated_bodies_are_bad_vendor_data(district: Path) -> None:
    app, state = simulator(district)
    async with edfi_adapter(app) as adapter:
        _faulty(state, truncate_rate=1.0, fault_paths=(f"{API}/staffs",))
        with pytest.raises(BadVendorData, match="invalid JSON"):
            await adapter.fetch(FetchRequest(entity=Entity.TEACHER, fields=frozenset({"given_name"})))


async def test_a_revoked_token_is_renewed_once(district: Path) -> None:
    app, state = simulator(district)
    async with edfi_adapter(app) as adapter:
        state.revoke_tokens()
        result = await adapter.fetch(
            FetchRequest(entity=Entity.TEACHER, fields=frozenset({"given_name"}), limit=3)
        )
        assert len(result.records) == 3
        assert state.tokens_issued == 2


def test_unknown_data_standard_is_refused(district: Path) -> None:
    with pytest.raises(ValueError, match="data standard"):
        simulator(district, data_standard="3")
    assert SimulatorConfig().max_limit == 500
