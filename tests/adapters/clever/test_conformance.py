"""``clever`` passes the adapter conformance kit against its simulator, in
process (``httpx.ASGITransport``), for v3.0 and v3.1."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.clever import CleverAdapter
from adapters.clever.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import Adapter
from hub.testing.conformance import AdapterConformance, ConformanceTarget

from .conftest import TOKEN_ENV, clever_config

WRONG_TOKEN_ENV = "HOMEROOM_TEST_CLEVER_WRONG_TOKEN"


@pytest.fixture(scope="module", params=["v3.0", "v3.1"])
def clever_app(request: pytest.FixtureRequest, district: Path) -> Starlette:
    return create_simulator(district, SimulatorConfig(api_version=request.param))


class TestClever(AdapterConformance):
    """Every check of the kit over the simulated Clever."""

    @pytest.fixture
    def conformance_target(self, clever_app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ConformanceTarget:
        monkeypatch.setenv(WRONG_TOKEN_ENV, "not-the-district-token")
        state: SimulatorState = clever_app.state.simulator
        version = state.config.api_version

        def adapter(token_env: str = TOKEN_ENV) -> Adapter:
            config = clever_config(
                api_version=version,
                token_env=token_env,
                # Small pages and few look-ups: every read path is exercised on 60 students.
                page_size=25,
                max_lookups=5,
                # Fail fast during the outage check: few, short retries.
                retries=1,
                backoff_base=0.01,
                backoff_max=0.02,
                total_timeout=10,
            )
            return CleverAdapter(config, transport=httpx.ASGITransport(app=clever_app))

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
        )
