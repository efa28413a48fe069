"""A caller's bad input never changes a source's health, and a source the
vendor answers again is UP again (issue #9, finding 6: a hand-made cursor
marked the source DEGRADED in the unauthenticated /healthz until restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.federation.registry import SourceRegistry
from hub.model import Entity
from hub.sdk import (
    BadVendorData,
    FetchRequest,
    LoadReport,
    RowProblem,
    SourceAuthFailed,
    SourceError,
    SourceUnavailable,
    Student,
    UnsupportedRequest,
)
from hub.sdk.http import RequestRejected
from hub.testing.memory import MemoryAdapter
from tests.hardening.edge_hubs import make_faulty
from tests.support import make_district, running_hub

REQUEST = FetchRequest(Entity.STUDENT, fields=frozenset({"given_name"}))


class Scripted(MemoryAdapter):
    """Raises the next scripted failure, or answers when none is left."""

    def __init__(self, *failures: BaseException, rejected_rows: int = 0) -> None:
        super().__init__("sis", [Student(vendor_id="s1", given_name="Ana")])
        self.failures = list(failures)
        self.rejected_rows = rejected_rows

    async def open(self) -> LoadReport:
        report = await super().open()
        report.problems.extend(RowProblem("users.csv", n, "no such org") for n in range(self.rejected_rows))
        return report

    async def fetch(self, request: FetchRequest) -> Any:
        if self.failures:
            raise self.failures.pop(0)
        return await super().fetch(request)


async def _opened(adapter: Scripted) -> SourceRegistry:
    registry = SourceRegistry([adapter])
    await registry.open()
    return registry


@pytest.mark.parametrize(
    "caused_by_the_request",
    [
        UnsupportedRequest("sis", "unknown paging cursor (not one this source returned)"),
        RequestRejected("sis", "/users answered 400: invalid filter", status=400),
        RequestRejected("sis", "/users/x answered 404", status=404),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_refused_request_leaves_the_source_up(caused_by_the_request: SourceError) -> None:
    registry = await _opened(Scripted(caused_by_the_request))
    with pytest.raises(type(caused_by_the_request)):
        await registry.fetch("sis", REQUEST)
    state = registry.states["sis"]
    assert (state.state, state.last_error) == ("UP", None)


@pytest.mark.parametrize(
    "vendor_failure",
    [
        SourceUnavailable("sis", "/users timed out (3 attempts)"),
        SourceUnavailable("sis", "/users answered 503: maintenance"),
        SourceAuthFailed("sis", "token endpoint answered 401"),
        BadVendorData("sis", "/users answered a body without the expected list"),
        SourceError("sis", "something the adapter could not classify"),
        KeyError("an adapter bug"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_vendor_failure_degrades_until_the_next_answer(vendor_failure: BaseException) -> None:
    registry = await _opened(Scripted(vendor_failure, vendor_failure))
    for _ in range(2):
        with pytest.raises(SourceError):
            await registry.fetch("sis", REQUEST)
        state = registry.states["sis"]
        assert state.state == "DEGRADED"
        assert state.last_error
    result = await registry.fetch("sis", REQUEST)
    assert [r.vendor_id for r in result.records] == ["s1"]
    assert (state.state, state.last_error) == ("UP", None)


async def test_a_source_that_rejected_rows_stays_degraded_after_recovering() -> None:
    registry = await _opened(Scripted(SourceUnavailable("sis", "timed out"), rejected_rows=2))
    state = registry.states["sis"]
    assert state.state == "DEGRADED"
    with pytest.raises(SourceUnavailable):
        await registry.fetch("sis", REQUEST)
    assert state.last_error == "timed out"
    await registry.fetch("sis", REQUEST)
    # The rejected rows are still missing: that stays visible until the next load.
    assert (state.state, state.last_error) == ("DEGRADED", None)


# -- over HTTP -------------------------------------------------------------------


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 50)


COUNT = "{ viewer { students(first: 2) { totalCount } } }"


async def test_healthz_is_up_again_after_a_failure_then_a_good_call(district: Path) -> None:
    async with running_hub(district) as running:

        async def health() -> dict[str, Any]:
            response = await running.client.get("/healthz")
            assert response.status_code == 200
            sis: dict[str, Any] = response.json()["sources"]["sis"]
            return sis

        assert (await health())["state"] == "UP"
        faulty = make_faulty(running.hub)
        # What a hand-made cursor or an unsupported filter raises: the caller's doing.
        faulty.fault = UnsupportedRequest("sis", "unknown paging cursor (not one this source returned)")
        refused = await running.query(COUNT)
        assert any(e["extensions"]["code"] == "UNSUPPORTED_REQUEST" for e in refused["errors"])
        assert await health() == {"state": "UP", "error": None, "rejectedRows": 0}
        # The vendor times out: DEGRADED, with the reason.
        faulty.fault = SourceUnavailable("sis", "/users timed out")
        failed = await running.query(COUNT)
        assert any(e["extensions"]["code"] == "SOURCE_UNAVAILABLE" for e in failed["errors"])
        assert await health() == {"state": "DEGRADED", "error": "/users timed out", "rejectedRows": 0}
        # It answers again: UP on the next good call, no restart.
        faulty.fault = None
        answered = await running.query(COUNT)
        assert "errors" not in answered, answered
        assert await health() == {"state": "UP", "error": None, "rejectedRows": 0}
