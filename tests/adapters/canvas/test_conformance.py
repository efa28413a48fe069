"""``canvas`` passes the adapter conformance kit against its simulator, in process."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.canvas import CanvasAdapter
from adapters.canvas.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import Adapter
from hub.testing.conformance import AdapterConformance, ConformanceTarget

from .conftest import TOKEN_ENV, canvas_config

WRONG_TOKEN_ENV = "HOMEROOM_TEST_CANVAS_WRONG_TOKEN"


@pytest.fixture(scope="module")
def canvas_app(district: Path) -> Starlette:
    return create_simulator(district, SimulatorConfig())


class TestCanvas(AdapterConformance):
    """Every check of the kit over the simulated Canvas."""

    @pytest.fixture
    def conformance_target(self, canvas_app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ConformanceTarget:
        monkeypatch.setenv(WRONG_TOKEN_ENV, "not-the-canvas-token")
        state: SimulatorState = canvas_app.state.simulator

        def adapter(token_env: str = TOKEN_ENV) -> Adapter:
            config = canvas_config(
                token_env=token_env,
                # Small pages: every walk crosses pages and collections. (Look-ups
                # of more ids than id_lookup_max are covered by test_adapter.)
                per_page=25,
                # Fail fast during the outage check: few, short retries.
                retries=1,
                backoff_base=0.01,
                backoff_max=0.02,
                total_timeout=10,
            )
            return CanvasAdapter(config, transport=httpx.ASGITransport(app=canvas_app))

        @contextlib.contextmanager
        def outage() -> Iterator[None]:
            original = state.config
            state.config = dataclasses.replace(original, error_rate=1.0, error_status=503)
            try:
                yield
            finally:
                state.config = original

        return ConformanceTarget(
            make_adapter=adapter,
            outage=outage,
            bad_credentials=lambda: adapter(WRONG_TOKEN_ENV),
            # Enough for every page size and read path, few enough to stay fast:
            # each person's links are one more request each.
            sample_size=16,
            page_size=5,
        )
