"""Benchmark: what the audit log costs.

1. ``AuditLog.record`` per event: one writer in a row, and 8 concurrent
   writers, with an event shaped like a teacher's dashboard (a class of 30
   students; names of fields of four types). On SQLite (a temporary file) and
   on PostgreSQL (a temporary database on the server named by ``--postgres`` or
   ``$HOMEROOM_TEST_POSTGRES_URL``; skipped, saying so, when there is none).
2. A teacher's dashboard query with auditing on against auditing off, on each
   engine, when given an app factory (``--dashboard module:function``, see
   :class:`DashboardFactory`). Prints the ratio (target: at most 1.2 on SQLite).

Every number printed is measured in this run.

    python -m bench.audit [--events 500] [--students 30] [--postgres URL]
                          [--dashboard module:function] [--rounds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

from hub.audit import AuditEvent, AuditLog, EventKind
from hub.store import create_engine, redact_url, upgrade

PG_ENV = "HOMEROOM_TEST_POSTGRES_URL"
FIELDS = {
    "Student": ["id", "givenName", "familyName", "preferredName", "gradeLevel"],
    "Section": ["id", "title", "period"],
    "Score": ["score", "scoreStatus", "scoreDate", "comment"],
    "AttendanceEvent": ["date", "status", "period"],
}


def dashboard_event(n: int, students: int) -> AuditEvent:
    """The event a teacher's dashboard query would leave: one class's students."""
    return AuditEvent.create(
        EventKind.DISCLOSURE,
        subject=f"teacher-{n % 40}",
        roles=["teacher"],
        client="dashboard",
        operation="TeacherDashboard",
        query=f"query TeacherDashboard {{ viewer {{ sections {{ edges {{ node {{ id }} }} }} }} }} # {n % 7}",
        purpose="daily class overview",
        fields=FIELDS,
        student_ids=[f"U3R1ZGVudDpzaXM6{(n * 7 + i) % 5000:05d}" for i in range(students)],
    )


# --- per-event cost ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordCost:
    """Per-event cost of ``AuditLog.record`` on one engine."""

    engine: str
    median_ms: float
    p95_ms: float
    concurrent_ms: float  # wall time per event with 8 concurrent writers

    def line(self) -> str:
        return (
            f"{self.engine:10s} record(): median {self.median_ms:6.2f} ms, p95 {self.p95_ms:6.2f} ms "
            f"per event; 8 concurrent writers: {self.concurrent_ms:6.2f} ms per event"
        )


async def measure_record(name: str, url: str, events: int, students: int) -> RecordCost:
    """Append ``events`` events one after the other, then as many from 8 tasks."""
    engine = create_engine(url)
    try:
        async with AuditLog(engine) as audit:
            for n in range(20):  # warm up: connection, statement caches
                await audit.record(dashboard_event(n, students))
            prepared = [dashboard_event(n, students) for n in range(events)]
            timings = []
            for event in prepared:
                started = time.perf_counter()
                await audit.record(event)
                timings.append(time.perf_counter() - started)

            async def writer(task: int) -> None:
                for event in prepared[task::8]:
                    await audit.record(event)

            started = time.perf_counter()
            await asyncio.gather(*(writer(t) for t in range(8)))
            concurrent = (time.perf_counter() - started) / len(prepared)
            report = await audit.verify()
            if not report.ok:
                raise RuntimeError(f"the chain did not verify after the benchmark:\n{report.describe()}")
    finally:
        await engine.dispose()
    timings.sort()
    return RecordCost(
        engine=name,
        median_ms=statistics.median(timings) * 1000,
        p95_ms=timings[int(len(timings) * 0.95) - 1] * 1000,
        concurrent_ms=concurrent * 1000,
    )


# --- stores to measure on ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def sqlite_store() -> AsyncIterator[str]:
    """A migrated SQLite database in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="homeroom-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'homeroom.db'}"
        await upgrade(url)
        yield url


@contextlib.asynccontextmanager
async def postgres_store(admin_url: str) -> AsyncIterator[str]:
    """A migrated temporary database on the server of ``admin_url``, dropped afterwards."""
    name = f"homeroom_bench_{secrets.token_hex(4)}"
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade(url)
        yield url
    finally:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def postgres_reachable(admin_url: str) -> str | None:
    """``None`` when the server answers, else why not."""
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), 5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{redact_url(admin_url)} cannot be reached ({type(exc).__name__})"
    await conn.close()
    return None


# --- dashboard query, auditing on against off ---------------------------------------------------


