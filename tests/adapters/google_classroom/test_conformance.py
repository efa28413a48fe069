"""``google-classroom`` passes the adapter conformance kit against its simulator,
in process (``httpx.ASGITransport``, no sockets)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.google_classroom import GoogleClassroomAdapter
from adapters.google_classroom.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import Adapter
from hub.testing.conformance import AdapterConformance, ConformanceTarget

from .conftest import TOKEN_ENV, classroom_config

WRONG_TOKEN_ENV = "HOMEROOM_TEST_CLASSROOM_WRONG_TOKEN"


@pytest.fixture(scope="module")
def simulator(district: Path) -> Starlette:
    return create_simulator(district, SimulatorConfig())


class TestGoogleClassroom(AdapterConformance):
    """Every check of the kit over the simulated Classroom."""

    @pytest.fixture
    def conformance_target(self, simulator: Starlette, monkeypatch: pytest.MonkeyPatch) -> ConformanceTarget:
        monkeypatch.setenv(WRONG_TOKEN_ENV, "not-the-simulators-token")
        state: SimulatorState = simulator.state.simulator

        def adapter(token_env: str = TOKEN_ENV) -> Adapter:
            # Fail fast during the outage check: few, short retries.
            config = classroom_config(
                token_env=token_env, retries=1, backoff_base=0.01, backoff_max=0.02, total_timeout=10
            )
            return GoogleClassroomAdapter(config, transport=httpx.ASGITransport(app=simulator))

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
