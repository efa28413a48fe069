"""The ``[[sources]]`` table of kind ``google-classroom``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.google_classroom import SPEC, GoogleClassroomAdapter, GoogleClassroomConfig
from hub.federation.registry import configure_source
from hub.sdk import ConfigError
from hub.sdk.http import BearerToken, OAuth2ClientCredentials

from .conftest import CLIENT_ID_ENV, CLIENT_SECRET_ENV, TOKEN_ENV


def table(**keys: Any) -> dict[str, Any]:
    return {"name": "lms", "kind": "google-classroom", **keys}


def test_defaults_point_at_google_and_serve_active_courses() -> None:
    config = GoogleClassroomConfig.model_validate(table(token_env=TOKEN_ENV))
    assert config.base_url == "https://classroom.googleapis.com"
    assert config.course_states == ("ACTIVE",)
    assert config.guardians == "all"
    assert config.page_size == 100 and config.lookup_limit == 5
    assert config.uses_bearer_token


def test_the_spec_builds_an_adapter_from_a_table() -> None:
    adapter = configure_source(table(token_env=TOKEN_ENV, base_url="http://sim.test/"), {SPEC.kind: SPEC})
    assert isinstance(adapter, GoogleClassroomAdapter)
    assert adapter.name == "lms" and adapter.config.base_url == "http://sim.test"
    assert isinstance(adapter.client._auth, BearerToken)


def test_client_credentials_use_the_token_endpoint() -> None:
    config = GoogleClassroomConfig.model_validate(
        table(
            token_url="https://broker.test/token",
            client_id_env=CLIENT_ID_ENV,
            client_secret_env=CLIENT_SECRET_ENV,
        )
    )
    adapter = GoogleClassroomAdapter(config)
    assert isinstance(adapter.client._auth, OAuth2ClientCredentials)
    assert "classroom.rosters.readonly" in (config.scope or "")
    assert not config.uses_bearer_token


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({}, "give either token_env/token_file"),
        ({"token_env": "A", "token_url": "https://t"}, "give either token_env/token_file"),
        ({"token_env": "A", "token_file": "/x"}, "only one of token_env and token_file"),
        ({"client_id_env": "A", "client_secret_env": "B"}, "token_url is required"),
        ({"token_url": "https://t", "client_secret_env": "B"}, "exactly one of client_id_env"),
        ({"token_env": "A", "course_states": []}, "at least 1"),
        ({"token_env": "A", "course_states": ["OPEN"]}, "course_states"),
        ({"token_env": "A", "guardians": "some"}, "guardians"),
        ({"token_env": "A", "colour": "red"}, "colour"),
    ],
)
def test_bad_tables_are_refused(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        GoogleClassroomConfig.model_validate(table(**keys))
    assert message in str(caught.value)


def test_a_missing_secret_names_the_variable_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    config = GoogleClassroomConfig.model_validate(table(token_env=TOKEN_ENV))
    with pytest.raises(ConfigError) as caught:
        GoogleClassroomAdapter(config)
    assert TOKEN_ENV in str(caught.value)


def test_an_empty_token_file_is_a_start_up_error(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("  \n", encoding="utf-8")
    config = GoogleClassroomConfig.model_validate(table(token_file=str(token_file)))
    with pytest.raises(ConfigError, match="empty"):
        GoogleClassroomAdapter(config)
