"""Fixtures: a generated district, its Canvas simulator in process, and adapters over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.canvas import CanvasAdapter, CanvasConfig
from adapters.canvas.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.model.entities import RECORD_TYPES
from hub.sdk import Entity, FetchRequest, Record, data_fields, fetch_every_page
from hub.sdk.http import Timing
from tests.support import make_district

SIM_BASE = "http://canvas.test"
TOKEN_ENV = "HOMEROOM_TEST_CANVAS_TOKEN"
STUDENTS = 120


@pytest.fixture(scope="package")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("canvas-district"), STUDENTS)


@pytest.fixture(scope="package", autouse=True)
def token() -> Iterator[str]:
    """The simulator's token in the variable the config names (for module fixtures too)."""
    value = SimulatorConfig().token
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_ENV, value)
        yield value


def canvas_config(base_url: str = SIM_BASE, **overrides: Any) -> CanvasConfig:
    values: dict[str, Any] = {"name": "lms", "kind": "canvas", "base_url": base_url, "token_env": TOKEN_ENV}
    values.update(overrides)
    return CanvasConfig.model_validate(values)


def simulator(district: Path, **config: Any) -> tuple[Starlette, SimulatorState]:
    app = create_simulator(district, SimulatorConfig(**config))
    return app, app.state.simulator


@asynccontextmanager
async def canvas_adapter(
    app: Starlette | httpx.AsyncBaseTransport, *, timing: Timing | None = None, **overrides: Any
) -> AsyncIterator[CanvasAdapter]:
    """An opened adapter talking to ``app`` in process (no sockets)."""
    transport = app if isinstance(app, httpx.AsyncBaseTransport) else httpx.ASGITransport(app=app)
    adapter = CanvasAdapter(canvas_config(**overrides), transport=transport, timing=timing)
    try:
        await adapter.open()
        yield adapter
    finally:
        await adapter.aclose()


def every_field(entity: Entity, adapter: CanvasAdapter | None = None) -> frozenset[str]:
    """Every attribute the adapter serves for ``entity`` (all of the record's when none given)."""
    if adapter is not None:
        return adapter.capabilities().entities[entity].fields
    return frozenset(data_fields(RECORD_TYPES[entity]))


async def fetch_all(adapter: Any, request: FetchRequest) -> list[Record]:
    """Every record of ``request``, following cursors."""
    return await fetch_every_page(adapter.fetch, request)
