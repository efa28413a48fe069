"""Which attributes a mirror keeps: what some grant can read, and what the hub needs to decide.

- every record attribute behind a field that at least one grant of the
  policy can read, under any relation (the union over roles and relations,
  mapped with :func:`hub.model.catalogue.attributes_for_fields`);
- the attributes relation tests and structural reads use, whether or not a
  grant reads them: links (``*_id``, ``*_ids``), ``role``, ``begin_date``,
  ``end_date``, ``start_date`` and ``type`` (which rows are current, who is
  a teacher, which organisations are schools);
- ``directory_opt_out`` of students when some grant reads a student field
  under the ``directory`` relation: the hub asks it as a filter to decide
  that relation (never as a field). Without such a grant it is not kept;
- whatever the caller of :func:`stored_attributes` adds (``extra``): the
  identity-match keys of ``[identity]`` and the e-mail sign-in binds by.

Nothing else is ever fetched into the mirror nor stored.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.model import RECORD_TYPES, Entity, data_fields
from hub.model.catalogue import attributes_for_fields
from hub.policy import PolicyEngine

__all__ = ["STRUCTURAL_ATTRIBUTES", "granted_fields", "stored_attributes"]

STRUCTURAL_ATTRIBUTES = frozenset({"role", "begin_date", "end_date", "start_date", "type"})
"""Non-link attributes the hub reads to decide relations and currency."""

_DIRECTORY = "directory"


def granted_fields(engine: PolicyEngine, type_name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(fields of ``type_name`` some role may read under some relation, the relations used)."""
    readable: set[str] = set()
    relations: set[str] = set()
    for field_name in engine.catalogue.get(type_name, frozenset()):
        obj = f"{type_name}.{field_name}"
        for role in engine.role_names:
            allowed = engine.relations_of_role(role, obj)
            if allowed:
                readable.add(field_name)
                relations |= allowed
    return frozenset(readable), frozenset(relations)


def stored_attributes(engine: PolicyEngine, entity: Entity, extra: Iterable[str] = ()) -> frozenset[str]:
    """The attributes of ``entity`` a mirror keeps under the policy of ``engine``."""
    names = frozenset(data_fields(RECORD_TYPES[entity]))
    readable, relations = granted_fields(engine, entity.value)
    out = set(attributes_for_fields(entity.value, readable))
    out |= {name for name in names if name.endswith(("_id", "_ids"))}
    out |= STRUCTURAL_ATTRIBUTES
    if entity is Entity.STUDENT and _DIRECTORY in relations:
        out.add("directory_opt_out")
    out |= set(extra)
    return frozenset(out & names)
