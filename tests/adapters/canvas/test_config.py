"""The canvas config: base_url, account, token from env or file, per_page, term."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.canvas import SPEC, CanvasAdapter, CanvasConfig
from hub.federation.registry import configure_source
from hub.sdk import ConfigError

from .conftest import TOKEN_ENV


def table(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "lms",
        "kind": "canvas",
        "base_url": "https://district.instructure.com",
        "token_env": TOKEN_ENV,
    }
    values.update(overrides)
    return values


async def test_a_table_configures_a_source() -> None:
    adapter = configure_source(
        table(account_id="1", per_page=50, term_id="sis_term_id:SY2027"), {"canvas": SPEC}
    )
    assert isinstance(adapter, CanvasAdapter)
    assert adapter.name == "lms" and SPEC.kind == "canvas"
    assert str(adapter.client.base_url) == "https://district.instructure.com/api/v1/"
    assert adapter.walker.per_page == 50
    await adapter.aclose()


def test_defaults() -> None:
    config = CanvasConfig.model_validate(table())
    assert (config.account_id, config.per_page, config.term_id) == ("self", 100, None)


@pytest.mark.parametrize(
    "base_url", ["https://district.instructure.com/api/v1", "https://district.instructure.com/api/v1/"]
)
def test_base_url_may_include_the_api_path(base_url: str) -> None:
    assert (
        CanvasConfig.model_validate(table(base_url=base_url)).base_url == "https://district.instructure.com"
    )


def test_the_token_may_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "canvas.token"
    secret.write_text("  file-token\n", encoding="utf-8")
    config = CanvasConfig.model_validate(table(token_env=None, token_file=str(secret)))
    assert config.token() == "file-token" and config.token_name() == str(secret)


def test_a_missing_token_names_the_variable_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(ConfigError) as caught:
        configure_source(table(), {"canvas": SPEC})
    assert caught.value.key == "token" and TOKEN_ENV in caught.value.reason


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"token_env": None}, "exactly one of token_env and token_file"),
        ({"token_file": "/run/secrets/canvas"}, "exactly one of token_env and token_file"),
        ({"per_page": 500}, "less than or equal to 100"),
        ({"per_page": 0}, "greater than or equal to 1"),
        ({"page_size": 50}, "set per_page instead"),
        ({"account_id": "../1"}, "account id"),
        ({"account_id": "sis_account_id:"}, "account id"),
        ({"term_id": "fall"}, "term id"),
        ({"base_url": "ftp://canvas.example"}, "http"),
        ({"tokn_env": "X"}, "Extra inputs"),
    ],
)
def test_mistakes_are_refused_at_start_up(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CanvasConfig.model_validate(table(**overrides))


@pytest.mark.parametrize("account", ["self", "1", "sis_account_id:district-1"])
def test_account_forms(account: str) -> None:
    assert CanvasConfig.model_validate(table(account_id=account)).account_id == account
