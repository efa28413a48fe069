"""The hub killed with SIGKILL under concurrent load: every response a client
received has its audit event, and the chain still verifies."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import httpx

from hub.audit import AuditLog
from hub.store import create_engine
from hub.testing import DistrictSpec, generate_district
from tests.cli import needs_console_script, run_to_exit, running
from tests.support import TODAY

QUERY = "query Roster { students(first: 20) { edges { node { id givenName gradeLevel } } } }"
CLIENTS = 8
REQUESTS_EACH = 400


def _config(folder: Path) -> Path:
    generate_district(folder / "district", DistrictSpec(students=80, seed=9, today=TODAY))
    config = folder / "homeroom.toml"
    config.write_text(
        '[auth]\ndev_key_file = "dev.key"\n\n[store]\nurl = "sqlite+aiosqlite:///audit.db"\n\n'
        '[[sources]]\nname = "sis"\nkind = "oneroster-csv"\npath = "district"\n',
        encoding="utf-8",
    )
    return config


async def _hammer(url: str, token: str, stop: asyncio.Event, received: list[str]) -> None:
    """Post from several clients until ``stop``, noting the purposes of the answers received."""

    async def client(number: int) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            for attempt in range(REQUESTS_EACH):
                if stop.is_set():
                    return
                purpose = f"crash-{number}-{attempt}"
                try:
                    response = await http.post(
                        url,
                        json={"query": QUERY},
                        headers={"Authorization": f"Bearer {token}", "Homeroom-Purpose": purpose},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200 and response.json().get("data"):
                    received.append(purpose)

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))


@needs_console_script
async def test_every_answer_received_before_a_sigkill_was_audited(tmp_path: Path) -> None:
    config = _config(tmp_path)
    issued = run_to_exit(["token", "--config", str(config), "--role", "district_admin"], cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    with running(["serve", "--config", str(config), "--port", "{port}"], cwd=tmp_path) as server:
        stop = asyncio.Event()
        received: list[str] = []
        load = asyncio.ensure_future(_hammer(f"{server.base_url}/graphql", token, stop, received))
        # Let the load build up (however busy the machine), then pull the plug mid-flight.
        deadline = asyncio.get_running_loop().time() + 60
        while len(received) < 40 and asyncio.get_running_loop().time() < deadline and not load.done():
            await asyncio.sleep(0.05)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
        stop.set()
        await load
    assert len(received) >= 40, "the load never got going"

    with sqlite3.connect(tmp_path / "audit.db") as connection:
        audited = {row[0] for row in connection.execute("SELECT purpose FROM audit_events")}
    missing = [purpose for purpose in received if purpose not in audited]
    assert missing == []

    verified = run_to_exit(["audit", "verify", "--config", str(config)], cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}")
    try:
        async with AuditLog(engine) as audit:
            report = await audit.verify()
            assert report.ok, report.describe()
    finally:
        await engine.dispose()
