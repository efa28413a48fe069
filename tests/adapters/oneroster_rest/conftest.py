"""Fixtures: a small generated district, its simulator in process, and adapters over both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from adapters.oneroster_rest import OneRosterRestAdapter, OneRosterRestConfig
from adapters.oneroster_rest.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.model.entities import RECORD_TYPES
from hub.sdk import Entity, FetchRequest, Record, data_fields, fetch_every_page
from tests.support import make_district

SIM_BASE = "http://sim.test"
CLIENT_ID_ENV = "HOMEROOM_TEST_OR_CLIENT_ID"
CLIENT_SECRET_ENV = "HOMEROOM_TEST_OR_CLIENT_SECRET"


@pytest.fixture(scope="package")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("or-rest-district"), 60)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    defaults = SimulatorConfig()
    monkeypatch.setenv(CLIENT_ID_ENV, defaults.client_id)
    monkeypatch.setenv(CLIENT_SECRET_ENV, defaults.client_secret)
    yield


def rest_config(base_url: str = SIM_BASE, **overrides: Any) -> OneRosterRestConfig:
    values: dict[str, Any] = {
        "name": "sis",
        "kind": "oneroster-rest",
        "base_url": base_url,
        "version": "1.2",
        "token_url": f"{base_url}/token",
        "client_id_env": CLIENT_ID_ENV,
        "client_secret_env": CLIENT_SECRET_ENV,
    }
    values.update(overrides)
    return OneRosterRestConfig.model_validate(values)


def simulator(district: Path, **config: Any) -> tuple[Starlette, SimulatorState]:
    app = create_simulator(district, SimulatorConfig(**config))
    return app, app.state.simulator


@asynccontextmanager
async def rest_adapter(app: Starlette, **overrides: Any) -> AsyncIterator[OneRosterRestAdapter]:
    """An opened adapter talking to ``app`` in process (no sockets)."""
    adapter = OneRosterRestAdapter(rest_config(**overrides), transport=httpx.ASGITransport(app=app))
    try:
        await adapter.open()
        yield adapter
    finally:
        await adapter.aclose()


_CSV: dict[Path, OneRosterCsvAdapter] = {}


@asynccontextmanager
async def csv_adapter(district: Path) -> AsyncIterator[OneRosterCsvAdapter]:
    """The CSV adapter over ``district``, loaded once: it is only read from."""
    adapter = _CSV.get(district)
    if adapter is None:
        adapter = OneRosterCsvAdapter(OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=district))
        await adapter.open()
        _CSV[district] = adapter
    yield adapter


def every_field(entity: Entity) -> frozenset[str]:
    return frozenset(data_fields(RECORD_TYPES[entity]))


async def fetch_all(adapter: Any, request: FetchRequest) -> list[Record]:
    """Every record of ``request``, following cursors."""
    return await fetch_every_page(adapter.fetch, request)
