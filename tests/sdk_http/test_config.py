"""HttpSourceConfig: defaults that suit a district-sized vendor, and clear refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from .conftest import make_config


def test_defaults_are_polite_and_bounded() -> None:
    config = make_config()
    assert config.base_url == "https://vendor.example/api"
    assert (config.connect_timeout, config.read_timeout, config.total_timeout) == (5.0, 30.0, 60.0)
    assert config.max_concurrency <= config.max_connections
    assert config.rate_limit_per_second is None
    assert (config.retries, config.retry_budget, config.page_size) == (3, 30, 100)


def test_a_trailing_slash_is_dropped() -> None:
    assert make_config(base_url="http://127.0.0.1:8080/x/").base_url == "http://127.0.0.1:8080/x"


@pytest.mark.parametrize(
    "overrides",
    [
        {"base_url": "ftp://vendor.example"},
        {"base_url": "not a url"},
        {"base_url": "https://vendor.example/api?token=1"},
        {"max_concurrency": 20, "max_connections": 10},
        {"total_timeout": 0},
        {"retries": -1},
        {"page_size": 0},
        {"unknown_key": 1},
    ],
)
def test_bad_values_are_refused_at_start_up(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make_config(**overrides)
