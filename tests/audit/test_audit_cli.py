"""``homeroom audit verify | export | purge`` through typer's CliRunner."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.audit import AuditLog
from hub.audit.cli import audit_app
from hub.store import create_engine
from tests.audit.helpers import T0, event, set_columns, student
from tests.store.fixtures import run_in_thread

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMEROOM_STORE_URL", raising=False)


async def _fill(url: str, count: int, *, start: dt.datetime = T0) -> None:
    engine = create_engine(url)
    try:
        async with AuditLog(engine) as audit:
            for n in range(count):
                await audit.record(event(n, at=start + dt.timedelta(days=n), students=(1, n + 2)))
    finally:
        await engine.dispose()


@pytest.fixture
def filled(migrated_url: str) -> str:
    # The CLI runs its own event loop: prepare the store from a separate thread.
    # Events 19.5, 18.5, ... 15.5 days old: half a day from any purge cut-off.
    run_in_thread(_fill(migrated_url, 5, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=19.5)))
    return migrated_url


def test_verify_intact_then_damaged(filled: str) -> None:
    ok = runner.invoke(audit_app, ["verify", "--url", filled])
    assert ok.exit_code == 0, ok.output
    assert "audit chain intact: 5 events, seq 1..5" in ok.output
    head_line = next(line for line in ok.output.splitlines() if line.startswith("head: "))
    seq, digest = head_line.split()[2], head_line.split()[4]

    anchored = runner.invoke(audit_app, ["verify", "--url", filled, "--anchor", f"{seq}:{digest}"])
    assert anchored.exit_code == 0, anchored.output

    engine = create_engine(filled)

    async def tamper() -> None:
        try:
            await set_columns(engine, 2, subject="someone-else")
        finally:
            await engine.dispose()

    run_in_thread(tamper())
    damaged = runner.invoke(audit_app, ["verify", "--url", filled])
    assert damaged.exit_code == 1
    assert "audit chain DAMAGED: 1 problem(s)" in damaged.output
    assert "seq 2: edited" in damaged.output


def test_bad_anchor_is_explained(filled: str) -> None:
    result = runner.invoke(audit_app, ["verify", "--url", filled, "--anchor", "nonsense"])
    assert result.exit_code == 2
    assert "expected SEQ:HASH" in result.output


def test_export_json_to_stdout_and_csv_to_a_private_file(filled: str, tmp_path: Path) -> None:
    shown = runner.invoke(audit_app, ["export", "--url", filled, "--student", student(1)])
    assert shown.exit_code == 0, shown.output
    assert len(json.loads(shown.stdout)["events"]) == 5

    out = tmp_path / "inspection.csv"
    written = runner.invoke(
        audit_app, ["export", "--url", filled, "--student", student(3), "--format", "csv", "--out", str(out)]
    )
    assert written.exit_code == 0, written.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["seq"] for r in rows] == ["2"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_purge_uses_days_and_keeps_the_chain(filled: str) -> None:
    purged = runner.invoke(audit_app, ["purge", "--url", filled, "--days", "18"])
    assert purged.exit_code == 0, purged.output
    assert "removed 2 events, through seq 2" in purged.output
    again = runner.invoke(audit_app, ["purge", "--url", filled, "--days", "18"])
    assert "nothing older than 18 days" in again.output
    verified = runner.invoke(audit_app, ["verify", "--url", filled])
    assert verified.exit_code == 0 and "after retention checkpoint at seq 2" in verified.output


def test_purge_default_retention_from_config(tmp_path: Path) -> None:
    config = tmp_path / "homeroom.toml"
    config.write_text("", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'homeroom.db'}"
    from hub.store import upgrade

    run_in_thread(upgrade(url))
    run_in_thread(_fill(url, 2, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=4000)))
    result = runner.invoke(audit_app, ["purge", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "removed 2 events" in result.output and "1825 days" in result.output


def test_commands_refuse_a_database_that_is_behind(tmp_path: Path) -> None:
    config = tmp_path / "homeroom.toml"
    config.write_text("", encoding="utf-8")
    for args in (["verify"], ["export", "--student", "x"], ["purge"]):
        result = runner.invoke(audit_app, [*args, "--config", str(config)])
        assert result.exit_code == 2, result.output
        assert f"run `homeroom db upgrade --config {config}`" in result.output
    assert not (tmp_path / "homeroom.db").exists()


def test_no_event_loop_leaks_into_async_tests() -> None:
    # CliRunner commands call asyncio.run: nothing may be left running.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
