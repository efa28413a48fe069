"""The policy gate: a strawberry extension that decides, before any resolver
runs, what the operation may read, and refuses it whole when it selects a
field the caller may read under no relation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema, get_named_type, get_operation_ast
from strawberry.extensions import SchemaExtension

from hub.federation.access import DataAccess
from hub.federation.scope import Scope
from hub.policy import AccessPlan, build_plan, collect_argument_reads, collect_fields
from hub.schema.context import HubContext
from hub.schema.filters import ANY_OF, FILTER_READS

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
        operation = get_operation_ast(document, execution.operation_name)
        ctx.operation = operation.name.value if operation is not None and operation.name else None
        engine = hub.policy.current  # one snapshot for the whole request
        schema = execution.schema._schema
        selected = with_listed_rows(
            schema,
            collect_fields(schema, document, execution.operation_name, execution.variables),
            hub.catalogue,
        )
        filtered = collect_argument_reads(
            schema, document, FILTER_READS, execution.operation_name, execution.variables
        )
        plan = _forgive_any_of(
            build_plan(engine, ctx.principal.roles, _merged(selected, filtered), hub.catalogue),
            selected,
            filtered,
        )
        ctx.plan = plan
        if plan.forbidden:
            for entry in plan.forbidden:
                type_name, _, field_name = entry.partition(".")
                ctx.disclosures.refused("FORBIDDEN", type_name=type_name, names=[field_name])
            execution.result = GraphQLExecutionResult(data=None, errors=[forbidden_error(plan.forbidden)])
            yield
            return

        def access(relationships: Any) -> DataAccess:
            return DataAccess(
                hub.registry,
                Scope(plan, selected, relationships, filtered),
                hub.identity,
                hints=hub.resume_hints,
                subject=ctx.principal.subject,
            )

        ctx.data = access(ctx.relationships)
        # A subscription reads each event afresh under the same plan, with the
        # caller's relations as they are at delivery time.
        ctx.renew_access = lambda relationships=None: access(
            relationships if relationships is not None else hub.relationships(ctx.principal, ctx.caller)
        )
        yield


def _merged(*selections: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for selection in selections:
        for type_name, fields in selection.items():
            out[type_name] = out.get(type_name, frozenset()) | fields
    return out


def _forgive_any_of(
    plan: AccessPlan, selected: Mapping[str, frozenset[str]], filtered: Mapping[str, frozenset[str]]
) -> AccessPlan:
    """A search over names is refused only when no name it compares is
    readable: drop from ``forbidden`` the names of a group with a readable one
    (unless the operation also selects them, which counts on its own)."""
    if not plan.forbidden:
        return plan
    forgiven: set[str] = set()
    for type_name, group in ANY_OF.items():
        compared = {f"{type_name}.{name}" for name in filtered.get(type_name, frozenset())} & group
        unreadable = compared & set(plan.forbidden)
        if unreadable and unreadable != compared:
            forgiven |= {f for f in unreadable if f.partition(".")[2] not in selected.get(type_name, ())}
    if not forgiven:
        return plan
    return dataclasses.replace(plan, forbidden=tuple(f for f in plan.forbidden if f not in forgiven))


@cache
def _listed_types(schema: GraphQLSchema) -> dict[tuple[str, str], str]:
    """(Type, field) -> the record type whose rows the field lists, looking
    through connections (``students`` lists Student rows)."""
    listed: dict[tuple[str, str], str] = {}
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            target = get_named_type(field.type)
            if isinstance(target, GraphQLObjectType) and target.name.endswith("Connection"):
                edge = get_named_type(target.fields["edges"].type)
                if isinstance(edge, GraphQLObjectType) and "node" in edge.fields:
                    target = get_named_type(edge.fields["node"].type)
            if target is not None:
                listed[(type_name, field_name)] = target.name
    return listed


def with_listed_rows(
    schema: GraphQLSchema, selected: dict[str, frozenset[str]], catalogue: Mapping[str, frozenset[str]]
) -> dict[str, frozenset[str]]:
    """Count listing rows as reading their ``id``.

    ``students { totalCount }`` selects no Student field, yet its answer
    depends on which students the caller may see: decide it as if ``id`` were
    selected, so the same visibility rules apply (and a caller who may read
    nothing of a type cannot count its rows).
    """
    listed = _listed_types(schema)
    out = dict(selected)
    for type_name, fields in selected.items():
        for field_name in fields:
            target = listed.get((type_name, field_name))
            if target is not None and target in catalogue and not out.get(target):
                out[target] = frozenset({"id"})
    return out


def forbidden_error(fields: Any) -> GraphQLError:
    """The operation-level refusal, naming every field it may not read."""
    names = sorted(fields)
    return GraphQLError(
        "not allowed to read: " + ", ".join(names),
        extensions={"code": FORBIDDEN, "fields": names},
    )
