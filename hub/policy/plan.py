"""The access plan: what one caller may read of what one operation selects.

Built once per request, before any resolver runs. Everything a resolver needs
per row is then a dictionary look-up: which relations the caller holds to the
row is the federation layer's business, which fields those relations open is
already decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hub.policy.catalogue import Catalogue
from hub.policy.engine import PolicyEngine

FieldRelations = Mapping[str, frozenset[str]]
"""Field name -> relations under which the caller may read it."""


@dataclass(frozen=True)
class AccessPlan:
    """Per checked type, the relations that open each selected field.

    - ``relations_by_type``: type -> field -> allowed relations (selected,
      policy-checked fields only).
    - ``forbidden``: sorted ``Type.field`` the caller may read under no
      relation at all; a non-empty list means the operation must be refused.
    - ``version``: the policy version that decided; audit it with the response.
    """

    version: str
    roles: frozenset[str]
    relations_by_type: Mapping[str, FieldRelations]
    forbidden: tuple[str, ...]
    _relations_worth_computing: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _fields_by_relations: dict[tuple[str, frozenset[str]], frozenset[str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        worth = {
            type_name: frozenset().union(*fields.values())
            for type_name, fields in self.relations_by_type.items()
        }
        # Frozen for callers; this derived table is filled once, here.
        object.__setattr__(self, "_relations_worth_computing", worth)

    @property
    def allowed(self) -> bool:
        """Whether the operation may run at all (nothing selected is forbidden)."""
        return not self.forbidden

    def allowed_fields(self, type_name: str, relations: frozenset[str]) -> frozenset[str]:
        """The selected fields of ``type_name`` a row related to the caller by ``relations`` shows.

        Memoised per (type, relations): rows repeat a handful of relation sets,
        so after the first row of each kind this is one look-up.
        """
        key = (type_name, relations)
        fields = self._fields_by_relations.get(key)
        if fields is None:
            fields = frozenset(
                name
                for name, allowed in self.relations_by_type.get(type_name, {}).items()
                if not allowed.isdisjoint(relations)
            )
            self._fields_by_relations[key] = fields
        return fields

    def relations_for(self, type_name: str) -> frozenset[str]:
        """The relations that open at least one selected field of ``type_name``.

        Relations outside this set change nothing the caller sees, so the
        federation layer need not work them out.
        """
        return self._relations_worth_computing.get(type_name, frozenset())


def build_plan(
    engine: PolicyEngine,
    roles: Iterable[str],
    selected: Mapping[str, Iterable[str]],
    catalogue: Catalogue | None = None,
) -> AccessPlan:
    """Decide every selected, policy-checked field for a caller holding ``roles``.

    ``selected`` is what :func:`collect_fields` returns; types and fields not in
    the catalogue (``catalogue`` defaults to the engine's) are structural and
    skipped. Casbin is asked only for (role, field, relation) triples this
    engine has not decided before.
    """
    checked = engine.catalogue if catalogue is None else catalogue
    caller_roles = frozenset(roles)
    relations_by_type: dict[str, dict[str, frozenset[str]]] = {}
    forbidden: list[str] = []
    for type_name, fields in selected.items():
        checked_fields = checked.get(type_name)
        if checked_fields is None:
            continue
        decided = {
            name: engine.allowed_relations(caller_roles, f"{type_name}.{name}")
            for name in sorted(set(fields) & checked_fields)
        }
        if not decided:
            continue
        relations_by_type[type_name] = decided
        forbidden.extend(f"{type_name}.{name}" for name, allowed in decided.items() if not allowed)
    return AccessPlan(
        version=engine.version,
        roles=caller_roles,
        relations_by_type=relations_by_type,
        forbidden=tuple(sorted(forbidden)),
    )
