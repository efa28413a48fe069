"""Settings from the environment (``HOMEROOM_<TABLE>__<KEY>``) and the secrets folder, and
``homeroom config show`` with every secret masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import SettingsError, load_settings

TOML = """\
[server]
port = 8000

[store]
url = "sqlite+aiosqlite:///from-file.db"

[[sources]]
name = "lms"
kind = "canvas"
client_secret = "inline-secret-value"
client_secret_env = "CANVAS_SECRET"
base_url = "https://svc:basepass99@canvas.example.org/api"
token_url = "https://canvas.example.org/login/oauth2/token"
headers = { Authorization = "Bearer header-token-77" }
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMEROOM_SECRETS_DIR", raising=False)
    path = tmp_path / "homeroom.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def test_a_variable_sets_a_key_of_a_table_over_the_file(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEROOM_SERVER__PORT", "9001")
    monkeypatch.setenv("HOMEROOM_SERVER__CORS_ORIGINS", '["https://dash.example.org"]')
    monkeypatch.setenv("HOMEROOM_POLICY__WATCH", "false")
    settings = load_settings(config)
    assert settings.server.port == 9001
    assert settings.server.cors_origins == ("https://dash.example.org",)
    assert settings.policy.watch is False
    assert settings.store.url == "sqlite+aiosqlite:///from-file.db"  # not set: the file's


def test_a_secret_file_sets_a_key_and_a_variable_wins_over_it(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "homeroom_store__url").write_text("postgresql+asyncpg://hub:pw@db/hub", encoding="utf-8")
    (secrets / "homeroom_server__port").write_text("7000", encoding="utf-8")
    monkeypatch.setenv("HOMEROOM_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("HOMEROOM_SERVER__PORT", "9002")
    settings = load_settings(config)
    assert settings.store.url == "postgresql+asyncpg://hub:pw@db/hub"
    assert settings.server.port == 9002


def test_a_misspelt_variable_is_a_clear_error(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEROOM_SERVER__PROT", "9001")
    with pytest.raises(SettingsError, match=r"server\.prot"):
        load_settings(config)


def test_config_show_prints_the_effective_settings_with_secrets_masked(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEROOM_STORE__URL", "postgresql+asyncpg://hub:hunter2@db/hub")
    monkeypatch.setenv("HOMEROOM_SERVER__PORT", "9003")
    result = CliRunner().invoke(app, ["config", "show", "--config", str(config)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["server"]["port"] == 9003
    assert shown["store"]["url"] == "postgresql+asyncpg://hub:***@db/hub"
    (source,) = shown["sources"]
    assert source["client_secret"] == "********"
    assert source["client_secret_env"] == "CANVAS_SECRET"  # where the secret is, not the secret
    assert source["base_url"] == "https://svc:***@canvas.example.org/api"
    assert source["token_url"] == "https://canvas.example.org/login/oauth2/token"  # a URL, not a token
    assert source["headers"] == {"Authorization": "********"}
    assert shown["server"]["max_tokens"] == 5000  # a limit, not a token
    for secret in ("hunter2", "inline-secret-value", "basepass99", "header-token-77"):
        assert secret not in result.stdout, secret
