"""Leak-proof property tests: random operations, every persona, checked against ground truth.

Hypothesis writes operations over the schema (random fields of every record
type, nesting through relationship fields, aliases, named and inline
fragments, ``@include``/``@skip`` on variables or literals, look-ups by id of
related and unrelated records). Each runs as each persona against a
generated district, and:

(a) no value the default policy denies for the caller's relation to that very
    record appears anywhere in the response (every returned object is
    identified by its ``id`` and checked field by field by the ground truth),
    and no birth date of a student the caller may not see, nor any program
    flag when the caller may read none, appears anywhere in the response text;
(b) an operation refused with FORBIDDEN made no adapter call;
(c) the number of Casbin calls for an operation does not depend on the number
    of rows (same operation against two district sizes), and a repeated
    operation asks Casbin nothing new.

The hubs are built once per module on an event loop this module runs itself,
so the Hypothesis tests are plain functions over module-scoped fixtures.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLSchema, get_named_type, is_abstract_type, is_leaf_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.model import Entity
from hub.personas import Persona
from hub.policy import PolicyEngine
from hub.schema import build_schema
from tests.policy_e2e.ground_truth import (
    ENTITY_TYPES,
    Caller,
    District,
    Oracle,
    Policy,
    check_response,
    hub_id,
)
from tests.support import TODAY, RunningHub, make_district, running_hub

SCHEMA: GraphQLSchema = build_schema(gate=False)._schema
SMALL, LARGE = 60, 180
PERSONAS = ("district_admin", "principal", "counselor", "teacher", "guardian", "student")
GRACE_DAYS = 14

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CASBIN_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------- hubs on a loop of our own


class SyncHub:
    """A hub opened in process, driven synchronously on one event loop."""

    def __init__(self, data_dir: Path, mode: str = "live") -> None:
        self.data_dir = data_dir
        self._runner = asyncio.Runner()
        self._context: AbstractAsyncContextManager[RunningHub] = running_hub(data_dir, mode=mode)
        self.running = self._runner.run(self._context.__aenter__())
        self._store = self.running.hub.policy

    def query(self, query: str, token: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._runner.run(self.running.query(query, token=token, variables=variables))

    def persona(self, name: str, district: District) -> Persona:
        if name == "counselor":
            vid = next(v for v, row in district.rows["Teacher"].items() if row.refs["role"] == "counselor")
            return Persona("counselor", ("counselor",), Entity.TEACHER, "sis", vid)
        return self.running.personas[name]

    def fresh_engine(self) -> PolicyEngine:
        """Put a policy engine with empty caches in force (same policy), and return it."""
        engine = PolicyEngine(self._store.current.policy, self._store.current.catalogue)
        self.running.hub.policy = _Pinned(self._store, engine)
        return engine

    def close(self) -> None:
        self.running.hub.policy = self._store
        try:
            self._runner.run(self._context.__aexit__(None, None, None))
        finally:
            self._runner.close()


class _Pinned:
    """The hub's policy store with one engine pinned in force (``current``, what the
    gate reads); everything else is the real store's."""

    def __init__(self, store: Any, engine: PolicyEngine) -> None:
        self._store = store
        self.current = engine

    @property
    def version(self) -> str:
        return self.current.version

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@dataclass(repr=False)
class World:
    hub: SyncHub
    district: District
    policy: Policy

    def __repr__(self) -> str:
        return f"World({self.hub.data_dir.name})"


def _world(tmp: Path, students: int, mode: str = "live") -> Iterator[World]:
    data_dir = make_district(tmp / f"district-{students}", students)
    hub = SyncHub(data_dir, mode)
    try:
        assert hub.running.hub.settings.policy.grace_days == GRACE_DAYS
        yield World(hub, District(data_dir), Policy.from_dir())
    finally:
        hub.close()


@pytest.fixture(scope="module", params=["live", "mirror"])
def large(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    # The source read live, and answered from the read model: the same promises.
    yield from _world(tmp_path_factory.mktemp("leaks"), LARGE, request.param)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("leaks"), SMALL)


Askers = dict[str, "Asker"]


