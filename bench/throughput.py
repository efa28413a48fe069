"""Benchmark: a district admin reads 10,000 students x 10 scalar fields.

The hub (full HTTP stack: token check, policy gate, source registry, scope)
over ``--sources demo`` (the default: the two-source demo, a OneRoster REST
SIS and a Canvas LMS simulated on loopback, mirrored in the hub's store and
merged by the identity map) or ``--sources csv`` (the CSV files), against a
baseline measured in the same run: the same records, taken from the hub's
first answer, served over HTTP by a bare strawberry schema with nothing in
between. Prints the ratio last (target: at most 1.3).

    python -m bench.throughput [--students 10000] [--rounds 7] [--sources demo|csv]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.demo import IDENTITY, simulated_sources
from hub.settings import load_settings
from hub.store import upgrade
from hub.testing import DistrictSpec, generate_district
from hub.testing.server import serving

FIELDS = (
    "id",
    "givenName",
    "familyName",
    "middleName",
    "preferredName",
    "email",
    "username",
    "identifier",
    "gradeLevel",
    "birthDate",
)
ATTRIBUTES = (
    "given_name",
    "family_name",
    "middle_name",
    "preferred_name",
    "email",
    "username",
    "identifier",
    "grade_level",
    "birth_date",
)


def _query(first: int) -> str:
    return f"{{ students(first: {first}) {{ edges {{ node {{ {' '.join(FIELDS)} }} }} }} }}"


@strawberry.type
class BareStudent:
    id: strawberry.ID
    given_name: str | None
    family_name: str | None
    middle_name: str | None
    preferred_name: str | None
    email: str | None
    username: str | None
    identifier: str | None
    grade_level: str | None
    birth_date: str | None  # as the hub's answer has it (ISO date)


@strawberry.type
class BareEdge:
    node: BareStudent


@strawberry.type
class BareConnection:
    edges: list[BareEdge]


def bare_app(answer: dict[str, Any]) -> Any:
    """The baseline: a plain strawberry schema over the hub's answer, in memory."""
    rows = [
        BareStudent(id=node["id"], **{a: node[f] for a, f in zip(ATTRIBUTES, FIELDS[1:], strict=True)})
        for node in (edge["node"] for edge in answer["data"]["students"]["edges"])
    ]

    @strawberry.type
    class Query:
        @strawberry.field
        def students(self, first: int = 100) -> BareConnection:
            return BareConnection(edges=[BareEdge(node=r) for r in rows[:first]])

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    graphql_app: Any = GraphQL(strawberry.Schema(query=Query))
    return Starlette(routes=[Route("/healthz", healthz), Route("/graphql", graphql_app)])


def _time(client: httpx.Client, url: str, query: str, headers: dict[str, str], expect: int) -> float:
    started = time.perf_counter()
    response = client.post(url, json={"query": query}, headers=headers)
    elapsed = time.perf_counter() - started
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body.get("errors")
    assert len(body["data"]["students"]["edges"]) == expect
    return elapsed


def hub_app(sources: str, data_dir: Path, work: Path, stack: contextlib.ExitStack, signer: DevSigner) -> Any:
    """The hub over ``data_dir``: the CSV files, or the demo's two simulated vendors, mirrored."""
    store = f"sqlite+aiosqlite:///{work / 'homeroom.db'}"
    asyncio.run(upgrade(store))
    if sources == "csv":
        tables: list[dict[str, Any]] = [{"name": "sis", "kind": "oneroster-csv", "path": str(data_dir)}]
        overrides: dict[str, Any] = {}
    else:
        tables, _ = simulated_sources(data_dir, stack)
        overrides = {"identity": IDENTITY}
    settings = load_settings(None, sources=tuple(tables), store={"url": store}, **overrides)
    # No audit store: the baseline audits nothing either (bench.audit measures that cost).
    return create_app(assemble(settings, [signer]), watch_policy=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--sources",
        choices=("demo", "csv"),
        default="demo",
        help="demo: a OneRoster REST SIS and a Canvas LMS, simulated and mirrored; csv: the files",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        data_dir = args.data_dir or Path(tmp) / "district"
        started = time.perf_counter()
        generate_district(
            data_dir,
            DistrictSpec(
                students=args.students,
                seed=11,
                today=dt.date.today(),
                assignments_per_section=1,
                attendance_days=1,
            ),
        )
        print(f"generated {args.students} students in {time.perf_counter() - started:.1f}s")
        signer = DevSigner(secrets.token_bytes(32), issuer="bench")
        token = signer.issue(subject="bench", roles=["district_admin"])
        app = hub_app(args.sources, data_dir, Path(tmp), stack, signer)
        query = _query(args.students)
        auth = {"Authorization": f"Bearer {token}"}
        hub_times: list[float] = []
        bare_times: list[float] = []
        started = time.perf_counter()
        # /healthz answers 503 until the mirrors' first sync is done.
        hub_url = stack.enter_context(serving(app, timeout=1800))
        print(f"hub ready ({args.sources}) in {time.perf_counter() - started:.1f}s")
        with httpx.Client(timeout=300) as client:
            answer = client.post(hub_url + "/graphql", json={"query": query}, headers=auth).json()
            assert not answer.get("errors"), answer.get("errors")
            count = len(answer["data"]["students"]["edges"])
            with serving(bare_app(answer)) as bare_url:
                for _ in range(2):  # warm up
                    _time(client, hub_url + "/graphql", query, auth, count)
                    _time(client, bare_url + "/graphql", query, {}, count)
                for _ in range(args.rounds):
                    hub_times.append(_time(client, hub_url + "/graphql", query, auth, count))
                    bare_times.append(_time(client, bare_url + "/graphql", query, {}, count))
    hub_median = statistics.median(hub_times)
    bare_median = statistics.median(bare_times)
    print(f"rows: {count} students x {len(FIELDS)} fields, {args.rounds} rounds, medians")
    print(f"sources: {args.sources}")
    print(f"bare strawberry (baseline): {bare_median * 1000:8.1f} ms")
    print(f"homeroom hub              : {hub_median * 1000:8.1f} ms")
    print(f"ratio hub/baseline: {hub_median / bare_median:.2f} (target <= 1.30)")


if __name__ == "__main__":
    main()
