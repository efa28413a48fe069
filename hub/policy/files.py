"""Reading a policy folder: the model, the CSV lines with their locations, validation.

Casbin's own file adapter forgets where a line came from and accepts any
string, so a typo silently grants or withholds nothing. Lines are parsed here
instead, checked against the catalogue, and only valid ones ever reach Casbin.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import casbin
from casbin import util as casbin_util

from hub.policy.catalogue import ACTIONS, QUERY_FIELDS_CHECKED, RELATIONS, Catalogue, is_structural

MODEL_FILE = "model.conf"
TESTS_DIR = "tests"
POLICY_DIR_ENV = "HOMEROOM_POLICY_DIR"
EFFECTS = ("allow", "deny")
ANY_RELATION = "*"

# The effect that makes "deny wins, no line means deny" true; explain relies on it.
_ALLOW_AND_NO_DENY = "some(where (p_eft == allow)) && !some(where (p_eft == deny))"


@functools.lru_cache(maxsize=16384)
def glob_match(name: str, pattern: str) -> bool:
    """Casbin's ``globMatch``, remembered: it compiles the pattern on every call."""
    return bool(casbin_util.glob_match(name, pattern))


_OBJ_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "globMatch(r_obj,p_obj)": glob_match,
    "keyMatch(r_obj,p_obj)": casbin_util.key_match,
}
# The engine skips Casbin when no line can match the role, field and relation;
# that is exact only for this matcher, so no other is accepted.
_MATCHER = 'g(r.sub, p.sub) && globMatch(r.obj, p.obj) && r.act == p.act && (p.rel == "*" || r.rel == p.rel)'
_ROLE_TERM = "g(r_sub,p_sub)"
_ACT_TERM = "r_act==p_act"
_REL_TERMS = ('(p_rel=="*"||r_rel==p_rel)', '(r_rel==p_rel||p_rel=="*")')
_ACCEPTED_MATCHERS = frozenset(
    frozenset({_ROLE_TERM, obj_term, _ACT_TERM, rel_term})
    for obj_term in _OBJ_MATCHERS
    for rel_term in _REL_TERMS
)
_NAME = re.compile(r"[^\s*?\[\]{}()\"',#]+")
_OBJ_CHARS = re.compile(r"[A-Za-z0-9_.*?]+")
_PATTERN_CHARS = re.compile(r"[*?]")


