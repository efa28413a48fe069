"""The policy gate: a strawberry extension that decides, before any resolver
runs, what the operation may read, and refuses it whole when it selects a
field the caller may read under no relation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from hub.federation.access import DataAccess
from hub.federation.scope import Scope
from hub.policy import build_plan, collect_fields
from hub.schema.context import HubContext

FORBIDDEN = "FORBIDDEN"


class PolicyGate(SchemaExtension):
    """Plans access once per operation; resolvers then only apply the plan."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        ctx: HubContext = execution.context
        document = execution.graphql_document
        if document is None:  # pragma: no cover - strawberry parsed it already
            yield
            return
        hub = ctx.hub
        engine = hub.policy.current  # one snapshot for the whole request
        selected = collect_fields(
            execution.schema._schema, document, execution.operation_name, execution.variables
        )
        plan = build_plan(engine, ctx.principal.roles, selected, hub.catalogue)
        if plan.forbidden:
            execution.result = GraphQLExecutionResult(data=None, errors=[forbidden_error(plan.forbidden)])
            yield
            return
        ctx.plan = plan
        ctx.data = DataAccess(hub.registry, Scope(plan, selected, ctx.relationships))
        yield


def forbidden_error(fields: Any) -> GraphQLError:
    """The operation-level refusal, naming every field it may not read."""
    names = sorted(fields)
    return GraphQLError(
        "not allowed to read: " + ", ".join(names),
        extensions={"code": FORBIDDEN, "fields": names},
    )
