"""``homeroom db upgrade | status`` through typer's CliRunner (SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.store import head_revision
from hub.store.cli import db_app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMEROOM_STORE_URL", raising=False)


def test_status_upgrade_status_with_the_default_database(tmp_path: Path) -> None:
    config = tmp_path / "homeroom.toml"
    config.write_text("[server]\nport = 8123\n", encoding="utf-8")

    behind = runner.invoke(db_app, ["status", "--config", str(config)])
    assert behind.exit_code == 1, behind.output
    assert "none (empty)" in behind.output
    assert f"run `homeroom db upgrade --config {config}`" in behind.output
    # The default database lives beside the config file, and status did not create it.
    assert not (tmp_path / "homeroom.db").exists()

    upgraded = runner.invoke(db_app, ["upgrade", "--config", str(config)])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded from empty to revision {head_revision()}" in upgraded.output
    assert (tmp_path / "homeroom.db").exists()

    again = runner.invoke(db_app, ["upgrade", "--config", str(config)])
    assert again.exit_code == 0 and "already at revision" in again.output

    current = runner.invoke(db_app, ["status", "--config", str(config)])
    assert current.exit_code == 0, current.output
    assert "up to date" in current.output


def test_url_option_and_missing_config(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    result = runner.invoke(db_app, ["upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(db_app, ["status", "--config", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2
    assert "no such file" in missing.output


def test_bad_url_is_reported_without_a_trace() -> None:
    result = runner.invoke(db_app, ["status", "--url", "mysql+aiomysql://u:secret@h/db"])
    assert result.exit_code == 2
    assert "unsupported database" in result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output
