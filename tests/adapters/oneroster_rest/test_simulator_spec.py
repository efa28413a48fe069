"""``homeroom simulate oneroster-rest``: the table it writes says what the
simulated provider accepts (its largest page, its longest filter), as a
district writes it from its vendor's documentation, and a source opened from
it stays within those limits."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.oneroster_rest import SPEC, OneRosterRestAdapter
from adapters.oneroster_rest.simulator import SimulatorConfig
from adapters.oneroster_rest.simulator_spec import SIMULATOR
from hub.sdk import Entity, FetchRequest, SimulatorOptions

from .conftest import csv_adapter, fetch_all


def test_the_table_carries_the_providers_limits() -> None:
    options = SimulatorOptions(client_secret="s3cret")
    table = SIMULATOR.source_table("http://127.0.0.1:8100", options)
    assert table["page_size"] == SimulatorConfig.max_page_size == 1000
    assert table["filter_predicates"] == 100  # the simulator takes any number; the key's largest
    assert "s3cret" not in str(table)
    config = SPEC.config.model_validate(table)
    assert (config.page_size, config.filter_predicates) == (1000, 100)


async def test_a_source_from_the_table_stays_within_the_simulators_limits(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = SimulatorOptions(
        client_secret="s3cret", extra={"max_page_size": "25", "max_filter_predicates": "3"}
    )
    SIMULATOR.check_options(options)
    app = SIMULATOR.create(district, options)
    state = app.state.simulator
    assert (state.config.max_page_size, state.config.max_filter_predicates) == (25, 3)
    table = SIMULATOR.source_table("http://sim.test", options)
    assert (table["page_size"], table["filter_predicates"]) == (25, 3)
    for name, value in SIMULATOR.environment(options).items():
        monkeypatch.setenv(name, value)
    adapter = OneRosterRestAdapter(SPEC.config.model_validate(table), transport=httpx.ASGITransport(app=app))
    ids = tuple(f"stu-{number:06}" for number in range(1, 8))
    request = FetchRequest(Entity.STUDENT, frozenset({"family_name"}), ids=ids)
    try:
        await adapter.open()
        state.queries.clear()
        got = await fetch_all(adapter, request)
    finally:
        await adapter.aclose()
    async with csv_adapter(district) as csv:
        expected = await fetch_all(csv, request)
    assert sorted(r.vendor_id for r in got) == sorted(r.vendor_id for r in expected) == sorted(ids)
    # A size probe (more than two chunks), then seven ids in three filters of
    # at most three predicates, none refused, in pages of the simulator's 25.
    probe, *chunks = state.queries
    assert probe["limit"] == "1" and "filter" not in probe
    assert [query["filter"].count(" OR ") + 1 for query in chunks] == [3, 2, 2]
    assert all(query["limit"] == "25" for query in chunks)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"max_page_size": "0"}, "max_page_size must be a whole number from 1 to 10000"),
        ({"max_page_size": "ten"}, "max_page_size must be a whole number"),
        ({"max_filter_predicates": "101"}, "max_filter_predicates must be a whole number from 1 to 100"),
    ],
)
def test_limits_are_checked(district: Path, extra: dict[str, str], message: str) -> None:
    options = SimulatorOptions(extra=extra)
    with pytest.raises(ValueError, match=message):
        SIMULATOR.create(district, options)
    with pytest.raises(ValueError, match=message):
        SIMULATOR.source_table("http://sim.test", options)
