"""``policy check``: load a policy strictly and point out roles that are granted nothing.

A role that is linked, tested or denied but never allowed anything is almost
always a typo (``teachr``) or a forgotten grant; it is a warning, not an error,
because a district may declare a role before granting it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.policy.catalogue import Catalogue
from hub.policy.engine import PolicyEngine
from hub.policy.files import Location
from hub.policy.suite import PolicyCase, load_cases


@dataclass(frozen=True, slots=True)
class PolicyWarning:
    """Something in a loadable policy that is probably not what was meant."""

    where: Location
    message: str

    def __str__(self) -> str:
        return f"{self.where}: warning: {self.message}"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A policy that loads, its test cases, and the warnings about it."""

    engine: PolicyEngine
    cases: tuple[PolicyCase, ...]
    warnings: tuple[PolicyWarning, ...]


def check_policy(
    model_path: Path, policy_paths: Sequence[Path], case_paths: Sequence[Path], catalogue: Catalogue
) -> CheckReport:
    """Load the policy and its cases (raising ``PolicyError`` with file:line) and collect warnings."""
    engine = PolicyEngine.from_files(model_path, policy_paths, catalogue)
    cases = load_cases(case_paths, catalogue)
    return CheckReport(engine, cases, roles_granted_nothing(engine, cases))


def roles_granted_nothing(
    engine: PolicyEngine, cases: Iterable[PolicyCase] = ()
) -> tuple[PolicyWarning, ...]:
    """A warning for each role that no allow line reaches.

    Roles are those of rules, role links, and cases that expect a readable field.
    """
    allowed_subjects = {rule.sub for rule in engine.policy.rules if rule.eft == "allow"}
    first_mention: dict[str, Location] = {}
    for link in engine.policy.role_links:
        first_mention.setdefault(link.member, link.where)
        first_mention.setdefault(link.role, link.where)
    for rule in engine.policy.rules:
        first_mention.setdefault(rule.sub, rule.where)
    # A case that only expects denials of a role granted nothing ("an unknown
    # role reads nothing") means it; one that expects something readable does not.
    for case in cases:
        if case.readable:
            for role in case.roles:
                first_mention.setdefault(role, case.where)
    return tuple(
        PolicyWarning(where, f"role {name!r} is granted nothing: no allow line names it or a role it holds")
        for name, where in first_mention.items()
        if allowed_subjects.isdisjoint(engine.inherited_roles(name))
    )
