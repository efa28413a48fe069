"""The policy engine: Casbin decisions per (role, Type.field, relation), cached.

An engine is built from one validated policy and never changes afterwards; a
reload builds a new one. That is what lets the cache live as long as the engine
and lets a request keep deciding under the policy it started with.

Casbin scans every line for each question, so each field gets its own small
enforcer holding only the lines whose ``obj`` can match it (and every role
link). And when no line for that field names the role (or a role it holds)
with that relation (or ``*``), the answer is "no line allows it" without
asking. The model is checked to be exactly the matcher and effect this
relies on, so the answers are those of asking Casbin with the whole policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import casbin

from hub.policy.catalogue import ACTIONS, RELATIONS, Catalogue
from hub.policy.files import (
    ANY_RELATION,
    ParsedPolicy,
    Rule,
    glob_match,
    is_pattern,
    read_policy_dir,
    read_policy_files,
)

_READ = ACTIONS[0]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why ``role`` may or may not read ``obj`` under ``rel``.

    ``roles`` is ``role`` followed by every role it inherits through ``g``
    lines; ``allowing`` and ``denying`` are the lines that match the request.
    """

    role: str
    obj: str
    rel: str
    allowed: bool
    roles: tuple[str, ...]
    allowing: tuple[Rule, ...]
    denying: tuple[Rule, ...]

    @property
    def reason(self) -> str:
        """One sentence: the verdict and the lines behind it."""
        if self.denying:
            return "denied by " + "; ".join(f"{rule.where} ({rule.text})" for rule in self.denying)
        if self.allowed:
            return "allowed by " + "; ".join(f"{rule.where} ({rule.text})" for rule in self.allowing)
        return "no line allows it: denied by default"

    def __str__(self) -> str:
        verdict = "ALLOW" if self.allowed else "DENY"
        inherits = f" (inherits {', '.join(self.roles[1:])})" if len(self.roles) > 1 else ""
        return f"{verdict} {self.role}{inherits} read {self.obj} as {self.rel}: {self.reason}"


