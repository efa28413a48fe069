"""Fixtures: a generated district, its Ed-Fi simulator in process, and adapters over both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.edfi import EdFiAdapter, EdFiConfig
from adapters.edfi.simulator import SimulatorConfig, SimulatorState, create_simulator
from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.sdk import RECORD_TYPES, Entity, FetchRequest, Record, data_fields, fetch_every_page
from tests.support import make_district

SIM_BASE = "http://ods.test"
KEY_ENV = "HOMEROOM_TEST_EDFI_KEY"
SECRET_ENV = "HOMEROOM_TEST_EDFI_SECRET"
STUDENTS = 150


@pytest.fixture(scope="package")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated district of 150 students with the fixed "today" of tests.support."""
    return make_district(tmp_path_factory.mktemp("edfi-district"), STUDENTS)


@pytest.fixture(scope="package")
def sim_ds5(district: Path) -> Starlette:
    """The DS 5 simulator (read-only use: tests needing faults build their own)."""
    return create_simulator(district, SimulatorConfig(data_standard="5"))


@pytest.fixture(scope="package")
def sim_ds4(district: Path) -> Starlette:
    """The DS 4 simulator."""
    return create_simulator(district, SimulatorConfig(data_standard="4"))


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    defaults = SimulatorConfig()
    monkeypatch.setenv(KEY_ENV, defaults.key)
    monkeypatch.setenv(SECRET_ENV, defaults.secret)
    yield


def edfi_config(base_url: str = SIM_BASE, **overrides: Any) -> EdFiConfig:
    values: dict[str, Any] = {
        "name": "ods",
        "kind": "edfi",
        "base_url": base_url,
        "data_standard": "5",
        "key_env": KEY_ENV,
        "secret_env": SECRET_ENV,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
    }
    values.update(overrides)
    return EdFiConfig.model_validate(values)


def simulator(district: Path, **config: Any) -> tuple[Starlette, SimulatorState]:
    app = create_simulator(district, SimulatorConfig(**config))
    return app, app.state.simulator


@asynccontextmanager
async def edfi_adapter(app: Starlette, **overrides: Any) -> AsyncIterator[EdFiAdapter]:
    """An opened adapter talking to ``app`` in process (no sockets)."""
    adapter = EdFiAdapter(edfi_config(**overrides), transport=httpx.ASGITransport(app=app))
    try:
        await adapter.open()
        yield adapter
    finally:
        await adapter.aclose()


@asynccontextmanager
async def csv_adapter(district: Path) -> AsyncIterator[OneRosterCsvAdapter]:
    adapter = OneRosterCsvAdapter(OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=district))
    await adapter.open()
    try:
        yield adapter
    finally:
        await adapter.aclose()


def every_field(entity: Entity) -> frozenset[str]:
    return frozenset(data_fields(RECORD_TYPES[entity]))


async def fetch_all(adapter: Any, request: FetchRequest) -> list[Record]:
    """Every record of ``request``, following cursors."""
    return await fetch_every_page(adapter.fetch, request)
