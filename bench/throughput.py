"""Benchmark: a district admin reads 10,000 students x 10 scalar fields.

The hub (full HTTP stack: token check, policy gate, source registry, CSV
adapter, scope) against a baseline measured in the same run: the same records
served over HTTP by a bare strawberry schema with nothing in between. Prints
the ratio last (target for the foundation: at most 1.5).

    python -m bench.throughput [--students 10000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
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
from hub.model import Entity, Student
from hub.sdk import FetchRequest
from hub.settings import load_settings
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
    birth_date: dt.date | None


@strawberry.type
class BareEdge:
    node: BareStudent


@strawberry.type
class BareConnection:
    edges: list[BareEdge]


def bare_app(students: list[Student]) -> Any:
    """The baseline: a plain strawberry schema over records already in memory."""
    rows = [BareStudent(id=s.vendor_id, **{a: getattr(s, a) for a in ATTRIBUTES}) for s in students]

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
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
        settings = load_settings(
            None, sources=({"name": "sis", "kind": "oneroster-csv", "path": str(data_dir)},)
        )
        hub = assemble(settings, [signer])
        asyncio.run(hub.registry.open())
        hub.ready = True
        token = signer.issue(subject="bench", roles=["district_admin"])
        records = asyncio.run(
            hub.registry.fetch(
                "sis", FetchRequest(entity=Entity.STUDENT, fields=frozenset(ATTRIBUTES), limit=args.students)
            )
        ).records
        students = [r for r in records if isinstance(r, Student)]
        query = _query(args.students)
        hub_times: list[float] = []
        bare_times: list[float] = []
        with (
            serving(create_app(hub, watch_policy=False)) as hub_url,
            serving(bare_app(students)) as bare_url,
            httpx.Client(timeout=120) as client,
        ):
            auth = {"Authorization": f"Bearer {token}"}
            for warm in range(2):
                _time(client, hub_url + "/graphql", query, auth, len(students))
                _time(client, bare_url + "/graphql", query, {}, len(students))
                del warm
            for _ in range(args.rounds):
                hub_times.append(_time(client, hub_url + "/graphql", query, auth, len(students)))
                bare_times.append(_time(client, bare_url + "/graphql", query, {}, len(students)))
    hub_median = statistics.median(hub_times)
    bare_median = statistics.median(bare_times)
    print(f"rows: {len(students)} students x {len(FIELDS)} fields, {args.rounds} rounds, medians")
    print(f"bare strawberry (baseline): {bare_median * 1000:8.1f} ms")
    print(f"homeroom hub              : {hub_median * 1000:8.1f} ms")
    print(f"ratio hub/baseline: {hub_median / bare_median:.2f}")


if __name__ == "__main__":
    main()
