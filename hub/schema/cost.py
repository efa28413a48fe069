"""The query cost limit: an estimate of how many cells an operation may ask
for, made from the document and its variables alone, and a strawberry
extension that refuses an operation over the caller's limit before anything
runs.

The estimate is the sum, over every selected leaf field, of the product of
the row counts along its path: a field with a ``first`` argument counts its
``first`` (literal, variable, or the schema default), a plain list counts a
fixed per-field estimate, anything else counts one row. Aliases, repeated
fields and every spread of a fragment count separately, since each makes the
hub resolve the rows again. Nothing in it depends on data, so a refusal tells
the caller nothing about rows they cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_list_type,
)
from graphql.language import DirectiveNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from hub.schema.context import HubContext
from hub.schema.resolve import DEFAULT_PAGE_SIZE

__all__ = [
    "DEFAULT_LIST_ESTIMATE",
    "LIST_ESTIMATES",
    "QUERY_TOO_COSTLY",
    "CostLimit",
    "caller_limit",
    "estimate_cost",
    "too_costly_error",
]

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"

# Rows assumed for a list field that takes no `first`: what a typical record
# has (a student's guardians, a section's teachers), not the worst case, so
# that ordinary dashboards stay far below the limit while a query that
# multiplies lists many levels deep does not.
DEFAULT_LIST_ESTIMATE = 10
LIST_ESTIMATES: Mapping[str, int] = MappingProxyType(
    {
        "Query.schools": 50,
        "Query.sources": 10,
        "Organization.children": 10,
        "Teacher.schools": 3,
        "Section.teachers": 3,
        "Section.terms": 3,
        "Student.guardians": 3,
        "Guardian.students": 3,
        "Student.courseGrades": 10,
        "Student.attendance": 10,
        # Provenance: one entry per source that holds the record.
        "Student.sources": 3,
        "Teacher.sources": 3,
        "Guardian.sources": 3,
        "Organization.sources": 3,
        "Section.sources": 3,
        "Assignment.sources": 3,
        "Score.sources": 3,
    }
)

# Introspection reads only the schema, whose size is fixed: it costs nothing here.
_SCHEMA_FIELDS = frozenset({"__schema", "__type"})
# The largest integer every JSON client reads exactly; anything above is
# simply "too costly", and a bound keeps the arithmetic small.
_CEILING = 2**53 - 1


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    *,
    max_page_size: int | None = None,
    list_estimates: Mapping[str, int] = LIST_ESTIMATES,
) -> int:
    """The estimated cost of the operation ``operation_name`` of ``document``.

    ``max_page_size`` caps any ``first`` (the resolvers refuse a larger one
    before fetching). When the operation is ambiguous (no name and several
    operations) the most expensive one counts, erring towards refusing.
    Meant for validated documents; an invalid one gets some estimate, never
    an exception.
    """
    operations = [
        node
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode)
        and (operation_name is None or (node.name is not None and node.name.value == operation_name))
    ]
    fragments = {
        node.name.value: node for node in document.definitions if isinstance(node, FragmentDefinitionNode)
    }
    costs = (
        _Estimate(schema, fragments, operation, variables or {}, max_page_size, list_estimates).total()
        for operation in operations
    )
    return max(costs, default=0)


def caller_limit(default: int, by_role: Mapping[str, int], roles: Iterable[str]) -> int:
    """The cost limit of a caller: the largest over their roles, a role with
    no entry of its own having ``default`` (which also applies without roles)."""
    return max((by_role.get(role, default) for role in roles), default=default)


def too_costly_error(cost: int, limit: int) -> GraphQLError:
    """The refusal: numbers only, never the query's text."""
    return GraphQLError(
        f"the operation is too costly: estimated cost {cost}, limit {limit}; "
        "ask for fewer rows (a smaller `first`) or fewer fields",
        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "limit": limit},
    )


class CostLimit(SchemaExtension):
    """Refuses, during validation and so before any resolver or data access,
    an operation whose estimated cost exceeds the caller's limit
    (``[server] max_cost`` and ``[server.max_cost_by_role]``)."""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None:
            if execution.pre_execution_errors is None:
                # Validate first (as strawberry's ValidationCache does, and so
                # strawberry does not again), so that only a document that
                # would run is estimated and its own errors come first.
                rules = execution.validation_rules
                schema = execution.schema._schema
                execution.pre_execution_errors = validate_document(schema, document, rules) if rules else []
            if not execution.pre_execution_errors:
                refusal = self._refusal(document)
                if refusal is not None:
                    execution.pre_execution_errors = [refusal]
        yield

    def _refusal(self, document: DocumentNode) -> GraphQLError | None:
        execution = self.execution_context
        ctx: HubContext = execution.context
        server = ctx.hub.settings.server
        cost = estimate_cost(
            execution.schema._schema,
            document,
            execution.operation_name,
            execution.variables,
            max_page_size=server.max_page_size,
        )
        limit = caller_limit(server.max_cost, server.max_cost_by_role, ctx.principal.roles)
        if cost <= limit:
            return None
        ctx.disclosures.refused(QUERY_TOO_COSTLY)
        return too_costly_error(cost, limit)


