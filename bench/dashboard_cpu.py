"""Benchmark: the hub's CPU per teacher dashboard, against a bare strawberry
schema serving the same response from memory.

A synthetic district; the hub over it, its source answered from the read
model (``--mode mirror``, the default: a OneRoster REST simulator's records
in the hub's SQLite store) or from the CSV files (``--mode csv``). The
teacher dashboard query (``bench.dashboard.QUERY``) is answered once by the
hub; its answer becomes the data of a plain strawberry schema of the same
shape (viewer, sections, students, scores, attendance) with nothing in between:
no token, no policy, no scope, no audit, no store. Both are then asked the
same query ``--rounds`` times through their ASGI apps in this process, and
the process CPU time per answer is compared (the vendor simulator is idle:
the mirror holds the data). Prints the ratio last (target: at most 2.0).

    python -m bench.dashboard_cpu [--students 2000] [--rounds 20] [--mode mirror|csv]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from bench.dashboard import QUERY
from hub.cli import SWITCH_INTERVAL
from hub.testing import DistrictSpec, generate_district
from hub.testing.server import serving

TODAY = dt.date(2026, 11, 18)  # the day bench.dashboard.QUERY's attendance window ends in


# --- the bare schema: the dashboard's shape, from memory -----------------------------------------


@strawberry.type
class BareScore:
    score: float | None
    score_status: str | None
    late: bool | None
    missing: bool | None


@strawberry.type
class BareScoreEdge:
    node: BareScore


@strawberry.type
class BareScores:
    edges: list[BareScoreEdge]


@strawberry.type
class BareMark:
    date: str
    status: str | None


@strawberry.type
class BareStudent:
    id: strawberry.ID
    given_name: str | None
    family_name: str | None
    preferred_name: str | None
    grade_level: str | None
    score_rows: strawberry.Private[list[BareScore]]
    marks: strawberry.Private[list[BareMark]]

    @strawberry.field
    def scores(self, first: int = 10) -> BareScores:
        return BareScores(edges=[BareScoreEdge(node=score) for score in self.score_rows[:first]])

    @strawberry.field
    def attendance(
        self, from_: Annotated[str | None, strawberry.argument(name="from")] = None
    ) -> list[BareMark]:
        return self.marks


@strawberry.type
class BareStudentEdge:
    node: BareStudent


@strawberry.type
class BareStudents:
    edges: list[BareStudentEdge]


@strawberry.type
class BareSection:
    id: strawberry.ID
    title: str | None
    students: BareStudents


@strawberry.type
class BareSectionEdge:
    node: BareSection


@strawberry.type
class BareSections:
    edges: list[BareSectionEdge]


@strawberry.type
class BareViewer:
    sections: BareSections


def _student(node: dict[str, Any]) -> BareStudent:
    scores = [
        BareScore(
            score=edge["node"]["score"],
            score_status=edge["node"]["scoreStatus"],
            late=edge["node"]["late"],
            missing=edge["node"]["missing"],
        )
        for edge in node["scores"]["edges"]
    ]
    marks = [BareMark(date=mark["date"], status=mark["status"]) for mark in node["attendance"]]
    return BareStudent(
        id=node["id"],
        given_name=node["givenName"],
        family_name=node["familyName"],
        preferred_name=node["preferredName"],
        grade_level=node["gradeLevel"],
        score_rows=scores,
        marks=marks,
    )


def bare_app(answer: dict[str, Any]) -> Any:
    """A plain strawberry app answering the dashboard query with ``answer``'s data."""
    viewer = BareViewer(
        sections=BareSections(
            edges=[
                BareSectionEdge(
                    node=BareSection(
                        id=edge["node"]["id"],
                        title=edge["node"]["title"],
                        students=BareStudents(
                            edges=[
                                BareStudentEdge(node=_student(student["node"]))
                                for student in edge["node"]["students"]["edges"]
                            ]
                        ),
                    )
                )
                for edge in answer["data"]["viewer"]["sections"]["edges"]
            ]
        )
    )

    @strawberry.type
    class Query:
        @strawberry.field
        def viewer(self) -> BareViewer:
            return viewer

    graphql_app: Any = GraphQL(strawberry.Schema(query=Query))
    return Starlette(routes=[Route("/graphql", graphql_app)])


# --- the hub ---------------------------------------------------------------------------------------


