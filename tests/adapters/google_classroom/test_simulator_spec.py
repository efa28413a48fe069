"""``homeroom simulate google-classroom``: the spec builds the app, the table
and the environment, and the table opens a working source."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.google_classroom import SPEC, GoogleClassroomAdapter
from adapters.google_classroom.simulator_spec import SIMULATOR
from hub.sdk import Entity, FetchRequest, SimulatorOptions


def test_the_table_names_variables_and_never_holds_the_secret() -> None:
    options = SimulatorOptions(client_secret="s3cret", source_name="class-room")
    table = SIMULATOR.source_table("http://127.0.0.1:8100", options)
    assert table == {
        "name": "class-room",
        "kind": "google-classroom",
        "base_url": "http://127.0.0.1:8100",
        "token_url": "http://127.0.0.1:8100/token",
        "client_id_env": "CLASS_ROOM_CLIENT_ID",
        "client_secret_env": "CLASS_ROOM_CLIENT_SECRET",
    }
    assert "s3cret" not in str(table)
    assert SIMULATOR.environment(options) == {
        "CLASS_ROOM_CLIENT_ID": "homeroom-sim",
        "CLASS_ROOM_CLIENT_SECRET": "s3cret",
    }
    assert SIMULATOR.kind == SPEC.kind


async def test_the_written_table_opens_a_source_on_the_simulator(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = SimulatorOptions(client_secret="s3cret", extra={"rate_limit": "1000"})
    app = SIMULATOR.create(district, options)
    for name, value in SIMULATOR.environment(options).items():
        monkeypatch.setenv(name, value)
    config = SPEC.config.model_validate(SIMULATOR.source_table("http://classroom.test", options))
    adapter = GoogleClassroomAdapter(config, transport=httpx.ASGITransport(app=app))
    try:
        await adapter.open()
        result = await adapter.fetch(
            FetchRequest(entity=Entity.SECTION, fields=frozenset({"title"}), limit=3)
        )
    finally:
        await adapter.aclose()
    assert len(result.records) == 3
    # The static token of the tests is not accepted by a simulator started this way.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
        refused = await http.get("/v1/courses", headers={"Authorization": "Bearer homeroom-sim-token"})
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"latency": "soon"}, "latency must be a number of seconds"),
        ({"error_rate": "2"}, "error_rate must be a share between 0 and 1"),
        ({"colour": "red"}, "has no option colour"),
    ],
)
def test_bad_knobs_are_refused_by_name(district: Path, extra: dict[str, str], message: str) -> None:
    options = SimulatorOptions(extra=extra)
    with pytest.raises(ValueError, match=message):
        SIMULATOR.check_options(options)
        SIMULATOR.create(district, options)
