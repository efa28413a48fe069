"""``homeroom simulate canvas``: the spec builds the app, the table and the
environment, and the table opens a working source."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.canvas import SPEC, CanvasAdapter
from adapters.canvas.simulator_spec import SIMULATOR
from hub.sdk import Entity, FetchRequest, SimulatorOptions


def test_the_table_names_the_variable_and_never_holds_the_token() -> None:
    options = SimulatorOptions(client_secret="s3cret", source_name="canvas-2")
    table = SIMULATOR.source_table("http://127.0.0.1:8100", options)
    assert table == {
        "name": "canvas-2",
        "kind": "canvas",
        "base_url": "http://127.0.0.1:8100",
        "account_id": "self",
        "token_env": "CANVAS_2_TOKEN",
    }
    assert "s3cret" not in str(table)
    assert SIMULATOR.environment(options) == {"CANVAS_2_TOKEN": "s3cret"}
    assert SIMULATOR.kind == SPEC.kind
    assert SIMULATOR.source_table("http://x", SimulatorOptions())["name"] == "lms"


async def test_the_written_table_opens_a_source_on_the_simulator(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = SimulatorOptions(client_secret="s3cret", extra={"rate_limit": "50", "rate_limit_burst": "10"})
    SIMULATOR.check_options(options)
    app = SIMULATOR.create(district, options)
    for name, value in SIMULATOR.environment(options).items():
        monkeypatch.setenv(name, value)
    table = SIMULATOR.source_table("http://canvas.test", options)
    assert table["throttle_refill_per_second"] == pytest.approx(3000.0)  # 60 units a request, 50 a second
    adapter = CanvasAdapter(SPEC.config.model_validate(table), transport=httpx.ASGITransport(app=app))
    try:
        await adapter.open()
        result = await adapter.fetch(
            FetchRequest(entity=Entity.SECTION, fields=frozenset({"title"}), limit=3)
        )
    finally:
        await adapter.aclose()
    assert len(result.records) == 3
    # The tests' fixed token is not accepted by a simulator started this way.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
        refused = await http.get(
            "/api/v1/accounts/self", headers={"Authorization": "Bearer homeroom-canvas-sim"}
        )
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"latency": "soon"}, "latency must be a number"),
        ({"error_rate": "2"}, "error_rate must be between 0 and 1"),
        ({"colour": "red"}, "has no option colour"),
    ],
)
def test_bad_knobs_are_refused_by_name(district: Path, extra: dict[str, str], message: str) -> None:
    options = SimulatorOptions(extra=extra)
    with pytest.raises(ValueError, match=message):
        SIMULATOR.check_options(options)
        SIMULATOR.create(district, options)
