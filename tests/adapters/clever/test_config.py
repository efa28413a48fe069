"""The ``[[sources]]`` table of kind ``clever``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.clever import SPEC, CleverAdapter, CleverConfig
from hub.federation.registry import configure_source
from hub.sdk import ConfigError

from .conftest import TOKEN, TOKEN_ENV


def _config(**values: Any) -> CleverConfig:
    return CleverConfig.model_validate({"name": "clever", "kind": "clever", **values})


def test_the_defaults_suit_a_district_on_clever() -> None:
    config = _config(token_env=TOKEN_ENV)
    assert config.base_url == "https://api.clever.com" and config.api_path == "/v3.0"
    assert (config.page_size, config.max_lookups, config.identifier) == (1000, 20, "sis_id")
    assert config.rate_limit_per_second == 20.0  # Clever's 1,200 requests per minute per token
    assert config.emergency_contacts_are_guardians is False
    assert config.token() == TOKEN


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "give exactly one of token_env and token_file"),
        ({"token_env": "A", "token_file": "b"}, "give exactly one of token_env and token_file"),
        ({"token_env": "A", "base_url": "https://api.clever.com/v3.0"}, "the version goes in api_version"),
        ({"token_env": "A", "api_version": "v2.1"}, "v3.0"),
        ({"token_env": "A", "page_size": 10_001}, "less than or equal to 10000"),
        ({"token_env": "A", "identifier": "email"}, "sis_id"),
        ({"token_env": "A", "tokn_env": "B"}, "Extra inputs"),
    ],
)
def test_mistakes_are_refused_at_start_up(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _config(**values)


def test_the_token_comes_from_a_file_and_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "clever.token"
    secret.write_text(f"{TOKEN}\n", encoding="utf-8")
    assert _config(token_file=str(secret)).token() == TOKEN
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(ConfigError) as missing:
        CleverAdapter(_config(token_env=TOKEN_ENV))
    assert missing.value.key == "token" and TOKEN_ENV in str(missing.value)


def test_a_sources_table_builds_the_adapter_through_the_spec() -> None:
    table = {"name": "clever", "kind": "clever", "token_env": TOKEN_ENV, "api_version": "v3.1"}
    adapter = configure_source(table, {SPEC.kind: SPEC})
    assert isinstance(adapter, CleverAdapter) and adapter.name == "clever"
    assert adapter.config.api_path == "/v3.1"
    with pytest.raises(ConfigError, match="unknown key"):
        configure_source({**table, "limit": 5}, {SPEC.kind: SPEC})