class PolicyEngine:
    """Decides reads from one validated policy; immutable apart from its caches.

    ``enforce_calls`` counts the questions actually put to Casbin: each distinct
    (role, Type.field, relation) is asked at most once per engine, and not at
    all when no line for the field names the role (or a role it holds) with
    that relation or ``*``.
    """

    def __init__(self, policy: ParsedPolicy, catalogue: Catalogue) -> None:
        self.policy = policy
        self.catalogue = catalogue
        self.version = policy.version
        self.enforce_calls = 0
        self._decisions: dict[tuple[str, str, str], bool] = {}
        self._relations: dict[tuple[str, str], frozenset[str]] = {}
        self._enforcers: dict[str, Any] = {}
        self._candidates: dict[str, tuple[Rule, ...]] = {}
        self._relations_with_rules: dict[tuple[str, str], frozenset[str]] = {}
        self._role_names = frozenset(
            {rule.sub for rule in policy.rules}
            | {link.member for link in policy.role_links}
            | {link.role for link in policy.role_links}
        )

    @classmethod
    def from_dir(cls, directory: Path, catalogue: Catalogue) -> PolicyEngine:
        """Load ``directory/model.conf`` and every ``directory/*.csv`` (in name order)."""
        return cls(read_policy_dir(directory, catalogue), catalogue)

    @classmethod
    def from_files(cls, model_path: Path, policy_paths: Iterable[Path], catalogue: Catalogue) -> PolicyEngine:
        """Load a model file and policy CSV files, in the order given."""
        return cls(read_policy_files(model_path, tuple(policy_paths), catalogue), catalogue)

    @property
    def role_names(self) -> frozenset[str]:
        """Every name the policy mentions as a rule's role or in a role link."""
        return self._role_names

    def decide(self, role: str, obj: str, rel: str) -> bool:
        """Whether ``role`` may read ``obj`` (``Type.field``) of a record it relates to by ``rel``."""
        if role not in self._role_names:
            # No line and no link names it, so nothing can allow it; not caching
            # these keeps the caches bounded by the policy, not by the callers.
            return False
        key = (role, obj, rel)
        decision = self._decisions.get(key)
        if decision is None:
            decision = rel in self._relations_with_rules_for(role, obj) and self._enforce(role, obj, rel)
            self._decisions[key] = decision
        return decision

    def relations_of_role(self, role: str, obj: str) -> frozenset[str]:
        """The relations under which ``role`` alone may read ``obj``."""
        if role not in self._role_names:
            return frozenset()
        key = (role, obj)
        relations = self._relations.get(key)
        if relations is None:
            relations = frozenset(rel for rel in RELATIONS if self.decide(role, obj, rel))
            self._relations[key] = relations
        return relations

    def allowed_relations(self, roles: Iterable[str], obj: str) -> frozenset[str]:
        """The relations under which any of ``roles`` may read ``obj``.

        Each role is decided on its own (its deny lines bind only it and the
        roles holding it) and a caller with several roles gets the union.
        """
        allowed: frozenset[str] = frozenset()
        for role in roles:
            allowed |= self.relations_of_role(role, obj)
        return allowed

    def inherited_roles(self, role: str) -> tuple[str, ...]:
        """``role`` and, in breadth-first order, every role it holds through ``g`` lines."""
        order = [role]
        for name in order:
            for link in self.policy.role_links:
                if link.member == name and link.role not in order:
                    order.append(link.role)
        return tuple(order)

    def explain(self, role: str, obj: str, rel: str) -> Explanation:
        """The verdict for (role, obj, rel) and the lines that decided it.

        Each candidate line is put alone, as an allow, into a scratch enforcer:
        whether Casbin then allows says whether that line matches the request,
        by the model's own matcher.
        """
        scratch = self._new_enforcer()
        allowing: list[Rule] = []
        denying: list[Rule] = []
        for rule in self._candidate_rules(obj):
            probe = (rule.sub, rule.obj, rule.act, rule.rel, "allow")
            scratch.add_policy(*probe)
            if scratch.enforce(role, obj, _READ, rel):
                (denying if rule.eft == "deny" else allowing).append(rule)
            scratch.remove_policy(*probe)
        return Explanation(
            role=role,
            obj=obj,
            rel=rel,
            allowed=self.decide(role, obj, rel),
            roles=self.inherited_roles(role),
            allowing=tuple(allowing),
            denying=tuple(denying),
        )

    def _enforce(self, role: str, obj: str, rel: str) -> bool:
        self.enforce_calls += 1
        return bool(self._enforcer_for(obj).enforce(role, obj, _READ, rel))

    def _relations_with_rules_for(self, role: str, obj: str) -> frozenset[str]:
        """The relations named (or covered by ``*``) by lines for ``obj`` and ``role`` or a role it holds."""
        key = (role, obj)
        relations = self._relations_with_rules.get(key)
        if relations is None:
            holds = set(self.inherited_roles(role))
            named = {rule.rel for rule in self._candidate_rules(obj) if rule.sub in holds}
            relations = frozenset(RELATIONS) if ANY_RELATION in named else frozenset(named)
            self._relations_with_rules[key] = relations
        return relations

    def _candidate_rules(self, obj: str) -> tuple[Rule, ...]:
        """The lines whose field or pattern matches ``obj``, in file order."""
        candidates = self._candidates.get(obj)
        if candidates is None:
            matches = self.policy.obj_matches
            # A line without pattern characters matches only itself; that test
            # needs no glob.
            candidates = tuple(
                rule
                for rule in self.policy.rules
                if rule.obj == obj or (is_pattern(rule.obj) and matches(obj, rule.obj))
            )
            self._candidates[obj] = candidates
        return candidates

    def _enforcer_for(self, obj: str) -> Any:
        enforcer = self._enforcers.get(obj)
        if enforcer is None:
            enforcer = self._new_enforcer()
            # Identical lines from two files are one rule to Casbin.
            rules = list(dict.fromkeys(rule.values for rule in self._candidate_rules(obj)))
            if rules:
                enforcer.add_policies(rules)
            self._enforcers[obj] = enforcer
        return enforcer

    def _new_enforcer(self) -> Any:
        enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=self.policy.model_text))
        # Same function, remembered: compiling the glob dominated each decision.
        enforcer.add_function("globMatch", glob_match)
        links = list(dict.fromkeys((link.member, link.role) for link in self.policy.role_links))
        if links:
            enforcer.add_grouping_policies(links)
        return enforcer
