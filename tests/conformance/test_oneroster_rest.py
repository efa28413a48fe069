"""``oneroster-rest`` passes the conformance kit against its simulator, in process.

The adapter talks to the simulator through ``httpx.ASGITransport`` (no
sockets): the way to run the kit over any ASGI simulator, or over a recording
replayed by a transport.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.oneroster_rest import OneRosterRestAdapter, OneRosterRestConfig
from adapters.oneroster_rest.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import Adapter, Entity
from hub.testing.conformance import AdapterConformance, ConformanceTarget

BASE = "http://sis.test"
ID_ENV = "HOMEROOM_TEST_CONFORMANCE_OR_ID"
SECRET_ENV = "HOMEROOM_TEST_CONFORMANCE_OR_SECRET"
WRONG_SECRET_ENV = "HOMEROOM_TEST_CONFORMANCE_OR_WRONG"


@pytest.fixture(scope="module")
def simulator(district: Path) -> Starlette:
    return create_simulator(district, SimulatorConfig(version="1.2"))


def _config(secret_env: str = SECRET_ENV) -> OneRosterRestConfig:
    values: dict[str, Any] = {
        "name": "sis",
        "kind": "oneroster-rest",
        "base_url": BASE,
        "token_url": f"{BASE}/token",
        "client_id_env": ID_ENV,
        "client_secret_env": secret_env,
        # Fail fast during the outage check: few, short retries.
        "retries": 1,
        "backoff_base": 0.01,
        "backoff_max": 0.02,
        "total_timeout": 10,
    }
    return OneRosterRestConfig.model_validate(values)


class TestOneRosterRest(AdapterConformance):
    """Every check of the kit over the OneRoster 1.2 simulator."""

    @pytest.fixture
    def conformance_target(self, simulator: Starlette, monkeypatch: pytest.MonkeyPatch) -> ConformanceTarget:
        defaults = SimulatorConfig()
        monkeypatch.setenv(ID_ENV, defaults.client_id)
        monkeypatch.setenv(SECRET_ENV, defaults.client_secret)
        monkeypatch.setenv(WRONG_SECRET_ENV, defaults.client_secret + "-not")
        state: SimulatorState = simulator.state.simulator

        def adapter(secret_env: str = SECRET_ENV) -> Adapter:
            return OneRosterRestAdapter(_config(secret_env), transport=httpx.ASGITransport(app=simulator))

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
            bad_credentials=lambda: adapter(WRONG_SECRET_ENV),
            sparse_fields=SPARSE,
        )


SPARSE = {
    # The generated district writes no such values.
    Entity.TEACHER: {"preferred_name"},
    Entity.GUARDIAN: {"identifier", "preferred_name"},
    Entity.ATTENDANCE_EVENT: {"section_id"},  # daily marks, not per period
}