@dataclass(frozen=True)
class DashboardTarget:
    """A served hub and the teacher's dashboard operation to post to it."""

    url: str  # the /graphql endpoint
    headers: Mapping[str, str]
    query: str
    variables: Mapping[str, Any] | None = None


# factory(store_url) serves a hub that records audit events in that store;
# factory(None) serves the same hub with auditing off. The context manager
# owns the server (e.g. hub.testing.server.serving) and stops it on exit.
DashboardFactory = Callable[[str | None], AbstractAsyncContextManager[DashboardTarget]]


@dataclass(frozen=True)
class DashboardRatio:
    """Median latency of the dashboard query with and without auditing."""

    engine: str
    off_ms: float
    on_ms: float

    @property
    def ratio(self) -> float:
        return self.on_ms / self.off_ms

    def line(self) -> str:
        return (
            f"{self.engine:10s} dashboard query: auditing off {self.off_ms:7.2f} ms, "
            f"on {self.on_ms:7.2f} ms (median); ratio {self.ratio:.2f}"
        )


async def _post(client: httpx.AsyncClient, target: DashboardTarget) -> float:
    payload: dict[str, Any] = {"query": target.query}
    if target.variables is not None:
        payload["variables"] = dict(target.variables)
    started = time.perf_counter()
    response = await client.post(target.url, json=payload, headers=dict(target.headers))
    elapsed = time.perf_counter() - started
    body = response.json()
    if response.status_code != 200 or body.get("errors") or not body.get("data"):
        raise RuntimeError(f"the dashboard query failed ({response.status_code}): {str(body)[:300]}")
    return elapsed


async def dashboard_ratio(
    factory: DashboardFactory, name: str, store_url: str, rounds: int = 40, warmup: int = 5
) -> DashboardRatio:
    """Median latency of the dashboard query on a hub with auditing off and on.

    Both hubs run side by side and are asked in alternating order each round,
    so background load falls on both alike.
    """
    async with (
        factory(None) as off,
        factory(store_url) as on,
        httpx.AsyncClient(timeout=120) as client,
    ):
        for _ in range(warmup):
            await _post(client, off)
            await _post(client, on)
        off_times: list[float] = []
        on_times: list[float] = []
        for n in range(rounds):
            order = ((off, off_times), (on, on_times)) if n % 2 == 0 else ((on, on_times), (off, off_times))
            for target, times in order:
                times.append(await _post(client, target))
    return DashboardRatio(name, statistics.median(off_times) * 1000, statistics.median(on_times) * 1000)


def load_factory(spec: str) -> DashboardFactory:
    """``module:function`` -> the factory."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise SystemExit(f"--dashboard {spec!r}: expected module:function")
    factory: DashboardFactory = getattr(importlib.import_module(module_name), attribute)
    return factory


# --- main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    factory = load_factory(args.dashboard) if args.dashboard else None
    stores: list[tuple[str, Callable[[], AbstractAsyncContextManager[str]]]] = [("sqlite", sqlite_store)]
    admin_url = args.postgres or os.environ.get(PG_ENV)
    if not admin_url:
        print(f"postgresql: skipped (no --postgres URL and ${PG_ENV} is not set)")
    elif (why := await postgres_reachable(admin_url)) is not None:
        print(f"postgresql: skipped ({why})")
    else:
        stores.append(("postgresql", lambda: postgres_store(admin_url)))

    names = sum(len(v) for v in FIELDS.values())
    print(f"event: {args.students} students, {names} field names; {args.events} events")
    ratios: list[DashboardRatio] = []
    for name, store in stores:
        async with store() as url:
            print((await measure_record(name, url, args.events, args.students)).line(), flush=True)
        if factory is not None:
            async with store() as url:
                result = await dashboard_ratio(factory, name, url, rounds=args.rounds)
                ratios.append(result)
                print(result.line(), flush=True)
    if factory is None:
        print("dashboard query on/off: not run (pass --dashboard module:function; see DashboardFactory)")
    for result in ratios:
        if result.engine == "sqlite":
            verdict = "within" if result.ratio <= 1.2 else "ABOVE"
            print(f"ratio on SQLite: {result.ratio:.2f} ({verdict} the target of 1.2)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=500, help="events per measurement")
    parser.add_argument("--students", type=int, default=30, help="students named by each event")
    parser.add_argument("--postgres", help=f"server for a temporary database (default ${PG_ENV})")
    parser.add_argument(
        "--dashboard",
        default="bench.dashboard:teacher_dashboard",
        help="module:function, a DashboardFactory (default: a teacher's dashboard on a generated district)",
    )
    parser.add_argument("--rounds", type=int, default=40, help="dashboard queries per setting")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
