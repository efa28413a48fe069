"""The vocabulary policy lines are written in: relations, actions, and checked fields.

Policy decides ``Type.field`` for the types that carry data. Types that only
shape a response (the query root, ``Viewer``, connections and edges, page
info, provenance) are never checked: asking about them would say nothing
about a student and would make every policy spell out plumbing.
"""

from __future__ import annotations

from typing import TypeAlias

from graphql import GraphQLObjectType, GraphQLSchema

Catalogue: TypeAlias = dict[str, frozenset[str]]
"""Policy-checked type name -> its field names."""

RELATIONS: tuple[str, ...] = ("self", "guardian", "teacher", "school", "district", "directory")
"""How a caller can relate to a record, most personal first."""

ACTIONS: tuple[str, ...] = ("read",)
"""What a policy line may grant; writes come later."""

QUERY_FIELDS_CHECKED: frozenset[str] = frozenset({"sources", "accessLog"})
"""Root fields that are data themselves rather than entry points to records."""

STRUCTURAL_TYPES: frozenset[str] = frozenset({"Viewer", "PageInfo", "SourceRef"})
"""Object types (besides connections, edges and the query root) never checked."""


def is_structural(type_name: str) -> bool:
    """Whether ``type_name`` only shapes a response and is never policy-checked."""
    return (
        type_name in STRUCTURAL_TYPES
        or type_name.endswith(("Connection", "Edge"))
        or type_name.startswith("__")
    )


def catalogue_from_schema(schema: GraphQLSchema) -> Catalogue:
    """Every policy-checked ``Type -> fields`` of ``schema``.

    Interfaces and unions are absent on purpose: a selection on ``Person`` is
    checked as the concrete ``Student``, ``Teacher`` and ``Guardian`` fields.
    Of the query root only ``QUERY_FIELDS_CHECKED`` are kept; the subscription
    root is structural (each event is a record whose fields are checked).
    """
    query_root = schema.query_type.name if schema.query_type is not None else "Query"
    subscription_root = schema.subscription_type.name if schema.subscription_type is not None else None
    catalogue: Catalogue = {}
    for name, graphql_type in schema.type_map.items():
        if (
            not isinstance(graphql_type, GraphQLObjectType)
            or is_structural(name)
            or name == subscription_root
        ):
            continue
        fields = frozenset(graphql_type.fields)
        if name == query_root:
            fields &= QUERY_FIELDS_CHECKED
            if not fields:
                continue
        catalogue[name] = fields
    return dict(sorted(catalogue.items()))


def catalogue_entries(catalogue: Catalogue) -> tuple[str, ...]:
    """Every ``Type.field`` of ``catalogue``, sorted."""
    return tuple(
        sorted(f"{type_name}.{field}" for type_name, fields in catalogue.items() for field in fields)
    )