@pytest.fixture(scope="module")
def large_askers(large: World) -> Askers:
    return {name: asker(large, name) for name in PERSONAS}


@pytest.fixture(scope="module")
def small_askers(small: World) -> Askers:
    return {name: asker(small, name) for name in PERSONAS}


# ---------------------------------------------------------------- what a persona can ask about


@dataclass(frozen=True)
class FieldShape:
    name: str
    kind: str  # scalar | object | list | connection
    target: str  # named return type


def _shapes() -> dict[str, list[FieldShape]]:
    shapes: dict[str, list[FieldShape]] = {}
    for type_name in sorted(ENTITY_TYPES):
        graphql_type: Any = SCHEMA.get_type(type_name)
        out = []
        for name, definition in graphql_type.fields.items():
            if name == "id":
                continue
            named = get_named_type(definition.type)
            nullable = (
                definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
            )
            if is_leaf_type(named):
                out.append(FieldShape(name, "scalar", named.name))
            elif named.name.endswith("Connection"):
                out.append(FieldShape(name, "connection", named.name.removesuffix("Connection")))
            elif isinstance(nullable, GraphQLList):
                out.append(FieldShape(name, "list", named.name))
            else:
                out.append(FieldShape(name, "object", named.name))
        shapes[type_name] = out
    return shapes


SHAPES = _shapes()
PERSON_TYPES = ("Student", "Teacher", "Guardian")
PERSON_FIELDS = ("givenName", "familyName", "middleName", "preferredName", "email", "username", "identifier")


class Asker:
    """One persona on one world: its token, its ground truth, and the ids worth asking about.

    A plain class with a short repr: Hypothesis pretty-prints the test's arguments
    (dataclasses field by field), and a repr over 30 kB is a HypothesisWarning,
    an error under ``filterwarnings = error``.
    """

    def __init__(
        self,
        name: str,
        persona: Persona,
        token: str,
        oracle: Oracle,
        ids: dict[str, list[str]],
    ) -> None:
        self.name = name
        self.persona = persona
        self.token = token
        self.oracle = oracle
        self.ids = ids
        self.readable = {t: [f for f in shapes if oracle.readable(t, f.name)] for t, shapes in SHAPES.items()}
        self.refused = {
            t: [f for f in shapes if not oracle.readable(t, f.name)] for t, shapes in SHAPES.items()
        }
        self.hidden_dates = frozenset(oracle.withheld_values("Student", "birthDate"))
        self.no_programs = not oracle.readable("Student", "programs")

    def __repr__(self) -> str:
        return f"Asker({self.name})"


