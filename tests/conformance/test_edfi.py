"""``edfi`` passes the conformance kit against its simulator, served over HTTP."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.edfi import EdFiAdapter, EdFiConfig
from adapters.edfi.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import Adapter, Entity
from hub.testing.conformance import AdapterConformance, ConformanceTarget
from hub.testing.server import serving

KEY_ENV = "HOMEROOM_TEST_CONFORMANCE_EDFI_KEY"
SECRET_ENV = "HOMEROOM_TEST_CONFORMANCE_EDFI_SECRET"
WRONG_SECRET_ENV = "HOMEROOM_TEST_CONFORMANCE_EDFI_WRONG"


@pytest.fixture(scope="module")
def simulator(district: Path) -> Starlette:
    return create_simulator(district, SimulatorConfig(data_standard="5"))


@pytest.fixture(scope="module")
def base_url(simulator: Starlette) -> Iterator[str]:
    with serving(simulator) as url:
        yield url


def _config(base_url: str, secret_env: str = SECRET_ENV) -> EdFiConfig:
    values: dict[str, Any] = {
        "name": "ods",
        "kind": "edfi",
        "base_url": base_url,
        "key_env": KEY_ENV,
        "secret_env": secret_env,
        # Fail fast during the outage check: few, short retries.
        "retries": 1,
        "backoff_base": 0.01,
        "backoff_max": 0.02,
        "total_timeout": 10,
    }
    return EdFiConfig.model_validate(values)


class TestEdFi(AdapterConformance):
    """Every check of the kit over the Ed-Fi DS 5 simulator."""

    @pytest.fixture
    def conformance_target(
        self, simulator: Starlette, base_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> ConformanceTarget:
        defaults = SimulatorConfig()
        monkeypatch.setenv(KEY_ENV, defaults.key)
        monkeypatch.setenv(SECRET_ENV, defaults.secret)
        monkeypatch.setenv(WRONG_SECRET_ENV, defaults.secret + "-not")
        state: SimulatorState = simulator.state.simulator

        def make_adapter() -> Adapter:
            return EdFiAdapter(_config(base_url))

        def bad_credentials() -> Adapter:
            return EdFiAdapter(_config(base_url, WRONG_SECRET_ENV))

        @contextlib.contextmanager
        def outage() -> Iterator[None]:
            original = state.config
            state.config = dataclasses.replace(original, error_rate=1.0, error_status=503)
            try:
                yield
            finally:
                state.config = original

        return ConformanceTarget(
            make_adapter=make_adapter,
            outage=outage,
            bad_credentials=bad_credentials,
            sparse_fields=SPARSE,
        )


SPARSE = {
    # No such values in the generated district, or none in the first
    # sampled records (student enrollments come first; only staff
    # enrollments carry ``primary``).
    Entity.TEACHER: {"preferred_name"},
    Entity.GUARDIAN: {"preferred_name"},
    Entity.ENROLLMENT: {"primary"},
    Entity.ATTENDANCE_EVENT: {"section_id"},  # daily marks, not per period
}
