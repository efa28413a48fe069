"""The ``edfi`` source table: defaults, derived URLs and refused values."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.edfi import SPEC, EdFiConfig
from hub.sdk import ConfigError


def _config(**values: Any) -> EdFiConfig:
    table = {
        "name": "ods",
        "kind": "edfi",
        "base_url": "https://ods.example.org/api/",
        "key_env": "K",
        "secret_env": "S",
    }
    return EdFiConfig.model_validate({**table, **values})


def test_defaults_and_derived_urls() -> None:
    config = _config()
    assert SPEC.kind == "edfi" and SPEC.config is EdFiConfig
    assert config.base_url == "https://ods.example.org/api"
    assert config.data_standard == "5"
    assert config.resolved_token_url == "https://ods.example.org/api/oauth/token"
    assert config.data_path == "/data/v3/ed-fi"
    assert config.page_size == 500
    assert config.directory_opt_out_indicator == "Directory Opt Out"


def test_year_specific_route_and_explicit_token_url() -> None:
    config = _config(school_year=2022, token_url="https://auth.example.org/token", api_path="/data/v3/ed-fi/")
    assert config.data_path == "/data/v3/2022/ed-fi"
    assert config.resolved_token_url == "https://auth.example.org/token"


@pytest.mark.parametrize(
    "values",
    [
        {"data_standard": "3"},
        {"page_size": 501},
        {"timezone": "Mars/Olympus"},
        {"api_path": "data/v3"},
        {"key_file": "/run/key"},  # both key_env and key_file
        {"secret_env": None},  # neither secret_env nor secret_file
        {"surprise": 1},
    ],
)
def test_refused_values(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _config(**values)


def test_secrets_are_read_when_the_adapter_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("K", raising=False)
    with pytest.raises(ConfigError, match=r"'key'.*environment variable K is not set"):
        SPEC.create(_config())