@asynccontextmanager
async def hub_client(data_dir: Path, mode: str, work: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An in-process client of the hub over ``data_dir`` and the teacher persona's token."""
    from adapters.oneroster_rest.simulator import SimulatorConfig, create_simulator
    from hub.app import create_app
    from hub.assemble import assemble
    from hub.auth import DevSigner
    from hub.federation.clock import Clock
    from hub.personas import pick_personas
    from hub.settings import load_settings
    from hub.store import upgrade

    store = f"sqlite+aiosqlite:///{work / 'homeroom.db'}"
    await upgrade(store)
    signer = DevSigner(os.urandom(32))
    simulator = SimulatorConfig()
    id_env, secret_env = "HOMEROOM_BENCH_CPU_ID", "HOMEROOM_BENCH_CPU_SECRET"
    os.environ[id_env], os.environ[secret_env] = simulator.client_id, simulator.client_secret
    with serving(create_simulator(data_dir, simulator)) as base_url:
        if mode == "csv":
            table: dict[str, Any] = {"name": "sis", "kind": "oneroster-csv", "path": str(data_dir)}
        else:
            table = {
                "name": "sis",
                "kind": "oneroster-rest",
                "mode": "mirror",
                "base_url": base_url,
                "token_url": f"{base_url}/token",
                "client_id_env": id_env,
                "client_secret_env": secret_env,
                "page_size": 1000,
            }
        settings = load_settings(None, sources=(table,), store={"url": store})
        hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
        app = create_app(hub, watch_policy=False, store_url=store)
        async with app.router.lifespan_context(app):
            async with asyncio.timeout(600):
                while not hub.ready:
                    await asyncio.sleep(0.05)
            teacher = (await pick_personas(hub.registry, hub.clock, settings.policy.grace_days))["teacher"]
            transport = httpx.ASGITransport(app=app)
            base = "http://localhost"
            async with httpx.AsyncClient(transport=transport, base_url=base, timeout=120) as client:
                yield client, teacher.token(signer)


# --- the measurement -------------------------------------------------------------------------------


async def cpu_per_answer(post: Callable[[], Awaitable[httpx.Response]], rounds: int) -> float:
    """Process CPU seconds per answer over ``rounds`` (after two warm-up answers)."""
    for _ in range(2):
        (await post()).raise_for_status()
    started = time.process_time()
    for _ in range(rounds):
        response = await post()
        response.raise_for_status()
    return (time.process_time() - started) / rounds


async def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="homeroom-bench-cpu-"))
    try:
        data_dir = work / "district"
        generate_district(data_dir, DistrictSpec(students=args.students, seed=5, today=TODAY))
        async with hub_client(data_dir, args.mode, work) as (client, token):
            headers = {"Authorization": f"Bearer {token}"}

            async def ask_hub() -> httpx.Response:
                return await client.post("/graphql", json={"query": QUERY}, headers=headers)

            answer = (await ask_hub()).json()
            if answer.get("errors") or not answer.get("data"):
                print(f"the hub did not answer the dashboard: {answer.get('errors')}", file=sys.stderr)
                return 2
            students = sum(
                len(edge["node"]["students"]["edges"])
                for edge in answer["data"]["viewer"]["sections"]["edges"]
            )
            transport = httpx.ASGITransport(app=bare_app(answer))
            async with httpx.AsyncClient(transport=transport, base_url="http://bare", timeout=120) as bare:

                async def ask_bare() -> httpx.Response:
                    return await bare.post("/graphql", json={"query": QUERY})

                check = (await ask_bare()).json()
                if check.get("data") != answer["data"]:
                    print("the bare schema does not give the hub's answer", file=sys.stderr)
                    return 2
                bare_cpu = await cpu_per_answer(ask_bare, args.rounds)
                hub_cpu = await cpu_per_answer(ask_hub, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"dashboard: {students} students of one teacher, {args.rounds} rounds, source {args.mode}")
    print(f"bare strawberry (baseline): {bare_cpu * 1000:8.1f} ms CPU per answer")
    print(f"homeroom hub              : {hub_cpu * 1000:8.1f} ms CPU per answer")
    print(f"ratio hub/baseline: {hub_cpu / bare_cpu:.2f} (target <= 2.00)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=2000, help="size of the synthetic district")
    parser.add_argument("--rounds", type=int, default=20, help="answers measured per server")
    parser.add_argument(
        "--mode", choices=("mirror", "csv"), default="mirror", help="how the hub's source answers"
    )
    args = parser.parse_args(argv)
    # As `homeroom serve` runs (the SQLite driver's thread hands results back often).
    sys.setswitchinterval(SWITCH_INTERVAL)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