class _Estimate:
    """One operation's estimate. Costs are per row of a selection set on one
    concrete type, memoised, so a fragment spread many times is walked once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        max_page_size: int | None,
        list_estimates: Mapping[str, int],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.operation = operation
        self.variables = variables
        self.defaults: dict[str, ValueNode] = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        }
        self.max_page_size = max_page_size
        self.list_estimates = list_estimates
        self.memo: dict[tuple[str, int], int] = {}
        self.walking: set[tuple[str, int]] = set()

    def total(self) -> int:
        root = self.schema.get_root_type(self.operation.operation)
        return 0 if root is None else self.on_type(root, self.operation.selection_set)

    def per_row(self, types: frozenset[GraphQLObjectType], selection_set: SelectionSetNode) -> int:
        """One row of an abstract type is one of its concrete types: the dearest counts."""
        return max((self.on_type(object_type, selection_set) for object_type in types), default=0)

    def on_type(self, object_type: GraphQLObjectType, selection_set: SelectionSetNode) -> int:
        key = (object_type.name, id(selection_set))
        known = self.memo.get(key)
        if known is not None:
            return known
        if key in self.walking:
            return 0  # a fragment cycle: validation refuses the document anyway
        self.walking.add(key)
        total = 0
        for selection in selection_set.selections:
            if not self.included(selection.directives):
                continue
            if isinstance(selection, FieldNode):
                total += self.field(object_type, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if self.applies(object_type, condition):
                    total += self.on_type(object_type, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None and self.applies(object_type, fragment.type_condition.name.value):
                    total += self.on_type(object_type, fragment.selection_set)
        self.walking.discard(key)
        total = min(total, _CEILING)
        self.memo[key] = total
        return total

    def field(self, parent: GraphQLObjectType, node: FieldNode) -> int:
        name = node.name.value
        if name in _SCHEMA_FIELDS:
            return 0
        if node.selection_set is None:
            return 1  # a leaf: one cell per row
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        rows = self.rows(parent, name, definition, node)
        below = self.per_row(self.possible_types(get_named_type(definition.type)), node.selection_set)
        return min(rows * below, _CEILING)

    def rows(self, parent: GraphQLObjectType, name: str, definition: GraphQLField, node: FieldNode) -> int:
        """How many rows the field yields per row of its parent."""
        first = definition.args.get("first")
        if first is not None:
            return self.first(first, node)
        if is_list_type(get_nullable_type(definition.type)) and "pageInfo" not in parent.fields:
            return self.list_estimates.get(f"{parent.name}.{name}", DEFAULT_LIST_ESTIMATE)
        # A connection's `edges` are the page its `first` already counted.
        return 1

    def first(self, argument: GraphQLArgument, node: FieldNode) -> int:
        value = self.argument_value(node, "first")
        if value is Undefined:
            value = argument.default_value
        if value is None or value is Undefined:
            return DEFAULT_PAGE_SIZE  # what the resolvers page by for an explicit null
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # GraphQL's Int accepts 5.0 as a variable
        if not isinstance(value, int) or isinstance(value, bool):
            # Variable coercion refuses it before anything runs; count the default.
            default = argument.default_value
            return (
                default if isinstance(default, int) and not isinstance(default, bool) else DEFAULT_PAGE_SIZE
            )
        rows = max(value, 0)
        return rows if self.max_page_size is None else min(rows, self.max_page_size)

    def argument_value(self, node: FieldNode, name: str) -> Any:
        """The argument's value as the executor will see it, ``Undefined`` when absent."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self.literal(argument.value)
        return Undefined

    def literal(self, value: ValueNode) -> Any:
        if isinstance(value, VariableNode):
            variable = value.name.value
            if variable in self.variables:
                return self.variables[variable]
            default = self.defaults.get(variable)
            return Undefined if default is None else self.literal(default)
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, BooleanValueNode):
            return value.value
        if isinstance(value, NullValueNode):
            return None
        return value  # of another kind: validation refuses it where an Int or Boolean belongs

    def possible_types(self, named_type: Any) -> frozenset[GraphQLObjectType]:
        if isinstance(named_type, GraphQLObjectType):
            return frozenset({named_type})
        if is_abstract_type(named_type):
            return frozenset(self.schema.get_possible_types(named_type))
        return frozenset()

    def applies(self, object_type: GraphQLObjectType, condition: str | None) -> bool:
        """Whether a fragment on ``condition`` applies to a row of ``object_type``."""
        if condition is None:
            return True
        return object_type in self.possible_types(self.schema.get_type(condition))

    def included(self, directives: tuple[DirectiveNode, ...] | None) -> bool:
        """False only when ``@skip``/``@include`` certainly drop the selection
        (an unknown condition counts the selection: it may run)."""
        for directive in directives or ():
            if directive.name.value not in ("skip", "include"):
                continue
            condition = next(
                (self.literal(a.value) for a in directive.arguments or () if a.name.value == "if"), None
            )
            if isinstance(condition, bool) and (directive.name.value == "skip") == condition:
                return False
        return True
