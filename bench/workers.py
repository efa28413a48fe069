"""Benchmark: dashboards per second with 1 and 2 ``serve --workers`` on PostgreSQL, and the
vendor's requests per minute with each (issue #13).

The cached synthetic district; the OneRoster REST simulator in its own process;
``homeroom serve --workers N`` in its own, mirroring it (gradebook every
``--interval`` s) in a PostgreSQL database of its own (``--store``, else
``$HOMEROOM_TEST_POSTGRES_URL``'s server). ``--users`` teachers ask for their
dashboard in a loop for ``--seconds``; printed per worker count: dashboards per
second, p50/p95, and the simulator's data requests per minute over the same
window. Targets: 2 workers / 1 worker about 1.8 on 2 cores (the load generator
runs on the same machine and takes its share); vendor requests per minute equal
(one worker syncs; the others follow the store).

    python -m bench.workers [--students 2000] [--users 20] [--seconds 20] [--interval 5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.dashboard_load import (
    START_TIMEOUT,
    THIS_TREE,
    Simulator,
    cached_district,
    current_teachers,
    dashboard,
    dashboard_query,
    exit_on_signal,
    log_summary,
    machine_load,
    mirrored_district_arguments,
    simulator_process,
    spread,
    teacher_tokens,
    write_hub_config,
)
from bench.processes import ProcessFailed, cli_command, running, tree_environment, wait_until
from hub.testing.server import free_port


async def _admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(
        make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _load(base_url: str, query: str, tokens: Sequence[str], seconds: float) -> list[float]:
    """Each teacher asks in a loop for ``seconds``; the times of the answers that succeeded."""
    times: list[float] = []
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(tokens) * 2, max_keepalive_connections=0)

    async def teacher(client: httpx.AsyncClient, token: str) -> None:
        while time.monotonic() < stop:
            outcome = await dashboard(client, f"{base_url}/graphql", query, token, 120)
            if outcome.failure is None:
                times.append(outcome.seconds)

    # No kept-alive connections: each dashboard is a new connection, spread by the kernel.
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        await asyncio.gather(*(teacher(client, token) for token in tokens))
    return times


def measure(
    workers: int, args: argparse.Namespace, simulator: Simulator, teachers: Sequence[str], work: Path
) -> dict[str, Any]:
    name = f"homeroom_bench_workers_{workers}_{secrets.token_hex(3)}"
    store = make_url(args.store).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(args.store, f'CREATE DATABASE "{name}"'))
    folder = work / f"hub-{workers}"
    folder.mkdir()
    try:
        port = free_port()
        config = write_hub_config(
            folder,
            port,
            simulator,
            "mirror",
            extra={"mirror_gradebook_seconds": args.interval},
            store_url=store,
        )
        env = tree_environment(THIS_TREE, simulator.environment)
        subprocess_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
        log = folder / "hub.log"
        base = f"http://127.0.0.1:{port}"
        upgrade = cli_command("db", "upgrade", "--config", str(config))
        with running(upgrade, env=env, cwd=folder, log=folder / "upgrade.log") as done:
            done.wait(timeout=120)
        command = cli_command("serve", "--config", str(config), "--workers", str(workers))
        with running(command, env=subprocess_env, cwd=folder, log=log) as process:
            seconds = wait_until(
                lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200,
                process,
                what="the hub",
                log=log,
                timeout=START_TIMEOUT,
            )
            print(f"hub with {workers} worker(s) ready in {seconds:.1f} s", flush=True)
            tokens = teacher_tokens(config, str(simulator.table["name"]), teachers)
            query = dashboard_query(dt.date.today())
            asyncio.run(_load(base, query, tokens, 3.0))  # every worker warm
            # The vendor's load with no one looking: the syncs alone (one worker syncs).
            idle_before, idle_started = simulator.data_requests(), time.monotonic()
            time.sleep(args.idle_seconds)
            idle = (simulator.data_requests() - idle_before) / (time.monotonic() - idle_started) * 60
            before = simulator.data_requests()
            started = time.monotonic()
            times = asyncio.run(_load(base, query, tokens, args.seconds))
            window = time.monotonic() - started
            vendor = simulator.data_requests() - before
            if not times:
                print("\n".join(f"hub log: {line}" for line in log_summary(log)))
    finally:
        asyncio.run(_admin(args.store, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    ordered = sorted(times)
    return {
        "workers": workers,
        "per_second": len(times) / window,
        "p50": statistics.median(ordered) if ordered else float("nan"),
        "p95": ordered[int(len(ordered) * 0.95)] if ordered else float("nan"),
        "vendor_per_minute": vendor / window * 60,
        "vendor_idle_per_minute": idle,
    }


def report(results: Sequence[dict[str, Any]]) -> int:
    for r in results:
        print(
            f"{r['workers']} worker(s): {r['per_second']:.2f} dashboards/s, p50 {r['p50']:.2f} s, "
            f"p95 {r['p95']:.2f} s; vendor {r['vendor_per_minute']:.0f} requests/min under the load, "
            f"{r['vendor_idle_per_minute']:.0f} with no one looking"
        )
    one, two = results[0], results[-1]
    ratio = two["per_second"] / one["per_second"] if one["per_second"] else float("nan")
    print(f"dashboards/s, {two['workers']} workers / 1: {ratio:.2f} (target about 1.8 on 2 cores)")
    idle = (two["vendor_idle_per_minute"] + 1) / (one["vendor_idle_per_minute"] + 1)
    verdict = "met" if 0.75 <= idle <= 1.33 else "MISSED"
    print(
        f"vendor requests/min with no one looking, {two['workers']} workers / 1: {idle:.2f} "
        f"(target: equal: {verdict})"
    )
    loaded = (two["vendor_per_minute"] + 1) / (one["vendor_per_minute"] + 1)
    print(
        f"vendor requests/min under the load, {two['workers']} workers / 1: {loaded:.2f} "
        "(one worker syncs either way; a busier single worker runs its syncs late)"
    )
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mirrored_district_arguments(parser)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="the worker count compared with 1")
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="the window with no dashboards")
    parser.add_argument(
        "--store",
        default=os.environ.get("HOMEROOM_TEST_POSTGRES_URL"),
        help="a PostgreSQL server URL (a database is created on it per run)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.store:
        print(
            "error: give --store postgresql+asyncpg://... (or set HOMEROOM_TEST_POSTGRES_URL)",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, exit_on_signal)
    today = dt.date.today()
    print(f"machine: {machine_load()}", flush=True)
    cached = cached_district(args.students, today)
    try:
        with tempfile.TemporaryDirectory(prefix="homeroom-bench-workers-") as tmp:
            work = Path(tmp)
            data_dir = work / "district"
            shutil.copytree(cached, data_dir)
            with simulator_process(data_dir, args.latency, work) as simulator:
                teachers = spread(current_teachers(data_dir, today), args.users)
                results = [measure(n, args, simulator, teachers, work) for n in (1, args.workers)]
            return report(results)
    except ProcessFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
