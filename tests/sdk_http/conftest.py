"""Fixtures for the HTTP toolkit: a fake clock whose sleep only advances it, and configs."""

from __future__ import annotations

from typing import Any

import pytest

from hub.sdk.http import HttpSourceConfig, Timing

BASE = "https://vendor.example/api"


class FakeTime:
    """Monotonic and wall clocks that move only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.wall_now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.wall_now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall_now += seconds

    def timing(self, jitter: float = 0.5) -> Timing:
        return Timing(monotonic=self.monotonic, wall=self.wall, sleep=self.sleep, jitter=lambda: jitter)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_config(**overrides: Any) -> HttpSourceConfig:
    values: dict[str, Any] = {"name": "sis", "kind": "test-http", "base_url": BASE}
    values.update(overrides)
    return HttpSourceConfig(**values)
