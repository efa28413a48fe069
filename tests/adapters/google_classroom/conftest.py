"""Fixtures: a generated district, the Classroom simulator in process, adapters
over it, and a fake clock so retries and backoff cost no real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.google_classroom import GoogleClassroomAdapter, GoogleClassroomConfig
from adapters.google_classroom.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import FetchRequest, Record, fetch_every_page
from hub.sdk.http import Timing
from tests.support import make_district

SIM_BASE = "http://classroom.test"
TOKEN_ENV = "HOMEROOM_TEST_CLASSROOM_TOKEN"
CLIENT_ID_ENV = "HOMEROOM_TEST_CLASSROOM_CLIENT_ID"
CLIENT_SECRET_ENV = "HOMEROOM_TEST_CLASSROOM_CLIENT_SECRET"


@pytest.fixture(scope="package")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("classroom-district"), 120)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    defaults = SimulatorConfig()
    assert defaults.token is not None
    monkeypatch.setenv(TOKEN_ENV, defaults.token)
    monkeypatch.setenv(CLIENT_ID_ENV, defaults.client_id)
    monkeypatch.setenv(CLIENT_SECRET_ENV, defaults.client_secret)
    yield


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def timing(self) -> Timing:
        return Timing(monotonic=self.monotonic, wall=self.wall, sleep=self.sleep, jitter=lambda: 0.5)


def classroom_config(base_url: str = SIM_BASE, **overrides: Any) -> GoogleClassroomConfig:
    values: dict[str, Any] = {
        "name": "lms",
        "kind": "google-classroom",
        "base_url": base_url,
        "token_env": TOKEN_ENV,
    }
    values.update(overrides)
    return GoogleClassroomConfig.model_validate(values)


def simulator(district: Path, **config: Any) -> tuple[Starlette, SimulatorState]:
    app = create_simulator(district, SimulatorConfig(**config))
    return app, app.state.simulator


@asynccontextmanager
async def classroom(
    app: Starlette, *, timing: Timing | None = None, **overrides: Any
) -> AsyncIterator[GoogleClassroomAdapter]:
    """An opened adapter talking to ``app`` in process (no sockets)."""
    adapter = GoogleClassroomAdapter(
        classroom_config(**overrides), transport=httpx.ASGITransport(app=app), timing=timing
    )
    try:
        await adapter.open()
        yield adapter
    finally:
        await adapter.aclose()


async def fetch_all(adapter: Any, request: FetchRequest) -> list[Record]:
    """Every record of ``request``, following cursors."""
    return await fetch_every_page(adapter.fetch, request)
