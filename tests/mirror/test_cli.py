"""``homeroom mirror status`` and ``homeroom mirror resync`` through typer's
CliRunner, against a real store filled by a hub over the OneRoster REST simulator."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from adapters.oneroster_rest.simulator import SimulatorState, create_simulator
from hub.cli import app
from hub.mirror import MirroredAdapter, MirrorStore
from hub.model import Entity
from hub.store import create_engine
from hub.testing.server import serving

from .folder import full_reads
from .hubs import rest_hub, rest_table

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("simulator_credentials", "fast_switching")


def _toml_value(value: Any) -> str:
    # JSON strings and numbers are TOML basic strings and numbers.
    return json.dumps(value)


def _config(path: Path, table: dict[str, Any], url: str) -> Path:
    lines = ["[store]", f"url = {_toml_value(url)}", "", "[[sources]]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _invoke(*args: str) -> Result:
    # The commands run their own event loop: off this one.
    return await asyncio.to_thread(runner.invoke, app, list(args))


async def _score_state(url: str) -> Any:
    store = MirrorStore(create_engine(url))
    try:
        return (await store.state("sis"))[Entity.SCORE]
    finally:
        await store.aclose()


def _given_names(folder: Path) -> set[str]:
    with (folder / "users.csv").open(encoding="utf-8", newline="") as stream:
        return {row["givenName"] for row in csv.DictReader(stream) if len(row["givenName"]) > 3}


async def test_status_and_a_resync_with_no_hub_running(district: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(district, tmp_path / "district"))
    simulator = create_simulator(folder)
    state: SimulatorState = simulator.state.simulator
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    with serving(simulator) as base:
        table = rest_table(base)  # no mode key: a vendor over HTTP is mirrored by default
        assert "mode" not in table
        config = _config(tmp_path / "homeroom.toml", table, url)
        never = await _invoke("mirror", "status", "--config", str(config))
        assert "error" in never.output  # no database yet: told to migrate
        async with rest_hub(table, url):
            pass
        status = await _invoke("mirror", "status", "--config", str(config))
        assert status.exit_code == 0, status.output
        header, *rows = status.output.splitlines()
        assert header.split() == [
            "source",
            "entity",
            "rows",
            "last",
            "full",
            "sync",
            "last",
            "delta",
            "lag",
            "last",
            "error",
        ]
        score = next(row.split() for row in rows if row.split()[1] == "Score")
        assert score[0] == "sis" and int(score[2]) > 0
        assert not _given_names(folder) & set(status.output.split())  # no personal data
        before = await _score_state(url)
        mark = len(state.queries)
        resync = await _invoke("mirror", "resync", "sis", "score", "--config", str(config))
        assert resync.exit_code == 0, resync.output
        assert "no hub is syncing it; reading it in full here" in resync.output
        assert f"Score read in full: {score[2]} rows" in resync.output
        read = [
            path
            for path, query in zip(state.paths[mark:], state.queries[mark:], strict=True)
            if full_reads([query])
        ]
        assert read and {path.rsplit("/", 1)[-1] for path in read} == {"results"}
        after = await _score_state(url)
        assert after.resync_requested is None and after.last_full_sync > before.last_full_sync
        unknown = await _invoke("mirror", "resync", "nope", "--config", str(config))
        assert unknown.exit_code == 2 and "not a mirrored source" in unknown.output


async def test_a_running_hub_takes_a_resync_up_at_its_next_tick(district: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(district, tmp_path / "district"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    with serving(create_simulator(folder)) as base:
        table = rest_table(base, mode="mirror", mirror_gradebook_seconds=1)
        config = _config(tmp_path / "homeroom.toml", table, url)
        async with rest_hub(table, url) as running:
            adapter = running.hub.registry.adapters["sis"]
            assert isinstance(adapter, MirroredAdapter) and adapter.sync is not None
            before = await _score_state(url)
            # Ready means its first tick ran: it noted itself as the syncer before reading.
            resync = await _invoke("mirror", "resync", "sis", "--config", str(config))
            assert resync.exit_code == 0, resync.output
            assert (
                "marked for a full re-read" in resync.output and "reads it at its next tick" in resync.output
            )
            async with asyncio.timeout(20):
                while True:
                    after = await _score_state(url)
                    if after.resync_requested is None and after.last_full_sync > before.last_full_sync:
                        break
                    await asyncio.sleep(0.1)
            assert dt.datetime.now(dt.UTC) - after.last_full_sync < dt.timedelta(seconds=30)
