"""Fixtures: a small generated district, the Clever simulator in process, and
adapters over it (no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.clever import CleverAdapter, CleverConfig
from adapters.clever.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import FetchRequest, Record, fetch_every_page
from tests.support import make_district

SIM_BASE = "http://clever.test"
TOKEN_ENV = "HOMEROOM_TEST_CLEVER_TOKEN"
TOKEN = SimulatorConfig().token


@pytest.fixture(scope="package")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("clever-district"), 60)


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    yield


def clever_table(base_url: str = SIM_BASE, **overrides: Any) -> dict[str, Any]:
    """A ``[[sources]]`` table; no client-side rate limit unless a test sets one."""
    return {
        "name": "clever",
        "kind": "clever",
        "base_url": base_url,
        "token_env": TOKEN_ENV,
        "rate_limit_per_second": None,
        **overrides,
    }


def clever_config(base_url: str = SIM_BASE, **overrides: Any) -> CleverConfig:
    return CleverConfig.model_validate(clever_table(base_url, **overrides))


def simulator(district: Path, **config: Any) -> tuple[Starlette, SimulatorState]:
    app = create_simulator(district, SimulatorConfig(**config))
    return app, app.state.simulator


@asynccontextmanager
async def clever_adapter(app: Starlette, **overrides: Any) -> AsyncIterator[CleverAdapter]:
    """An opened adapter talking to ``app`` in process."""
    adapter = CleverAdapter(clever_config(**overrides), transport=httpx.ASGITransport(app=app))
    try:
        await adapter.open()
        yield adapter
    finally:
        await adapter.aclose()


async def fetch_all(adapter: Any, request: FetchRequest) -> list[Record]:
    """Every record of ``request``, following cursors."""
    return await fetch_every_page(adapter.fetch, request)
