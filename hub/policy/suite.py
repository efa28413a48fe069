"""Policy tests: YAML cases that say what a role may and may not read.

A case file (``policies/tests/*.yaml``) is a list of cases::

    - name: teacher reads names of taught students
      as: teacher              # a role, or a list of roles held together
      rel: teacher             # a relation, or a list: each must hold
      readable: [Student.givenName, Score.*]
      denied: [Student.birthDate]

``Type.field`` entries may be patterns (``Student.*`` is every field of
Student). A case passes when every ``readable`` field is readable and every
``denied`` field is not, under each listed relation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from hub.policy.catalogue import RELATIONS, Catalogue, catalogue_entries
from hub.policy.engine import PolicyEngine
from hub.policy.files import TESTS_DIR, Location, PolicyError, PolicyProblem

_KEYS = frozenset({"name", "as", "rel", "readable", "denied"})


@dataclass(frozen=True, slots=True)
class PolicyCase:
    """One expectation about what ``roles`` may read under ``relations``."""

    name: str
    roles: tuple[str, ...]
    relations: tuple[str, ...]
    readable: tuple[str, ...]
    denied: tuple[str, ...]
    where: Location


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case and, when it failed, one sentence per unmet expectation."""

    case: PolicyCase
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether every expectation of the case held."""
        return not self.failures


@dataclass(frozen=True, slots=True)
class SuiteReport:
    """The results of a run, in case order."""

    results: tuple[CaseResult, ...]

    @property
    def passed(self) -> bool:
        """Whether every case passed."""
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        """The cases that failed."""
        return tuple(result for result in self.results if not result.passed)

    def table(self) -> str:
        """A pass/fail table with the reasons under each failed case, and a summary line."""
        rows = [
            (("PASS" if result.passed else "FAIL"), result.case.name, str(result.case.where))
            for result in self.results
        ]
        name_width = max((len(name) for _, name, _ in rows), default=4)
        lines = [f"{'':4}  {'case':<{name_width}}  where"]
        for result, (verdict, name, where) in zip(self.results, rows, strict=True):
            lines.append(f"{verdict}  {name:<{name_width}}  {where}")
            lines.extend(f"      - {failure}" for failure in result.failures)
        passed = sum(result.passed for result in self.results)
        lines.append(f"{passed} passed, {len(self.results) - passed} failed")
        return "\n".join(lines)


def case_files_in(directory: Path) -> tuple[Path, ...]:
    """The case files of a policy folder (``tests/*.yaml``), in name order."""
    tests = directory / TESTS_DIR
    return tuple(sorted([*tests.glob("*.yaml"), *tests.glob("*.yml")]))


def load_cases(paths: Iterable[Path], catalogue: Catalogue) -> tuple[PolicyCase, ...]:
    """Read case files; raise ``PolicyError`` listing every malformed case with file:line."""
    entries = catalogue_entries(catalogue)
    cases: list[PolicyCase] = []
    problems: list[PolicyProblem] = []
    for path in paths:
        for where, raw in _raw_cases(path, problems):
            case = _case(raw, where, entries, problems)
            if case is not None:
                cases.append(case)
    if problems:
        raise PolicyError(problems)
    return tuple(cases)


def run_cases(engine: PolicyEngine, cases: Sequence[PolicyCase]) -> SuiteReport:
    """Check every case against ``engine``."""
    return SuiteReport(tuple(_run(engine, case) for case in cases))


def run_suite(engine: PolicyEngine, directory: Path) -> SuiteReport:
    """Load the cases of the policy folder ``directory`` and run them against ``engine``."""
    return run_cases(engine, load_cases(case_files_in(directory), engine.catalogue))


def _run(engine: PolicyEngine, case: PolicyCase) -> CaseResult:
    failures: list[str] = []
    for rel in case.relations:
        for obj in case.readable:
            if rel not in engine.allowed_relations(case.roles, obj):
                failures.append(
                    f"{obj} should be readable as {rel}, but {_why(engine, case.roles, obj, rel)}"
                )
        for obj in case.denied:
            if rel in engine.allowed_relations(case.roles, obj):
                failures.append(f"{obj} should be denied as {rel}, but {_why(engine, case.roles, obj, rel)}")
    return CaseResult(case, tuple(failures))


def _readable(engine: PolicyEngine, roles: Sequence[str], obj: str, rel: str) -> bool:
    # The same answer as ``rel in engine.allowed_relations(roles, obj)``, asking
    # only about the relation the case is about.
    return any(engine.decide(role, obj, rel) for role in roles)


def _why(engine: PolicyEngine, roles: Sequence[str], obj: str, rel: str) -> str:
    reasons = []
    for role in roles:
        explanation = engine.explain(role, obj, rel)
        reasons.append(f"{role}: {explanation.reason}")
    return "; ".join(reasons)


def _raw_cases(path: Path, problems: list[PolicyProblem]) -> list[tuple[Location, Any]]:
    """Each case mapping of a file with the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(PolicyProblem(Location(path, 0), f"cannot read: {exc}"))
        return []
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        if not isinstance(root, yaml.SequenceNode):
            line = root.start_mark.line + 1
            problems.append(PolicyProblem(Location(path, line), "a case file is a list of cases"))
            return []
        return [
            (Location(path, node.start_mark.line + 1), loader.construct_object(node, deep=True))
            for node in root.value
        ]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problems.append(
            PolicyProblem(Location(path, line), f"not valid YAML: {getattr(exc, 'problem', exc)}")
        )
        return []
    finally:
        loader.dispose()


def _case(
    raw: Any, where: Location, entries: Sequence[str], problems: list[PolicyProblem]
) -> PolicyCase | None:
    before = len(problems)

    def problem(message: str) -> None:
        problems.append(PolicyProblem(where, message))

    if not isinstance(raw, dict):
        problem("a case is a mapping with name, as, rel, readable and/or denied")
        return None
    unknown = sorted(str(key) for key in raw if key not in _KEYS)
    if unknown:
        problem(f"unknown keys {', '.join(unknown)}; a case has {', '.join(sorted(_KEYS))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problem("the case needs a name")
    roles = _strings(raw.get("as"), "as", problem)
    relations = _strings(raw.get("rel"), "rel", problem)
    for rel in relations:
        if rel not in RELATIONS:
            problem(f"unknown relation {rel!r}; known: {', '.join(RELATIONS)}")
    readable = _fields(raw.get("readable", []), "readable", entries, problem)
    denied = _fields(raw.get("denied", []), "denied", entries, problem)
    if not readable and not denied:
        problem("the case expects nothing: give readable and/or denied fields")
    if len(problems) != before:
        return None
    return PolicyCase(str(name), roles, relations, readable, denied, where)


def _strings(value: Any, key: str, problem: Callable[[str], None]) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) and item for item in items):
        problem(f"{key!r} must be a name or a list of names")
        return ()
    return tuple(items)


def _fields(value: Any, key: str, entries: Sequence[str], problem: Callable[[str], None]) -> tuple[str, ...]:
    """Expand the case's fields and patterns to catalogue entries, keeping their order."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problem(f"{key!r} must be a list of Type.field")
        return ()
    expanded: dict[str, None] = {}
    for item in value:
        matched = [entry for entry in entries if fnmatchcase(entry, item)]
        if not matched:
            problem(f"{key}: {item!r} is no policy-checked field")
        expanded.update(dict.fromkeys(matched))
    return tuple(expanded)
