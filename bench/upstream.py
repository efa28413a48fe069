"""Benchmark: upstream HTTP requests per query do not grow with the rows.

Through an ``oneroster-rest`` source talking to the OneRoster simulator over
loopback, one of two queries:

- ``--query admin`` (the default): every student, with their school,
  guardians and scores, as district admin, for a 500- and a 5,000-student
  district;
- ``--query teacher``: the teacher dashboard of ``bench.dashboard`` (the
  teacher persona's sections, students, scores and attendance), for a 500-
  and a 2,000-student district (issue #10: at most query depth x sources
  requests plus paging).

Prints the requests each query made (total, and per collection: what is left
is paging, which grows with the data by design), and the query's wall time
against the simulator's configured latency per request.

    python -m bench.upstream [--query admin|teacher] [--latency 0.02] [--sizes 500 5000] [--page-size 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from adapters.oneroster_rest.simulator import SimulatorConfig, create_simulator
from bench.dashboard import QUERY as TEACHER_QUERY
from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.personas import pick_personas
from hub.settings import load_settings
from hub.testing import DistrictSpec, generate_district
from hub.testing.server import serving

TODAY = dt.date(2026, 11, 18)
QUERY = """{ students(first: 10000) { totalCount edges { node { id givenName
  school { name } guardians { givenName }
  scores(first: 3) { edges { node { score } } } } } } }"""
DEFAULT_SIZES = {"admin": [500, 5000], "teacher": [500, 2000]}
CLIENT_ID_ENV, CLIENT_SECRET_ENV = "BENCH_SIS_CLIENT_ID", "BENCH_SIS_CLIENT_SECRET"


class CountingApp:
    """ASGI wrapper counting requests per collection (the last path segment)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.counts[scope["path"].rstrip("/").rsplit("/", 1)[-1]] += 1
        await self.app(scope, receive, send)


def _district_spec(query: str, students: int) -> DistrictSpec:
    if query == "teacher":  # the dashboard benchmarks' district
        return DistrictSpec(students=students, seed=5, today=TODAY)
    return DistrictSpec(students=students, seed=3, today=TODAY, assignments_per_section=3, attendance_days=2)


def _rows(query: str, data: dict[str, Any]) -> int:
    """Rows the answer holds: students (admin), or the teacher's students over their sections."""
    if query == "teacher":
        sections = data["viewer"]["sections"]["edges"]
        return sum(len(section["node"]["students"]["edges"]) for section in sections)
    return len(data["students"]["edges"])


async def measure(
    query: str, students: int, latency: float, folder: Path, page_size: int
) -> tuple[int, Counter[str], float, int]:
    data_dir = folder / f"district-{query}-{students}"
    generate_district(data_dir, _district_spec(query, students))
    config = SimulatorConfig(latency=latency, max_page_size=1000)
    simulator = CountingApp(create_simulator(data_dir, config))
    os.environ[CLIENT_ID_ENV], os.environ[CLIENT_SECRET_ENV] = config.client_id, config.client_secret
    with serving(simulator, ready_path="/ims/oneroster/rostering/v1p2/orgs?limit=1") as base_url:
        table = {
            "name": "sis",
            "kind": "oneroster-rest",
            "mode": "live",  # what this bench counts: the vendor asked per query
            "base_url": base_url,
            "version": "1.2",
            "token_url": f"{base_url}/token",
            "client_id_env": CLIENT_ID_ENV,
            "client_secret_env": CLIENT_SECRET_ENV,
            "page_size": page_size,
            "total_timeout": 300,
        }
        signer = DevSigner(secrets.token_bytes(32))
        settings = load_settings(None, sources=(table,))
        hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
        app = create_app(hub, watch_policy=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost", timeout=600
            ) as client,
        ):
            if query == "teacher":
                personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
                token, text = personas["teacher"].token(signer), TEACHER_QUERY
            else:
                token, text = signer.issue(subject="bench", roles=["district_admin"]), QUERY
            simulator.counts.clear()  # picking the persona read the roster: not the query's cost
            started = time.perf_counter()
            response = await client.post(
                "/graphql", json={"query": text}, headers={"Authorization": f"Bearer {token}"}
            )
            elapsed = time.perf_counter() - started
            body = response.json()
            if body.get("errors"):
                raise SystemExit(f"the query failed: {body['errors'][:2]}")
            rows = _rows(query, body["data"])
    counts = simulator.counts
    counts.pop("token", None)
    return sum(counts.values()), counts, elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.02, help="simulator latency per request, seconds")
    parser.add_argument("--query", choices=sorted(DEFAULT_SIZES), default="admin")
    parser.add_argument("--sizes", type=int, nargs="+", help="students per district (default by query)")
    parser.add_argument("--page-size", type=int, default=1000, help="the source's page_size")
    args = parser.parse_args()
    sizes = args.sizes or DEFAULT_SIZES[args.query]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            total, counts, elapsed, rows = asyncio.run(
                measure(args.query, size, args.latency, Path(tmp), args.page_size)
            )
            results.append((size, total, counts, elapsed, rows))
            detail = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
            print(f"{size:6d} students: {rows} rows, {total} upstream requests ({detail})")
            print(
                f"        wall time {elapsed:.2f} s = {elapsed / args.latency:.0f} x the simulator latency "
                f"of {args.latency * 1000:.0f} ms per request"
            )
    first, last = results[0], results[-1]
    print(
        f"requests per query: {first[1]} at {first[0]} students, {last[1]} at {last[0]} students "
        f"(rows x{last[4] / max(first[4], 1):.0f}, requests x{last[1] / max(first[1], 1):.1f})"
    )


if __name__ == "__main__":
    main()
