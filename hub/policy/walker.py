"""Which ``Type.field`` pairs an operation can read, found before anything runs.

The walk errs towards selecting: a field behind ``@include``/``@skip`` whose
condition cannot be known counts as selected, and a field asked of an
interface or union counts for every concrete type that has it. Checking a field
the executor then skips costs nothing; missing one would leak it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
)
from graphql.language import DirectiveNode

_INTROSPECTION_FIELDS = frozenset({"__typename", "__schema", "__type"})


ArgumentReads = Mapping[tuple[str, str, str, str | None], tuple[str, tuple[str, ...]]]
"""(Type, field, argument, input field or None) -> (Type, fields) a filter
argument compares: filtering on a field reads it, so the policy decides it."""


class OperationNotFound(ValueError):
    """The document has no operation by that name, or several and no name was given."""


def collect_fields(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, frozenset[str]]:
    """Type name -> names of the fields the operation selects on that concrete type.

    Follows fragment spreads, inline fragments (typed or not) and aliases (the
    field name counts, not the alias), honours ``@skip``/``@include`` when the
    condition is a literal or a supplied boolean variable (or the variable's
    literal default), and expands interfaces and unions to every possible
    object type that has the field. Introspection fields are ignored.
    Structural types (``Query``, ``Viewer``, connections) are included; the
    catalogue decides what is checked.
    """
    operation = _operation(document, operation_name)
    root = schema.get_root_type(operation.operation)
    if root is None:
        raise OperationNotFound(f"the schema has no {operation.operation.value} type")
    walk = _Walk(schema, document, operation, variables or {})
    walk.selection_set(frozenset({root}), operation.selection_set)
    return {name: frozenset(fields) for name, fields in sorted(walk.selected.items())}


def collect_argument_reads(
    schema: GraphQLSchema,
    document: DocumentNode,
    reads: ArgumentReads,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, frozenset[str]]:
    """Type name -> fields that the operation's filter arguments compare
    (per ``reads``), for arguments given a value (literally or by variable).

    A variable the request does not supply counts as given when its
    definition has a default: the walk errs towards deciding more.
    """
    operation = _operation(document, operation_name)
    root = schema.get_root_type(operation.operation)
    if root is None:
        raise OperationNotFound(f"the schema has no {operation.operation.value} type")
    walk = _Walk(schema, document, operation, variables or {}, reads)
    walk.selection_set(frozenset({root}), operation.selection_set)
    return {name: frozenset(fields) for name, fields in sorted(walk.argument_reads.items())}


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        raise OperationNotFound("the document has several operations; name the one to run")
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    raise OperationNotFound(f"the document has no operation named {operation_name!r}")


class _Walk:
    """One walk over one operation; ``selected`` accumulates type -> field names."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        reads: ArgumentReads | None = None,
    ) -> None:
        self.schema = schema
        self.reads = reads or {}
        self.variables = dict(variables)
        self.defaulted = {
            definition.variable.name.value
            for definition in operation.variable_definitions or ()
            if not isinstance(definition.default_value, NullValueNode | None)
        }
        self.argument_reads: dict[str, set[str]] = {}
        self.fragments = {
            node.name.value: node for node in document.definitions if isinstance(node, FragmentDefinitionNode)
        }
        self.conditions = dict(variables)
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.conditions and isinstance(definition.default_value, BooleanValueNode):
                self.conditions[name] = definition.default_value.value
        self.selected: dict[str, set[str]] = {}
        # (possible types, selection set) already walked: stops fragment cycles
        # and repeated work when the same fragment is spread many times.
        self.seen: set[tuple[frozenset[str], int]] = set()

    def selection_set(self, types: frozenset[GraphQLObjectType], selection_set: SelectionSetNode) -> None:
        key = (frozenset(object_type.name for object_type in types), id(selection_set))
        if not types or key in self.seen:
            return
        self.seen.add(key)
        for selection in selection_set.selections:
            if not self.included(selection.directives):
                continue
            if isinstance(selection, FieldNode):
                self.field(types, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                self.selection_set(self.narrow(types, condition), selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None and self.included(fragment.directives):
                    narrowed = self.narrow(types, fragment.type_condition.name.value)
                    self.selection_set(narrowed, fragment.selection_set)

    def field(self, types: frozenset[GraphQLObjectType], node: FieldNode) -> None:
        name = node.name.value
        if name in _INTROSPECTION_FIELDS:
            return
        children: set[GraphQLObjectType] = set()
        for object_type in types:
            definition = object_type.fields.get(name)
            if definition is None:
                continue
            self.selected.setdefault(object_type.name, set()).add(name)
            if self.reads and node.arguments:
                self.arguments(object_type.name, name, node)
            if node.selection_set is not None:
                children |= self.possible_types(get_named_type(definition.type))
        if node.selection_set is not None:
            self.selection_set(frozenset(children), node.selection_set)

    def arguments(self, type_name: str, field_name: str, node: FieldNode) -> None:
        """Note the fields the given filter arguments of ``node`` compare."""
        for argument in node.arguments or ():
            name = argument.name.value
            value = argument.value
            keys: list[str | None]
            if isinstance(value, ObjectValueNode):
                keys = [item.name.value for item in value.fields if self.given(item.value)]
            elif isinstance(value, VariableNode) and isinstance(self.variables.get(value.name.value), dict):
                keys = [k for k, v in self.variables[value.name.value].items() if v is not None]
            elif self.given(value):
                keys = [key for (t, f, a, key) in self.reads if (t, f, a) == (type_name, field_name, name)]
            else:
                continue
            for key in (None, *keys):
                read = self.reads.get((type_name, field_name, name, key))
                if read is not None:
                    self.argument_reads.setdefault(read[0], set()).update(read[1])

    def given(self, value: Any) -> bool:
        """Whether an argument value is given (not null, not a missing variable)."""
        if isinstance(value, NullValueNode):
            return False
        if isinstance(value, VariableNode):
            name = value.name.value
            return self.variables.get(name) is not None or (
                name not in self.variables and name in self.defaulted
            )
        return True

    def narrow(
        self, types: frozenset[GraphQLObjectType], condition: str | None
    ) -> frozenset[GraphQLObjectType]:
        """The types of ``types`` a fragment on ``condition`` applies to."""
        if condition is None:
            return types
        condition_type = self.schema.get_type(condition)
        if condition_type is None:
            return frozenset()
        return types & self.possible_types(condition_type)

    def possible_types(self, named_type: Any) -> frozenset[GraphQLObjectType]:
        if isinstance(named_type, GraphQLObjectType):
            return frozenset({named_type})
        if is_abstract_type(named_type):
            return frozenset(self.schema.get_possible_types(named_type))
        return frozenset()

    def included(self, directives: tuple[DirectiveNode, ...] | None) -> bool:
        """False only when ``@skip``/``@include`` certainly drop the selection."""
        for directive in directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = self.condition(directive)
            if condition is None:
                continue
            if (name == "skip") == condition:
                return False
        return True

    def condition(self, directive: DirectiveNode) -> bool | None:
        """The directive's ``if:`` value, or None when it cannot be known now."""
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            value = argument.value
            if isinstance(value, BooleanValueNode):
                return value.value
            if isinstance(value, VariableNode):
                supplied = self.conditions.get(value.name.value)
                return supplied if isinstance(supplied, bool) else None
        return None
