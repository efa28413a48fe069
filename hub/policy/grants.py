"""What a policy grants, as (role, Type.field, relation) rows: the matrix and the diff.

Both views are computed by asking the engine, never by reading lines: the
answer includes inheritance, patterns and denies exactly as requests see them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from hub.policy.catalogue import RELATIONS, catalogue_entries
from hub.policy.engine import PolicyEngine

GrantTable = Mapping[str, Mapping[str, frozenset[str]]]
"""Type.field -> role -> relations under which the role may read it."""


class Grant(NamedTuple):
    """One thing a role may read: ``field`` (``Type.field``) under ``relation``."""

    role: str
    field: str
    relation: str


@dataclass(frozen=True, slots=True)
class GrantDiff:
    """What a policy change grants and withdraws, each sorted by role, field, relation."""

    granted: tuple[Grant, ...]
    withdrawn: tuple[Grant, ...]

    @property
    def empty(self) -> bool:
        """Whether the change alters no decision."""
        return not self.granted and not self.withdrawn


def grant_table(engine: PolicyEngine, roles: Iterable[str] | None = None) -> GrantTable:
    """Every catalogue field against ``roles`` (default: every name the policy mentions)."""
    names = sorted(engine.role_names if roles is None else set(roles))
    return {
        entry: {role: engine.relations_of_role(role, entry) for role in names}
        for entry in catalogue_entries(engine.catalogue)
    }


def grants(engine: PolicyEngine, roles: Iterable[str] | None = None) -> frozenset[Grant]:
    """Every (role, Type.field, relation) ``engine`` allows to ``roles``."""
    return frozenset(
        Grant(role, entry, rel)
        for entry, by_role in grant_table(engine, roles).items()
        for role, relations in by_role.items()
        for rel in relations
    )


def diff_grants(old: PolicyEngine, new: PolicyEngine) -> GrantDiff:
    """What moving from ``old`` to ``new`` grants and withdraws, over both policies' roles."""
    roles = old.role_names | new.role_names
    before, after = grants(old, roles), grants(new, roles)
    return GrantDiff(
        granted=tuple(sorted(after - before, key=_grant_order)),
        withdrawn=tuple(sorted(before - after, key=_grant_order)),
    )


def render_matrix(table: GrantTable, fmt: str = "markdown") -> str:
    """The grant table as a markdown table or CSV: a row per field, a column per role."""
    roles = sorted({role for by_role in table.values() for role in by_role})
    rows = [[entry, *(_cell(table[entry].get(role, frozenset())) for role in roles)] for entry in table]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["field", *roles])
        writer.writerows(rows)
        return out.getvalue()
    if fmt != "markdown":
        raise ValueError(f"unknown format {fmt!r}; use markdown or csv")
    lines = ["| field | " + " | ".join(roles) + " |", "|---" * (len(roles) + 1) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def render_diff(diff: GrantDiff) -> str:
    """The diff as ``+``/``-`` rows of role, field, relation (``+`` granted, ``-`` withdrawn)."""
    if diff.empty:
        return "no change: every role reads exactly what it read before\n"
    rows = [("+", grant) for grant in diff.granted] + [("-", grant) for grant in diff.withdrawn]
    role_width = max(len(grant.role) for _, grant in rows)
    field_width = max(len(grant.field) for _, grant in rows)
    lines = [
        f"{sign} {grant.role:<{role_width}}  {grant.field:<{field_width}}  {grant.relation}"
        for sign, grant in rows
    ]
    lines.append(f"{len(diff.granted)} granted, {len(diff.withdrawn)} withdrawn")
    return "\n".join(lines) + "\n"


def _cell(relations: frozenset[str]) -> str:
    return " ".join(rel for rel in RELATIONS if rel in relations) or "-"


def _grant_order(grant: Grant) -> tuple[str, str, int]:
    return (grant.role, grant.field, RELATIONS.index(grant.relation))
