"""The shipped policy against the hub's own schema and the queries dashboards send."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, parse

from hub.policy import PolicyEngine, build_plan, catalogue_from_schema, collect_fields, run_suite
from hub.policy.cli import load_catalogue
from tests.policy.conftest import SHIPPED

HUB_ROLES = ("district_admin", "school_admin", "counselor", "teacher", "guardian", "student")

DASHBOARD_QUERIES = {
    "who am I": "{ viewer { subject roles person { id givenName familyName preferredName } } }",
    "any node": '{ node(id: "x") { id __typename } }',
    "my students' grades": """{ viewer { students { edges { node {
        id givenName familyName school { name }
        courseGrades { letterGrade percent section { title teachers { givenName familyName email } } }
        attendance { date status }
    } } } } }""",
    "schools": "{ schools { id name type } }",
}


def test_the_shipped_policy_loads_and_passes_against_the_hub_schema() -> None:
    schema_module = pytest.importorskip("hub.schema")
    catalogue = catalogue_from_schema(schema_module.build_schema()._schema)
    assert load_catalogue() == catalogue
    engine = PolicyEngine.from_dir(SHIPPED, catalogue)
    report = run_suite(engine, SHIPPED)
    assert report.passed, report.table()


@pytest.mark.parametrize("role", HUB_ROLES)
@pytest.mark.parametrize("query", DASHBOARD_QUERIES.values(), ids=DASHBOARD_QUERIES.keys())
def test_everyday_queries_pass_the_gate_for_every_role(
    contract_schema: GraphQLSchema, shipped_engine: PolicyEngine, role: str, query: str
) -> None:
    plan = build_plan(shipped_engine, [role], collect_fields(contract_schema, parse(query)))
    assert plan.forbidden == ()
