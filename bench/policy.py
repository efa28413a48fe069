"""Benchmark: what the policy gate costs.

The 10,000-student query of ``bench.throughput`` (district admin, 10 scalar
fields) through the full HTTP stack, three ways in one run:

- gate on: the default policy, decided once per (role, Type.field, relation)
  before execution, applied per row with precomputed sets;
- gate off: the same hub with the policy taken out: an access plan that allows
  everything, no relation worked out per row, nothing masked, never a Casbin
  call (the floor);
- per-field-per-row: the gate off, plus a Casbin ``enforce`` call for every
  field of every row, as permission classes or casbin-graphql-authz do.

Prints the medians and the ratios, last ``ratio gate-on/gate-off`` (target 1.10).

    python -m bench.policy [--students 10000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import casbin
import httpx
from strawberry.extensions import SchemaExtension

from bench.throughput import FIELDS, _query
from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.access import DataAccess
from hub.federation.scope import Admission, Scope
from hub.model import Entity
from hub.model.catalogue import attributes_for_fields
from hub.policy import collect_fields
from hub.policy.files import glob_match
from hub.runtime import Hub
from hub.schema import build_schema
from hub.schema.context import HubContext
from hub.settings import load_settings
from hub.testing import DistrictSpec, generate_district
from hub.testing.server import serving

RELATIONS = frozenset({"self", "guardian", "teacher", "school", "district", "directory"})


class AllowEverything:
    """An access plan that opens every selected field under every relation."""

    def __init__(self, selected: dict[str, frozenset[str]]) -> None:
        self.selected = selected
        self.relations_by_type = {t: dict.fromkeys(f, RELATIONS) for t, f in selected.items()}
        self.forbidden: tuple[str, ...] = ()

    def allowed_fields(self, type_name: str, relations: frozenset[str]) -> frozenset[str]:
        return self.selected.get(type_name, frozenset())

    def relations_for(self, type_name: str) -> frozenset[str]:
        return RELATIONS if type_name in self.selected else frozenset()


class OpenScope(Scope):
    """Every row passes as it is: no relation is worked out, nothing is masked,
    and adapters are asked for the selected attributes (and the person a row
    is about, for the audit) in one read. The audit bookkeeping of the gate's
    own path is kept, so the difference to the gate is the policy alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: dict[Entity, Admission] = {}

    def needed_relations(self, entity: Entity) -> frozenset[str]:
        return frozenset()

    def admission(self, entity: Entity, relations: frozenset[str]) -> Admission:
        cached = self._open.get(entity)
        if cached is None:
            selected = self.selected.get(entity.value, frozenset())
            cached = self._open[entity] = Admission()
            cached.visible = True
            cached.allowed = cached.disclosed = selected
            cached.readable = cached.fill = attributes_for_fields(entity.value, selected)
        return cached


class GateOff(SchemaExtension):
    """The policy gate's place in the request, deciding nothing: the fields are
    collected (they say what to fetch) and every row is served."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        ctx: HubContext = execution.context
        assert execution.graphql_document is not None
        selected = collect_fields(
            execution.schema._schema,
            execution.graphql_document,
            execution.operation_name,
            execution.variables,
        )
        plan = AllowEverything(selected)
        ctx.plan = plan
        scope = OpenScope(plan, selected, ctx.relationships)
        ctx.data = DataAccess(ctx.hub.registry, scope, ctx.hub.identity)
        yield


def per_row_enforcer(policy_dir: Path) -> Any:
    """A plain Casbin enforcer holding the whole default policy."""
    enforcer = casbin.Enforcer(str(policy_dir / "model.conf"))
    enforcer.add_function("globMatch", glob_match)
    for name in ("policy.csv", "roles.csv"):
        for line in (policy_dir / name).read_text(encoding="utf-8").splitlines():
            parts = [part.strip() for part in line.split(",")]
            if parts[0] == "p" and len(parts) == 6:
                enforcer.add_policy(*parts[1:])
            elif parts[0] == "g" and len(parts) == 3:
                enforcer.add_grouping_policy(*parts[1:])
    return enforcer


def per_field_per_row(enforcer: Any) -> type[SchemaExtension]:
    class PerRowCasbin(SchemaExtension):
        """Ask Casbin for every field of every Student row."""

        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            if info.parent_type.name == "Student":
                roles = info.context.principal.roles
                if not any(
                    enforcer.enforce(r, f"Student.{info.field_name}", "read", "district") for r in roles
                ):
                    raise PermissionError(f"Student.{info.field_name}")
            return _next(root, info, *args, **kwargs)

    return PerRowCasbin


def _app(hub: Hub, *extensions: Any) -> Any:
    server = hub.settings.server
    schema = build_schema(
        max_depth=server.max_depth,
        max_aliases=server.max_aliases,
        max_tokens=server.max_tokens,
        gate=not extensions,
        extra_extensions=extensions,
    )
    return create_app(hub, schema, watch_policy=False)


def _time(client: httpx.Client, url: str, query: str, token: str, rows: int) -> float:
    started = time.perf_counter()
    response = client.post(url, json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - started
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body.get("errors")
    assert len(body["data"]["students"]["edges"]) == rows
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-row-rounds", type=int, default=1, help="rounds of the slow per-row variant")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "district"
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
        signer = DevSigner(secrets.token_bytes(32), issuer="bench")
        settings = load_settings(
            None, sources=({"name": "sis", "kind": "oneroster-csv", "path": str(data_dir)},)
        )
        hubs = [assemble(settings, [signer]) for _ in range(3)]
        for hub in hubs:
            asyncio.run(hub.registry.open())
            hub.ready = True
        engine = hubs[0].policy.current
        enforcer = per_row_enforcer(hubs[0].policy.directory)
        apps = {
            "gate on": _app(hubs[0]),
            "gate off": _app(hubs[1], GateOff),
            "per-field-per-row Casbin": _app(hubs[2], GateOff, per_field_per_row(enforcer)),
        }
        token = signer.issue(subject="bench", roles=["district_admin"])
        query = _query(args.students)
        times: dict[str, list[float]] = {name: [] for name in apps}
        with (
            serving(apps["gate on"]) as on,
            serving(apps["gate off"]) as off,
            serving(apps["per-field-per-row Casbin"]) as per_row,
            httpx.Client(timeout=300) as client,
        ):
            urls = {"gate on": on, "gate off": off}
            for url in urls.values():
                _time(client, url + "/graphql", query, token, args.students)  # warm up
            calls_before = engine.enforce_calls
            for _ in range(args.rounds):
                for name, url in urls.items():
                    times[name].append(_time(client, url + "/graphql", query, token, args.students))
            gate_calls = engine.enforce_calls - calls_before
            # Minutes per query at this size: measured once, after the others.
            for _ in range(args.per_row_rounds):
                times["per-field-per-row Casbin"].append(
                    _time(client, per_row + "/graphql", query, token, args.students)
                )
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"rows: {args.students} students x {len(FIELDS)} fields, {args.rounds} rounds, medians")
    for name, value in medians.items():
        print(f"{name:26s}: {value:8.1f} ms")
    print(
        f"Casbin calls by the gate over {args.rounds} warm rounds: {gate_calls} (cached per policy version)"
    )
    per_row = medians["per-field-per-row Casbin"]
    print(f"ratio per-field-per-row/gate-off: {per_row / medians['gate off']:.2f}")
    print(f"ratio per-field-per-row/gate-on: {per_row / medians['gate on']:.2f}")
    print(f"ratio gate-on/gate-off: {medians['gate on'] / medians['gate off']:.2f}")


if __name__ == "__main__":
    main()