@dataclass(frozen=True, slots=True)
class Location:
    """A line of a policy file (``line`` 0 means the file as a whole)."""

    path: Path
    line: int

    def __str__(self) -> str:
        shown = display_path(self.path)
        return f"{shown}:{self.line}" if self.line else shown


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """Why a policy file cannot be used, and where."""

    where: Location
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class PolicyError(Exception):
    """A policy folder that cannot be loaded; ``problems`` says every reason."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, slots=True)
class Rule:
    """A ``p`` line: ``sub`` may (``eft`` allow) or may not read ``obj`` under ``rel``."""

    sub: str
    obj: str
    act: str
    rel: str
    eft: str
    where: Location
    text: str

    @property
    def values(self) -> tuple[str, str, str, str, str]:
        """The line as Casbin sees it."""
        return (self.sub, self.obj, self.act, self.rel, self.eft)


@dataclass(frozen=True, slots=True)
class RoleLink:
    """A ``g`` line: ``member`` (user, IdP group or role) holds ``role``."""

    member: str
    role: str
    where: Location
    text: str


@dataclass(frozen=True, slots=True)
class ParsedPolicy:
    """A validated model and policy, ready for an engine.

    ``version`` is a hash of every file's name and content, so two processes
    that read the same files agree on it.
    """

    model_path: Path
    model_text: str
    obj_matches: Callable[[str, str], bool]
    rules: tuple[Rule, ...]
    role_links: tuple[RoleLink, ...]
    policy_paths: tuple[Path, ...]
    version: str


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def default_policy_dir() -> Path:
    """The policy folder to use when none is given.

    ``$HOMEROOM_POLICY_DIR`` when set (an installed hub has no checkout), else
    the ``policies/`` folder shipped at the top of the repository.
    """
    configured = os.environ.get(POLICY_DIR_ENV)
    if configured:
        return Path(configured)
    shipped = Path(__file__).resolve().parents[2] / "policies"
    if (shipped / MODEL_FILE).is_file():
        return shipped
    raise FileNotFoundError(f"no policy folder found; set {POLICY_DIR_ENV} or pass --dir")


def policy_files_in(directory: Path) -> tuple[Path, tuple[Path, ...]]:
    """The model and the policy CSV files of a folder, CSVs in name order."""
    return directory / MODEL_FILE, tuple(sorted(directory.glob("*.csv")))


def read_policy_dir(directory: Path, catalogue: Catalogue) -> ParsedPolicy:
    """Read and validate the policy folder ``directory``."""
    if not directory.is_dir():
        raise PolicyError([PolicyProblem(Location(directory, 0), "not a folder")])
    model_path, policy_paths = policy_files_in(directory)
    if not policy_paths:
        raise PolicyError([PolicyProblem(Location(directory, 0), "no *.csv policy files in this folder")])
    return read_policy_files(model_path, policy_paths, catalogue)


def read_policy_files(model_path: Path, policy_paths: Sequence[Path], catalogue: Catalogue) -> ParsedPolicy:
    """Read and validate a model file and policy CSV files; raise ``PolicyError`` listing all problems."""
    problems: list[PolicyProblem] = []
    digest = hashlib.sha256()
    model_text = _read(model_path, problems)
    digest.update(model_text.encode())
    obj_matches = _check_model(model_path, model_text, problems) if model_text else None
    rules: list[Rule] = []
    role_links: list[RoleLink] = []
    for path in policy_paths:
        text = _read(path, problems)
        digest.update(f"\0{path.name}\0".encode() + text.encode())
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = Location(path, number)
            parsed = _parse_line(line, where, catalogue, obj_matches, problems)
            if isinstance(parsed, Rule):
                rules.append(parsed)
            elif isinstance(parsed, RoleLink):
                role_links.append(parsed)
    if problems or obj_matches is None:
        raise PolicyError(problems)
    return ParsedPolicy(
        model_path=model_path,
        model_text=model_text,
        obj_matches=obj_matches,
        rules=tuple(rules),
        role_links=tuple(role_links),
        policy_paths=tuple(policy_paths),
        version=digest.hexdigest()[:12],
    )


def is_pattern(obj: str) -> bool:
    """Whether a rule's ``obj`` is a pattern (``Student.*``) rather than one field."""
    return _PATTERN_CHARS.search(obj) is not None


def _read(path: Path, problems: list[PolicyProblem]) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(PolicyProblem(Location(path, 0), f"cannot read: {exc}"))
        return ""


def _check_model(path: Path, text: str, problems: list[PolicyProblem]) -> Callable[[str, str], bool] | None:
    """Check the model has the shape the hub asks in; return its obj-matching function."""

    def problem(key: str, message: str) -> None:
        found = re.search(rf"^\s*{key}\s*=", text, flags=re.MULTILINE)
        line = text.count("\n", 0, found.start()) + 1 if found else 0
        problems.append(PolicyProblem(Location(path, line), message))

    try:
        model = casbin.Enforcer.new_model(text=text)
    except Exception as exc:  # casbin raises bare RuntimeError and friends
        problems.append(PolicyProblem(Location(path, 0), f"casbin cannot read the model: {exc}"))
        return None
    before = len(problems)
    sections = set(model.keys())  # a casbin Model has keys() but no __contains__
    expected = {
        ("r", "r"): ["r_sub", "r_obj", "r_act", "r_rel"],
        ("p", "p"): ["p_sub", "p_obj", "p_act", "p_rel", "p_eft"],
    }
    for (section, key), tokens in expected.items():
        if section not in sections or key not in model[section] or model[section][key].tokens != tokens:
            shown = ", ".join(token.split("_", 1)[1] for token in tokens)
            problem(key, f"the model must define {key} = {shown}")
    if "g" not in sections or "g" not in model["g"]:
        problem("g", "the model must define g = _, _ (roles)")
    if "e" not in sections or model["e"]["e"].value != _ALLOW_AND_NO_DENY:
        problem("e", "the effect must be e = some(where (p.eft == allow)) && !some(where (p.eft == deny))")
    matcher = model["m"]["m"].value if "m" in sections and "m" in model["m"] else ""
    terms = _required_terms(matcher)
    if terms not in _ACCEPTED_MATCHERS:
        problem("m", f"the matcher must be {_MATCHER} (keyMatch may replace globMatch)")
        return None
    obj_matches = next(_OBJ_MATCHERS[term] for term in terms if term in _OBJ_MATCHERS)
    return obj_matches if len(problems) == before else None