def asker(world: World, name: str) -> Asker:
    persona = world.hub.persona(name, world.district)
    kind = persona.entity.value if persona.entity else None
    oracle = Oracle(
        world.district,
        world.policy,
        Caller(persona.roles, kind, persona.sourced_id),
        today=TODAY,
        grace_days=GRACE_DAYS,
    )
    rows = world.district.rows

    def pick(type_name: str, preferred: set[str] | frozenset[str], count: int = 4) -> list[str]:
        mine = sorted(preferred)[:count]
        others = [v for v in rows[type_name] if v not in preferred]
        spread = others[:: max(1, len(others) // count)][:count]
        return [hub_id(type_name, v) for v in (*mine, *spread)]

    opted_out = {v for v, r in rows["Student"].items() if r.refs["opt_out"]}
    related_students = set(oracle.children) | set(oracle.taught_students) | set(oracle.school_students)
    if oracle.self_student:
        related_students.add(oracle.self_student)
    sections = set(oracle.taught_sections) | set(oracle.own_sections) | set(oracle.child_sections)
    related_scores = {
        v
        for v, r in rows["Score"].items()
        if r.refs["student"] in related_students or r.refs["section"] in sections
    }
    guardians = set(oracle.own_guardians | oracle.taught_guardians | oracle.school_guardians)
    if oracle.me is not None and oracle.me.type == "Guardian":
        guardians.add(oracle.me.vid)
    ids = {
        "Student": [*pick("Student", related_students), *pick("Student", opted_out, 2)],
        "Section": pick("Section", sections),
        "Teacher": pick("Teacher", set(oracle.my_teachers) | set(oracle.child_teachers), 3),
        "Node": [
            *pick("Guardian", guardians, 2),
            *pick("Score", related_scores, 2),
            *pick(
                "Enrollment", {v for v, r in rows["Enrollment"].items() if r.refs["section"] in sections}, 2
            ),
            *pick("Organization", set(), 1),
            *pick(
                "Assignment", {v for v, r in rows["Assignment"].items() if r.refs["section"] in sections}, 2
            ),
            "bm90LWFuLWlk",  # decodes to "not-an-id"
        ],
    }
    return Asker(name, persona, persona.token(world.hub.running.signer), oracle, ids)


# ---------------------------------------------------------------- random operations

MAX_DEPTH = 12  # the hub's default operation depth limit
MAX_HOPS = 3  # relationship fields below a root field
# The first value is what Hypothesis starts from (and shrinks to).
NESTED_FIRST = (3, 5, 0, 1, 2)
ROOT_FIRST = (15, 30, 5, 1)


@dataclass
class Operation:
    query: str
    variables: dict[str, Any]


class _Writer:
    """Writes one operation from Hypothesis draws."""

    def __init__(self, draw: st.DrawFn, who: Asker) -> None:
        self.draw = draw
        self.who = who
        self.count = 0
        self.fragments: list[str] = []
        self.variables: dict[str, Any] = {}
        self.declarations: list[str] = []
        self.roots = 0

    def key(self) -> str:
        self.count += 1
        return f"k{self.count}"

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(0, one_in - 1)) == 0

    def directive(self) -> str:
        choice = self.draw(st.integers(0, 9))
        if choice >= 3:
            return ""
        if choice == 0:
            return self.draw(
                st.sampled_from(
                    [" @include(if: true)", " @skip(if: false)", " @include(if: false)", " @skip(if: true)"]
                )
            )
        name = f"v{len(self.variables)}"
        self.variables[name] = self.draw(st.booleans())
        self.declarations.append(f"${name}: Boolean!")
        return f" @include(if: ${name})" if choice == 1 else f" @skip(if: ${name})"

    def id_argument(self, pool: list[str]) -> str:
        value = self.draw(st.sampled_from(pool))
        if self.chance(2):
            name = f"id{len(self.variables)}"
            self.variables[name] = value
            self.declarations.append(f"${name}: ID!")
            return f"${name}"
        return json.dumps(value)

    def selection(self, type_name: str, depth: int, hops: int) -> str:
        """The inside of the braces of an object of concrete ``type_name`` at ``depth``."""
        draw, who = self.draw, self.who
        scalars = [f for f in who.readable[type_name] if f.kind == "scalar"]
        relations = [f for f in who.readable[type_name] if f.kind != "scalar"]
        chosen: list[FieldShape] = []
        if scalars:
            chosen += draw(st.lists(st.sampled_from(scalars), min_size=1, max_size=6, unique=True))
        if relations and hops < MAX_HOPS:
            usable = [f for f in relations if depth + (3 if f.kind == "connection" else 1) <= MAX_DEPTH]
            if usable:
                chosen += draw(st.lists(st.sampled_from(usable), max_size=2 if hops == 0 else 1, unique=True))
        if who.refused[type_name] and self.chance(12):
            chosen.append(draw(st.sampled_from(who.refused[type_name])))
        items = [self.field(type_name, f, depth, hops) for f in chosen]
        parts = ["id"]
        if self.chance(4):
            parts.append("__typename")
        # Group the fields: plainly, in inline fragments (typed, on an interface, or untyped),
        # or in named fragments; each group may carry a directive.
        while items:
            size = draw(st.integers(1, len(items)))
            group, items = items[:size], items[size:]
            how = draw(st.integers(0, 5))
            body = " ".join(group)
            if how <= 2:
                parts.extend(group)
            elif how == 3:
                condition = draw(st.sampled_from(["", f" on {type_name}"]))
                parts.append(f"...{condition}{self.directive()} {{ {body} }}")
            else:
                name = f"F{len(self.fragments)}"
                self.fragments.append(f"fragment {name} on {type_name} {{ {body} }}")
                parts.append(f"...{name}{self.directive()}")
        if type_name in PERSON_TYPES and self.chance(4):
            names = draw(st.lists(st.sampled_from(PERSON_FIELDS), min_size=1, max_size=3, unique=True))
            names = [n for n in names if any(f.name == n for f in who.readable[type_name])] or ["id"]
            parts.append(f"... on Person{self.directive()} {{ {' '.join(names)} }}")
        if self.chance(6):
            parts.append("... on Node { id }")
        return " ".join(parts)

    def field(self, type_name: str, shape: FieldShape, depth: int, hops: int) -> str:
        # Relationship fields are mostly aliased: two of them with different arguments
        # under one response key would not validate.
        aliased = self.chance(3) if shape.kind == "scalar" else not self.chance(3)
        alias = f"{self.key()}: " if aliased else ""
        directive = self.directive() if self.chance(3) else ""
        if shape.kind == "scalar":
            return f"{alias}{shape.name}{directive}"
        if shape.target == "SourceRef":
            return f"{alias}{shape.name}{directive} {{ source vendorId }}"
        if shape.kind == "connection":
            first = self.draw(st.sampled_from(NESTED_FIRST))
            inner = self.connection(shape.target, depth, hops + 1)
            return f"{alias}{shape.name}(first: {first}){directive} {{ {inner} }}"
        return f"{alias}{shape.name}{directive} {{ {self.object(shape.target, depth + 1, hops + 1)} }}"

    def connection(self, type_name: str, depth: int, hops: int) -> str:
        """The inside of a connection field at ``depth``: its nodes' fields are 3 levels down."""
        parts = [f"edges {{ node {{ {self.object(type_name, depth + 3, hops)} }} }}"]
        if self.chance(2):
            parts.append("totalCount")
        if self.chance(3):
            parts.append("pageInfo { hasNextPage }")
        return " ".join(parts)

    def object(self, type_name: str, depth: int, hops: int) -> str:
        """A selection on ``type_name``, concrete or abstract."""
        graphql_type = SCHEMA.get_type(type_name)
        if graphql_type is not None and is_abstract_type(graphql_type):
            possible = sorted(t.name for t in SCHEMA.get_possible_types(graphql_type))
            picked = self.draw(st.lists(st.sampled_from(possible), min_size=1, max_size=2, unique=True))
            inner = " ".join(f"... on {t} {{ {self.selection(t, depth, hops)} }}" for t in picked)
            return f"__typename id {inner}"
        return self.selection(type_name, depth, hops)

    def root(self) -> str:
        ids = self.who.ids
        choice = self.draw(
            st.sampled_from(
                ["viewer", "students", "sections", "student", "section", "teacher", "node", "schools"]
            )
        )
        # Root fields after the first are aliased: two look-ups by id under one key would conflict.
        key = f"{self.key()}: " if self.roots or self.chance(2) else ""
        self.roots += 1
        if choice == "viewer":
            parts = []
            if self.chance(2):
                parts.append(f"person {{ {self.object('Person', 3, 0)} }}")
            if self.chance(2) or not parts:
                first = self.draw(st.sampled_from(ROOT_FIRST))
                parts.append(f"students(first: {first}) {{ {self.connection('Student', 2, 0)} }}")
            if self.chance(3):
                first = self.draw(st.sampled_from(ROOT_FIRST))
                parts.append(f"sections(first: {first}) {{ {self.connection('Section', 2, 0)} }}")
            return f"{key}viewer {{ roles {' '.join(parts)} }}"
        if choice in ("students", "sections"):
            first = self.draw(st.sampled_from(ROOT_FIRST))
            type_name = "Student" if choice == "students" else "Section"
            return f"{key}{choice}(first: {first}) {{ {self.connection(type_name, 1, 0)} }}"
        if choice == "schools":
            return f"{key}schools {{ {self.selection('Organization', 2, 1)} }}"
        pool = ids["Node"] if choice == "node" else ids[choice.capitalize()]
        target = "Node" if choice == "node" else choice.capitalize()
        return f"{key}{choice}(id: {self.id_argument(pool)}) {{ {self.object(target, 2, 0)} }}"


@st.composite
def operations(draw: st.DrawFn, who: Asker) -> Operation:
    writer = _Writer(draw, who)
    roots = [writer.root() for _ in range(draw(st.integers(1, 2)))]
    header = f"query Q({', '.join(writer.declarations)})" if writer.declarations else "query Q"
    query = "\n".join([f"{header} {{ {' '.join(roots)} }}", *writer.fragments])
    return Operation(query, writer.variables)


# ---------------------------------------------------------------- the properties


def _ask(world: World, who: Asker, op: Operation) -> tuple[dict[str, Any], int]:
    registry = world.hub.running.hub.registry
    before = registry.calls
    body = world.hub.query(op.query, who.token, op.variables)
    return body, registry.calls - before


@pytest.mark.parametrize("persona", PERSONAS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_no_operation_discloses_what_the_policy_denies(
    large: World, large_askers: Askers, persona: str, data: st.DataObject
) -> None:
    who = large_askers[persona]
    op = data.draw(operations(who))
    body, calls = _ask(large, who, op)
    assert body["_status"] == 200, body
    text = json.dumps(body)
    findings = check_response(who.oracle, SCHEMA, op.query, body, op.variables)
    # (a) nothing the policy denies for the caller's relation to the record
    assert not findings.leaks, "\n".join([op.query, *findings.leaks[:10]])
    leaked_dates = [d for d in who.hidden_dates if f'"{d}"' in text]
    assert not leaked_dates, (op.query, leaked_dates)
    if who.no_programs:
        assert not [p for p in ("IEP", "504", "ELL", "FRL") if f'"{p}"' in text], op.query
    # (b) a refused operation asked no source anything
    if findings.forbidden:
        assert body["data"] is None and calls == 0, (op.query, body, calls)
    # the rest of the answer is what the ground truth expects too
    assert not findings.mismatches, "\n".join([op.query, *findings.mismatches[:10]])


@pytest.mark.parametrize("persona", PERSONAS)
@CASBIN_SETTINGS
@given(data=st.data())
def test_casbin_calls_do_not_depend_on_rows(
    small: World,
    large: World,
    small_askers: Askers,
    large_askers: Askers,
    persona: str,
    data: st.DataObject,
) -> None:
    who_small, who_large = small_askers[persona], large_askers[persona]
    op = data.draw(operations(who_large))
    counts = []
    for world, who in ((small, who_small), (large, who_large)):
        engine = world.hub.fresh_engine()
        world.hub.query(op.query, who.token, op.variables)
        counts.append(engine.enforce_calls)
    assert counts[0] == counts[1], (op.query, counts)
    engine = large.hub.running.hub.policy.current
    before = engine.enforce_calls
    body = large.hub.query(op.query, who_large.token, op.variables)
    assert body["_status"] == 200
    assert engine.enforce_calls == before, op.query


# ---------------------------------------------------------------- the oracle itself catches leaks


def test_the_ground_truth_flags_a_withheld_value_put_back(large: World, large_askers: Askers) -> None:
    who = large_askers["teacher"]
    query = "{ students(first: 50) { edges { node { id givenName email } } } }"
    body = large.hub.query(query, who.token)
    findings = check_response(who.oracle, SCHEMA, query, body)
    assert not findings.problems
    nodes = [edge["node"] for edge in body["data"]["students"]["edges"]]
    hidden = next(n for n in nodes if n["email"] is None)
    hidden["email"] = "someone@example.org"
    assert len(check_response(who.oracle, SCHEMA, query, body).leaks) == 1


def test_the_ground_truth_flags_a_record_the_caller_may_not_see(large: World, large_askers: Askers) -> None:
    admin, guardian = large_askers["district_admin"], large_askers["guardian"]
    query = "{ students(first: 5) { edges { node { id givenName birthDate } } } }"
    body = large.hub.query(query, admin.token)
    findings = check_response(guardian.oracle, SCHEMA, query, body)
    assert len(findings.leaks) >= 4 and findings.mismatches
