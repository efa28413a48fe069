"""The query cost limit (issue #9, finding 6: a 30-alias nested query ran for
about a minute): the estimate, its monotonicity, and the refusal through HTTP
before any upstream call."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.dashboard import QUERY as DASHBOARD
from hub.audit import EventKind
from hub.schema import build_schema
from hub.schema.cost import (
    DEFAULT_LIST_ESTIMATE,
    LIST_ESTIMATES,
    QUERY_TOO_COSTLY,
    caller_limit,
    estimate_cost,
)
from hub.schema.resolve import DEFAULT_PAGE_SIZE
from tests.support import RunningHub, make_district, running_hub

SCHEMA: GraphQLSchema = build_schema()._schema


def cost(query: str, variables: dict[str, Any] | None = None, **options: Any) -> int:
    """The estimate of a query that must also be valid (so tests estimate what would run)."""
    document = parse(query)
    assert validate(SCHEMA, document) == []
    return estimate_cost(SCHEMA, document, variables=variables, **options)


# ---------------------------------------------------------------- the estimate


def test_each_leaf_costs_one_per_row() -> None:
    assert cost("{ viewer { subject roles } }") == 2
    assert cost("{ viewer { subject __typename } }") == 2


def test_a_connection_multiplies_by_its_first_or_the_schema_default() -> None:
    assert cost("{ students(first: 7) { edges { node { id givenName } } } }") == 14
    assert cost("{ students { edges { node { id givenName } } } }") == 200  # first: Int = 100
    assert cost("{ sections { edges { node { id } } } }") == 50  # first: Int = 50
    # An explicit null pages by the resolvers' default page size.
    assert cost("{ sections(first: null) { edges { node { id } } } }") == DEFAULT_PAGE_SIZE


def test_nested_connections_multiply() -> None:
    query = """{ sections(first: 10) { edges { node {
        title
        students(first: 20) { edges { node { id givenName
          scores(first: 3) { edges { node { score } } } } } }
    } } } }"""
    assert cost(query) == 10 * (1 + 20 * (2 + 3 * 1))


def test_first_from_variables_their_defaults_and_the_schema() -> None:
    query = "query Q($n: Int) { students(first: $n) { edges { node { id } } } }"
    assert cost(query, {"n": 3}) == 3
    assert cost(query, {"n": 5.0}) == 5  # GraphQL's Int accepts an integral float
    assert cost(query, {"n": None}) == DEFAULT_PAGE_SIZE
    assert cost(query, {}) == 100  # not supplied: the argument is absent, the schema default applies
    assert cost(query, {"n": "lots"}) == 100  # refused by variable coercion; counted as the default
    defaulted = "query Q($n: Int = 4) { students(first: $n) { edges { node { id } } } }"
    assert cost(defaulted, {}) == 4
    assert cost(defaulted, {"n": 9}) == 9


def test_first_is_capped_by_the_page_limit_and_never_negative() -> None:
    query = "query Q($n: Int) { students(first: $n) { edges { node { id } } } }"
    assert cost(query, {"n": 2_000_000_000}, max_page_size=10_000) == 10_000
    assert cost(query, {"n": -5}) == 0


def test_aliases_and_repeated_fields_count_separately() -> None:
    query = """{ a: students(first: 2) { edges { node { id } } }
                 b: students(first: 3) { edges { node { id x: id } } } }"""
    assert cost(query) == 2 * 1 + 3 * 2


def test_every_spread_of_a_fragment_counts() -> None:
    query = """
    query { students(first: 4) { edges { node { ...Names school { id } } } }
            viewer { students(first: 5) { edges { node { ...Names } } } } }
    fragment Names on Student { givenName familyName ... on Person { email } }
    """
    assert cost(query) == 4 * (3 + 1) + 5 * 3


def test_an_abstract_row_costs_its_dearest_concrete_type() -> None:
    query = """{ node(id: "x") { id
        ... on Student { guardians { id email } }
        ... on Guardian { givenName }
        ... on Person { familyName } } }"""
    # A Student row: id + familyName + guardians (3 estimated) x 2.
    assert cost(query) == 1 + 1 + LIST_ESTIMATES["Student.guardians"] * 2


def test_skip_and_include_with_literals_and_variables() -> None:
    query = """query Q($big: Boolean!, $maybe: Boolean = true) {
        a: students(first: 10) @include(if: $big) { edges { node { id } } }
        b: students(first: 20) @skip(if: true) { edges { node { id } } }
        c: students(first: 30) @include(if: $maybe) { edges { node { id } } }
        d: students(first: 40) { edges { node { ... on Student @skip(if: $big) { id } } } }
    }"""
    assert cost(query, {"big": True}) == 10 + 30
    assert cost(query, {"big": False}) == 30 + 40
    assert cost(query, {"big": False, "maybe": False}) == 40
    # A condition not known yet counts the selection: it may run.
    assert cost(query, {}) == 10 + 30 + 40


def test_plain_lists_use_the_per_field_estimates() -> None:
    assert cost('{ student(id: "x") { guardians { id } } }') == LIST_ESTIMATES["Student.guardians"]
    assert cost("{ schools { id name } }") == LIST_ESTIMATES["Query.schools"] * 2
    assert (
        cost('{ student(id: "x") { attendance { date status } } }')
        == 2 * LIST_ESTIMATES["Student.attendance"]
    )
    # A list of scalars is one cell, and a field missing from the table gets the default estimate.
    assert cost('{ section(id: "x") { periods } }') == 1
    assert cost('{ student(id: "x") { guardians { id } } }', list_estimates={}) == DEFAULT_LIST_ESTIMATE


def test_introspection_costs_nothing() -> None:
    assert cost("{ __schema { types { name fields { name } } } }") == 0


def test_an_ambiguous_document_counts_its_dearest_operation() -> None:
    document = parse(
        "query A { students(first: 2) { edges { node { id } } } } "
        "query B { students(first: 9) { edges { node { id } } } }"
    )
    assert estimate_cost(SCHEMA, document) == 9
    assert estimate_cost(SCHEMA, document, "A") == 2
    assert estimate_cost(SCHEMA, document, "C") == 0  # no such operation: the executor refuses it


def test_a_fragment_bomb_is_estimated_quickly_and_bounded() -> None:
    # Each fragment spreads the previous one twice: 2**40 paths, walked once each per type.
    fragments = ["fragment F0 on Student { id }"]
    fragments += [f"fragment F{i} on Student {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 41)]
    query = "{ students(first: 10000) { edges { node { ...F40 } } } }\n" + "\n".join(fragments)
    assert estimate_cost(SCHEMA, parse(query)) == 2**53 - 1


def test_the_caller_gets_the_largest_limit_of_their_roles() -> None:
    by_role = {"district_admin": 9_000, "student": 10}
    assert caller_limit(500, by_role, ()) == 500
    assert caller_limit(500, by_role, ("teacher",)) == 500
    assert caller_limit(500, by_role, ("student",)) == 10
    assert caller_limit(500, by_role, ("student", "teacher")) == 500
    assert caller_limit(500, by_role, ("student", "district_admin")) == 9_000


# ---------------------------------------------------------------- monotonicity


@dataclass
class Node:
    """A generated selection: a field, its `first` when it takes one, the type
    it yields (None for a leaf) and its children."""

    name: str
    first: int | None = None
    target: str | None = None
    children: list[Node] = field(default_factory=list)

    def render(self, key: int) -> str:
        arguments = f"(first: {self.first})" if self.first is not None else ""
        inner = " ".join(child.render(i) for i, child in enumerate(self.children))
        # Aliased, so that the same field twice with different arguments stays a valid document.
        return f"f{key}: {self.name}{arguments}" + (f" {{ {inner} }}" if self.children else "")


# Type -> its fields: (name, takes `first`, the type it yields or None for a leaf).
SHAPES: dict[str, list[tuple[str, bool, str | None]]] = {
    "Query": [("students", True, "StudentConnection"), ("schools", False, "Organization")],
    "StudentConnection": [("totalCount", False, None), ("edges", False, "StudentEdge")],
    "StudentEdge": [("cursor", False, None), ("node", False, "Student")],
    "Student": [
        ("id", False, None),
        ("givenName", False, None),
        ("school", False, "Organization"),
        ("guardians", False, "Guardian"),
        ("scores", True, "ScoreConnection"),
    ],
    "Guardian": [("id", False, None), ("email", False, None), ("students", False, "Student")],
    "Organization": [("id", False, None), ("name", False, None), ("children", False, "Organization")],
    "ScoreConnection": [("totalCount", False, None), ("edges", False, "ScoreEdge")],
    "ScoreEdge": [("node", False, "Score")],
    "Score": [("score", False, None), ("late", False, None)],
}


@st.composite
def selections(draw: st.DrawFn, type_name: str, depth: int = 0) -> list[Node]:
    """A non-empty selection on ``type_name``, leaves only from depth 7 on."""
    options = SHAPES[type_name]
    leaves = [option for option in options if option[2] is None]
    if depth >= 7 and leaves:
        options = leaves
    out = []
    for name, pages, target in draw(st.lists(st.sampled_from(options), min_size=1, max_size=3)):
        first = draw(st.integers(0, 300)) if pages else None
        children = draw(selections(target, depth + 1)) if target is not None else []
        out.append(Node(name, first, target, children))
    return out


def render(roots: list[Node]) -> str:
    return "{ " + " ".join(root.render(i) for i, root in enumerate(roots)) + " }"


def every_node(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        out.extend(every_node(node.children))
    return out


@settings(max_examples=150, deadline=None)
@given(selections("Query"), st.data())
def test_adding_a_field_or_raising_first_never_lowers_the_estimate(roots: list[Node], data: Any) -> None:
    before = cost(render(roots))
    nodes = every_node(roots)
    paged = [node for node in nodes if node.first is not None]
    if paged and data.draw(st.booleans(), label="raise a first"):
        node = data.draw(st.sampled_from(paged))
        node.first = (node.first or 0) + data.draw(st.integers(1, 500))
    else:
        parent = data.draw(st.sampled_from([None, *(node for node in nodes if node.target is not None)]))
        added = data.draw(selections(parent.target if parent and parent.target else "Query", depth=6))
        (parent.children if parent is not None else roots).extend(added)
    assert cost(render(roots)) >= before


# ---------------------------------------------------------------- through HTTP

# Finding 6: 30 aliases (the most the hub allows), each three lists of 100 deep.
NESTED = (
    "students(first: 100) { edges { node { id sections(first: 100) { edges { node { id "
    "students(first: 100) { edges { node { id givenName } } } } } } } } }"
)
THIRTY_ALIASES = "query Heavy { " + " ".join(f"a{i}: {NESTED}" for i in range(30)) + " }"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 120)


async def _upstream_calls(running: RunningHub, query: str, persona: str) -> tuple[dict[str, Any], int]:
    """The answer to ``query`` and how many upstream requests it made."""
    await running.query("{ viewer { subject } }", persona=persona)  # the caller's person, cached
    registry = running.hub.registry
    registry.record_requests, registry.requests, before = True, [], registry.calls
    body = await running.query(query, persona=persona)
    assert len(registry.requests) == registry.calls - before
    return body, registry.calls - before


async def test_the_thirty_alias_nested_query_is_refused_before_any_upstream_call(district: Path) -> None:
    async with running_hub(district) as running:
        limit = running.hub.settings.server.max_cost
        for persona in ("teacher", "district_admin"):
            body, calls = await _upstream_calls(running, THIRTY_ALIASES, persona)
            assert body["_status"] == 400
            assert body["data"] is None
            (error,) = body["errors"]
            assert error["extensions"] == {
                "code": QUERY_TOO_COSTLY,
                "cost": 30 * 100 * (1 + 100 * (1 + 100 * 2)),
                "limit": limit,
            }
            assert "givenName" not in error["message"] and "Heavy" not in error["message"]
            assert calls == 0
        # The counter does count: the dashboard the bench measures runs, and passes the limit.
        body, calls = await _upstream_calls(running, DASHBOARD, "teacher")
        assert body["_status"] == 200 and "errors" not in body, body.get("errors")
        assert body["data"]["viewer"]["sections"]["edges"]
        assert calls > 0


def _limits(running: RunningHub, monkeypatch: pytest.MonkeyPatch, **server: Any) -> None:
    """Run the rest of the test as if ``[server]`` held these keys (the limit
    is read from the hub's settings per request)."""
    configured = running.hub.settings
    updated = configured.model_copy(update={"server": configured.server.model_copy(update=server)})
    monkeypatch.setattr(running.hub, "settings", updated)


async def test_first_from_variables_counts(district: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query = "query Q($n: Int) { students(first: $n) { edges { node { id givenName familyName } } } }"
    async with running_hub(district) as running:
        _limits(running, monkeypatch, max_cost=1_000)
        small = await running.query(query, variables={"n": 300}, persona="district_admin")
        assert small["_status"] == 200 and "errors" not in small, small.get("errors")
        big = await running.query(query, variables={"n": 400}, persona="district_admin")
        assert big["_status"] == 400
        assert big["errors"][0]["extensions"] == {"code": QUERY_TOO_COSTLY, "cost": 1_200, "limit": 1_000}


async def test_limits_follow_the_callers_roles(district: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_hub(district) as running:
        by_role = {"district_admin": 1_000_000, "student": 5}
        _limits(running, monkeypatch, max_cost=1_000, max_cost_by_role=by_role)
        roster = "{ students(first: 600) { edges { node { id givenName } } } }"  # 1,200
        teacher = await running.query(roster, persona="teacher")
        assert teacher["_status"] == 400
        assert teacher["errors"][0]["extensions"] == {"code": QUERY_TOO_COSTLY, "cost": 1_200, "limit": 1_000}
        admin = await running.query(roster, persona="district_admin")
        assert admin["_status"] == 200 and "errors" not in admin, admin.get("errors")
        # An entry may also set a role's limit below the default.
        small = "{ viewer { students(first: 3) { edges { node { id givenName } } } } }"  # 6
        student = await running.query(small, persona="student")
        assert student["_status"] == 400
        assert student["errors"][0]["extensions"] == {"code": QUERY_TOO_COSTLY, "cost": 6, "limit": 5}
        assert (await running.query(small, persona="teacher"))["_status"] == 200


async def test_a_refusal_is_an_audit_event(district: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    async with running_hub(district, store_url=f"sqlite+aiosqlite:///{db}") as running:
        refused = await running.query(THIRTY_ALIASES, persona="teacher")
        assert refused["_status"] == 400
    with sqlite3.connect(db) as connection:
        events = list(connection.execute("SELECT kind, outcome FROM audit_events"))
    assert events == [(EventKind.REFUSAL.value, QUERY_TOO_COSTLY)]
