"""``homeroom serve --workers 2`` on PostgreSQL: both workers answer, a policy change reaches
both within seconds, a worker killed under load loses no audited answer (skipped, with
the reason, without PostgreSQL); SQLite is refused with a clear message."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import secrets
import shutil
import signal
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from hub.policy import default_policy_dir
from hub.testing import DistrictSpec, generate_district
from tests.cli import Process, needs_console_script, run_to_exit, running
from tests.store.fixtures import PG_SKIP_REASON, pg_admin_execute, pg_admin_url

pytestmark = needs_console_script

EMAILS = "query { viewer { sections { edges { node { students { edges { node { id email } } } } } } } }"
TEACHER_EMAIL = "p, teacher, Student.email, read, teacher, allow\n"


def _config(root: Path, store: str) -> Path:
    district = root / "district"
    generate_district(district, DistrictSpec(students=50, seed=11))
    shutil.copytree(default_policy_dir(), root / "policy")
    path = root / "homeroom.toml"
    path.write_text(
        f"""\
[server]
host = "127.0.0.1"

[auth]
dev_key_file = "dev.key"

[policy]
dir = "policy"
watch = true

[store]
url = "{store}"

[[sources]]
name = "sis"
kind = "oneroster-csv"
path = "district"
""",
        encoding="utf-8",
    )
    return path


def _a_teacher(root: Path) -> str:
    with (root / "district" / "roles.csv").open(encoding="utf-8", newline="") as stream:
        return next(row["userSourcedId"] for row in csv.DictReader(stream) if row["role"] == "teacher")


def _workers(server: Process) -> set[int]:
    """The pids of the processes ``server`` started (uvicorn's workers)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() != str(server.proc.pid):
            continue
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in (status.parent / "cmdline").read_bytes():  # multiprocessing's own
                found.add(int(status.parent.name))
    return found


async def _ask(base: str, token: str, count: int) -> list[httpx.Response]:
    async def one() -> httpx.Response:
        # A connection each: the kernel spreads new connections over the workers.
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(
                f"{base}/graphql", json={"query": EMAILS}, headers={"Authorization": f"Bearer {token}"}
            )

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _audited(store: str) -> dict[str, int]:
    """Audit events per kind in the store."""
    conn = await asyncpg.connect(
        make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        rows = await conn.fetch("SELECT kind, count(*) AS n FROM audit_events GROUP BY kind")
    finally:
        await conn.close()
    return {row["kind"]: int(row["n"]) for row in rows}


def test_several_workers_on_sqlite_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    done = run_to_exit(["serve", "--config", str(config), "--workers", "2"], cwd=tmp_path)
    assert done.returncode == 2
    assert "SQLite is a one-process store" in done.stderr and "PostgreSQL" in done.stderr


def test_two_workers_share_the_store_follow_the_policy_and_lose_no_audited_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(PG_SKIP_REASON)
    name = f"homeroom_workers_{secrets.token_hex(4)}"
    store = make_url(admin).set(database=name).render_as_string(hide_password=False)
    asyncio.run(pg_admin_execute(f'CREATE DATABASE "{name}"'))
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    try:
        config = _config(tmp_path, store)
        run_to_exit(["db", "upgrade", "--config", str(config)], cwd=tmp_path)
        token = run_to_exit(
            ["token", "--config", str(config), "--role", "teacher", "--person", _a_teacher(tmp_path)],
            cwd=tmp_path,
        ).stdout.strip()
        args = ["serve", "--config", str(config), "--port", "{port}", "--workers", "2"]
        with running(args, cwd=tmp_path, timeout=90) as server:
            workers = _workers(server)
            assert len(workers) == 2, workers
            # Both workers answer: each wrote its own counters.
            deadline = time.monotonic() + 30
            answered: set[int] = set()
            disclosed = refused_answers = 0  # answers that left, each to be found in the audit log
            while answered != workers and time.monotonic() < deadline:
                responses = asyncio.run(_ask(server.base_url, token, 10))
                assert all(r.status_code == 200 and "errors" not in r.json() for r in responses)
                disclosed += len(responses)
                answered = {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("counter_*.db")} & workers
            assert answered == workers
            # The policy withdraws the field: both workers refuse it within 10 s.
            # (Its own test first, which names the field: then the policy, which the test now allows.)
            cases = tmp_path / "policy" / "tests" / "teacher.yaml"
            listed = cases.read_text(encoding="utf-8")
            assert " Student.email," in listed
            cases.write_text(listed.replace(" Student.email,", "", 1), encoding="utf-8")
            policy = tmp_path / "policy" / "policy.csv"
            text = policy.read_text(encoding="utf-8")
            assert TEACHER_EMAIL in text
            policy.write_text(text.replace(TEACHER_EMAIL, ""), encoding="utf-8")
            deadline = time.monotonic() + 10
            while True:
                refused = asyncio.run(_ask(server.base_url, token, 10))
                disclosed += sum("FORBIDDEN" not in r.text for r in refused)
                refused_answers += sum("FORBIDDEN" in r.text for r in refused)
                if all("FORBIDDEN" in r.text for r in refused):
                    break
                assert time.monotonic() < deadline, [r.text[:200] for r in refused]
                time.sleep(0.2)
            # A worker killed under load: every answer that left was audited, the chain holds.
            victim = sorted(workers)[0]

            async def load_and_kill() -> list[httpx.Response | BaseException]:
                asking = asyncio.gather(
                    *(_ask(server.base_url, token, 5) for _ in range(4)), return_exceptions=True
                )
                await asyncio.sleep(0.05)
                os.kill(victim, signal.SIGKILL)
                results: list[httpx.Response | BaseException] = []
                for batch in await asking:
                    results.extend(batch if isinstance(batch, list) else [batch])
                return results

            under_kill = asyncio.run(load_and_kill())
            refused_answers += sum(
                isinstance(r, httpx.Response) and "FORBIDDEN" in r.text for r in under_kill
            )
        verified = run_to_exit(["audit", "verify", "--config", str(config)], cwd=tmp_path)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # No answer that left is missing from the log (each was written before it left).
        kinds = asyncio.run(_audited(store))
        assert kinds.get("disclosure", 0) >= disclosed > 0, (kinds, disclosed)
        assert kinds.get("refusal", 0) >= refused_answers > 0, (kinds, refused_answers)
    finally:
        asyncio.run(pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