def _required_terms(matcher: str) -> frozenset[str]:
    """The matcher's top-level ``&&`` terms, without spaces; none if a top-level ``||`` exists.

    Term order does not matter to Casbin, so the terms are compared as a set.
    """
    terms: list[str] = []
    depth = 0
    start = 0
    compact = re.sub(r"\s+", "", matcher)
    for index, char in enumerate(compact):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and compact.startswith("||", index):
            return frozenset()
        if depth == 0 and compact.startswith("&&", index):
            terms.append(compact[start:index])
            start = index + 2
    terms.append(compact[start:])
    return frozenset(terms)


def _parse_line(
    line: str,
    where: Location,
    catalogue: Catalogue,
    obj_matches: Callable[[str, str], bool] | None,
    problems: list[PolicyProblem],
) -> Rule | RoleLink | None:
    kind, *values = (token.strip() for token in line.split(","))
    before = len(problems)

    def problem(message: str) -> None:
        problems.append(PolicyProblem(where, message))

    if kind == "p":
        if len(values) != 5:
            problem(f"a rule is p, role, Type.field, action, relation, effect; found {len(values)} values")
            return None
        sub, obj, act, rel, eft = values
        _check_name(sub, "role", problem)
        message = _obj_problem(obj, catalogue, obj_matches or glob_match)
        if message:
            problem(message)
        if act not in ACTIONS:
            problem(f"unknown action {act!r}; known: {', '.join(ACTIONS)}")
        if rel != ANY_RELATION and rel not in RELATIONS:
            hint = _did_you_mean(rel, RELATIONS)
            problem(f"unknown relation {rel!r}{hint}; known: {', '.join(RELATIONS)}, or * for any")
        if eft not in EFFECTS:
            problem(f"unknown effect {eft!r}; use allow or deny")
        return Rule(sub, obj, act, rel, eft, where, line) if len(problems) == before else None
    if kind == "g":
        if len(values) != 2:
            problem(f"a role link is g, member, role; found {len(values)} values")
            return None
        member, role = values
        _check_name(member, "member", problem)
        _check_name(role, "role", problem)
        if member == role and member:
            problem(f"{member!r} cannot hold itself")
        return RoleLink(member, role, where, line) if len(problems) == before else None
    problem(f"unknown line type {kind!r}: a line starts with p (a rule) or g (a role link)")
    return None


def _check_name(name: str, what: str, problem: Callable[[str], None]) -> None:
    if not name:
        problem(f"the {what} is empty")
    elif not _NAME.fullmatch(name):
        problem(f"{what} {name!r} may not contain spaces, quotes or pattern characters")


def _obj_problem(obj: str, catalogue: Catalogue, obj_matches: Callable[[str, str], bool]) -> str | None:
    """What is wrong with a rule's ``Type.field`` (or pattern), if anything."""
    if not obj:
        return "the field is empty"
    if not _OBJ_CHARS.fullmatch(obj):
        return f"field {obj!r}: only letters, digits, '_', '.', and the patterns * and ? are allowed"
    type_name, _, field = obj.partition(".")
    if not is_pattern(type_name) and type_name not in catalogue:
        if is_structural(type_name):
            return f"type {type_name!r} is never policy-checked (it only shapes responses)"
        return f"unknown type {type_name!r}{_did_you_mean(type_name, catalogue)}"
    if is_pattern(obj):
        if obj_matches is casbin_util.key_match and ("?" in obj or "*" in obj[:-1]):
            # keyMatch reads everything after the first * as "anything": *.id would be *
            return f"pattern {obj!r}: with keyMatch, a pattern may only end in *"
        if not any(obj_matches(entry, obj) for entry in _entries(catalogue)):
            return f"pattern {obj!r} matches no policy-checked field"
        return None
    if not field:
        return f"{obj!r} is not Type.field"
    if field not in catalogue[type_name]:
        if type_name == "Query":
            checked = " and ".join(f"Query.{name}" for name in sorted(QUERY_FIELDS_CHECKED))
            return f"Query.{field} is not policy-checked; of Query only {checked} are"
        return f"unknown field {field!r} of {type_name}{_did_you_mean(field, catalogue[type_name])}"
    return None


def _entries(catalogue: Catalogue) -> Iterable[str]:
    return (f"{type_name}.{field}" for type_name, fields in catalogue.items() for field in fields)


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
