"""The relation rules, in one table: how the caller is related to a row of
each entity, for each relation the policy speaks of.

A relation holds for a row when any of its tests holds. A test compares one
attribute of the row (``vendor_id``: the row's own key) with one *fact* about
the caller, a set of ``(source, vendor id)`` keys worked out once per request
by :class:`~hub.federation.relations.Relationships` (``taught_sections``,
``children``, ...; ``self`` is the caller's own key). The same table says
which attributes decide each relation (they are read first, see
:class:`~hub.federation.scope.Scope`) and is what a read model can turn into
SQL: every test is ``attribute IN (fact)``, or, for a tuple attribute, "any
item in". ``district`` holds for every row when the caller is district
staff; ``directory`` for every row of the entities in :data:`DIRECTORY` (for
students: unless they opted out of directory information).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from hub.federation.identity import IdentityMap
from hub.federation.relations import Key, Relationships
from hub.model import Entity, Record

__all__ = [
    "DIRECTORY",
    "LINK_TARGET",
    "PERSON_OF",
    "RELATION_RULES",
    "STUDENT_OF",
    "RelationTest",
    "RowRelations",
    "deciding_attributes",
    "narrowing",
    "row_relations",
]

RowRelations = Callable[[Record], frozenset[str]]
OWN = "vendor_id"


@dataclass(frozen=True, slots=True)
class RelationTest:
    """``row.attribute`` (any item, for a tuple) is one of the caller's ``fact``.

    ``otherwise``: the test to use instead on a row where ``attribute`` is
    empty (attendance marked for a whole school day has no section).
    """

    fact: str
    attribute: str = OWN
    otherwise: RelationTest | None = None

    def attributes(self) -> tuple[str, ...]:
        """The row attributes this test reads (not the row's own key)."""
        own = () if self.attribute == OWN else (self.attribute,)
        return own + (self.otherwise.attributes() if self.otherwise else ())


def _t(fact: str, attribute: str = OWN, otherwise: RelationTest | None = None) -> RelationTest:
    return RelationTest(fact, attribute, otherwise)


_PERSON_BOUND = {
    "self": (_t("self", "student_id"),),
    "guardian": (_t("children", "student_id"),),
    "teacher": (_t("taught_sections", "section_id"),),
    "school": (_t("school_students", "student_id"),),
}
_SECTION_BOUND = {
    "self": (_t("own_sections", "section_id"),),
    "guardian": (_t("child_sections", "section_id"),),
    "teacher": (_t("taught_sections", "section_id"),),
    "school": (_t("school_sections", "section_id"),),
}

RELATION_RULES: Mapping[Entity, Mapping[str, tuple[RelationTest, ...]]] = {
    Entity.STUDENT: {
        "self": (_t("self"),),
        "guardian": (_t("children"),),
        "teacher": (_t("taught_students"),),
        "school": (_t("staff_schools", "school_id"), _t("staff_schools", "school_ids")),
    },
    Entity.SCORE: _PERSON_BOUND,
    Entity.COURSE_GRADE: _PERSON_BOUND,
    Entity.ATTENDANCE_EVENT: {
        **_PERSON_BOUND,
        "teacher": (_t("taught_sections", "section_id", otherwise=_t("taught_students", "student_id")),),
        "school": (_t("staff_schools", "school_id"),),
    },
    Entity.ENROLLMENT: {
        "self": (_t("self", "person_id"), _t("own_sections", "section_id")),
        "guardian": (_t("children", "person_id"),),
        "teacher": (_t("taught_sections", "section_id"),),
        "school": (_t("staff_schools", "school_id"),),
    },
    Entity.SECTION: {
        "self": (_t("own_sections"),),
        "guardian": (_t("child_sections"),),
        "teacher": (_t("taught_sections"),),
        "school": (_t("staff_schools", "school_id"),),
    },
    Entity.ASSIGNMENT: _SECTION_BOUND,
    Entity.TEACHER: {
        "self": (_t("self"), _t("my_teachers")),
        "guardian": (_t("child_teachers"),),
        "school": (_t("staff_schools", "school_ids"),),
    },
    Entity.GUARDIAN: {
        "self": (_t("self"), _t("own_guardians")),
        "teacher": (_t("taught_guardians"),),
        "school": (_t("school_guardians"),),
    },
    Entity.ORGANIZATION: {"school": (_t("staff_schools"),)},
    Entity.COURSE: {"school": (_t("staff_schools", "org_id"),)},
}
"""Entity -> relation -> tests (any holds)."""

DIRECTORY: frozenset[Entity] = frozenset(
    {
        Entity.STUDENT,  # unless the student opted out
        Entity.SECTION,
        Entity.ASSIGNMENT,
        Entity.TEACHER,
        Entity.ORGANIZATION,
        Entity.COURSE,
        Entity.ACADEMIC_SESSION,
    }
)
"""Entities whose every row the ``directory`` relation reaches."""

LINK_TARGET: Mapping[str, Entity] = {
    "student_id": Entity.STUDENT,
    "person_id": Entity.STUDENT,
    "section_id": Entity.SECTION,
    "school_id": Entity.ORGANIZATION,
    "school_ids": Entity.ORGANIZATION,
    "org_id": Entity.ORGANIZATION,
}
"""The entity a link attribute points at: merged records are compared by
their primary key, whichever source a row came from."""

PERSON_OF: Mapping[Entity, tuple[str, ...]] = {
    Entity.SCORE: ("student_id",),
    Entity.COURSE_GRADE: ("student_id",),
    Entity.ATTENDANCE_EVENT: ("student_id",),
    Entity.ENROLLMENT: ("person_id", "role"),
}
"""Attributes naming the person a person-bound row is about (always read, so
the audit can name whose data left; cleared where the caller may not read them)."""

STUDENT_OF: Mapping[Entity, str] = {
    Entity.SCORE: "student_id",
    Entity.COURSE_GRADE: "student_id",
    Entity.ATTENDANCE_EVENT: "student_id",
}
"""The student a student-bound row belongs to."""


def deciding_attributes(entity: Entity, relations: frozenset[str]) -> frozenset[str]:
    """The row attributes the tests of ``relations`` read on ``entity`` rows."""
    rules = RELATION_RULES.get(entity, {})
    return frozenset(
        attribute
        for relation in relations
        for test in rules.get(relation, ())
        for attribute in test.attributes()
    )


Test = Callable[[Record], bool]


async def row_relations(
    entity: Entity, needed: frozenset[str], rel: Relationships
) -> tuple[RowRelations, frozenset[str] | None]:
    """A function giving the caller's relations (among ``needed``) to one
    ``entity`` row, from :data:`RELATION_RULES`.

    Also returns the constant relation set when it is the same for every row
    (then the caller can skip per-row work). Only the facts the needed
    relations use are worked out; a test whose fact is empty is left out.
    """
    always: set[str] = set()
    checks: list[tuple[str, Test]] = []
    if "district" in needed and rel.district:
        always.add("district")
    facts = _Facts(rel)
    for relation, tests in RELATION_RULES.get(entity, {}).items():
        if relation not in needed:
            continue
        compiled = [t for t in [await _compile(entity, test, facts, rel.identity) for test in tests] if t]
        if compiled:
            checks.append((relation, compiled[0] if len(compiled) == 1 else _any(compiled)))
    if "directory" in needed and entity in DIRECTORY:
        if entity is Entity.STUDENT:
            opted_out = rel.opted_out_seen
            checks.append(("directory", lambda row: (row.source, row.vendor_id) not in opted_out))
        else:
            always.add("directory")

    constant = frozenset(always)
    if not checks:
        return (lambda row: constant), constant
    interned: dict[frozenset[str], frozenset[str]] = {}

    def relations(row: Record) -> frozenset[str]:
        found = set(constant)
        for name, test in checks:
            if test(row):
                found.add(name)
        key = frozenset(found)
        return interned.setdefault(key, key)

    return relations, None


async def narrowing(
    entity: Entity, needed: frozenset[str], rel: Relationships, source: str
) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """The rules as a ``FetchRequest.visible_if`` for rows of ``source``: the
    ``(attribute, vendor ids)`` pairs of which a row the caller can be related
    to by a ``needed`` relation matches at least one (a superset of what the
    caller may see: the hub still decides every row). ``None`` when every row
    may be visible, or when the caller's facts name records of other sources
    (merged identities: the pairs would not be in this source's ids).
    """
    if ("district" in needed and rel.district) or (
        "directory" in needed and entity in DIRECTORY and entity is not Entity.STUDENT
    ):
        return None
    facts = _Facts(rel)
    pairs: dict[str, set[str]] = {}
    for relation, tests in RELATION_RULES.get(entity, {}).items():
        if relation not in needed:
            continue
        for test in _with_fallbacks(tests):
            keys = await facts.get(test.fact)
            if any(key_source != source for key_source, _ in keys):
                return None
            pairs.setdefault(test.attribute, set()).update(value for _, value in keys)
    if "directory" in needed and entity is Entity.STUDENT:
        # Only a known "no" makes a student listable (as ``Relationships.opted_out``).
        pairs.setdefault("directory_opt_out", set()).add("false")
    return tuple((attribute, tuple(sorted(values))) for attribute, values in sorted(pairs.items()))


def _with_fallbacks(tests: tuple[RelationTest, ...]) -> list[RelationTest]:
    out: list[RelationTest] = []
    for test in tests:
        current: RelationTest | None = test
        while current is not None:
            out.append(current)
            current = current.otherwise
    return out


class _Facts:
    """The caller's facts by name (``self`` is the caller's own key)."""

    def __init__(self, rel: Relationships) -> None:
        self.rel = rel

    async def get(self, name: str) -> frozenset[Key]:
        if name == "self":
            return frozenset({self.rel.self_key}) if self.rel.self_key else frozenset()
        fact: Callable[[], Awaitable[frozenset[Key]]] = getattr(self.rel, name).get
        return await fact()


async def _compile(entity: Entity, test: RelationTest, facts: _Facts, identity: IdentityMap) -> Test | None:
    """``test`` as a membership test over the fact's keys; ``None`` when the fact is empty."""
    keys = await facts.get(test.fact)
    if not keys:
        return None
    fallback = await _compile(entity, test.otherwise, facts, identity) if test.otherwise else None
    attribute = test.attribute
    canonical = identity.canonical if identity.merges else None
    target = entity if attribute == OWN else LINK_TARGET[attribute]

    def key_of(source: str, value: str) -> Key:
        return (source, value) if canonical is None else canonical(target, source, value)

    def holds(row: Record) -> bool:
        value = row.vendor_id if attribute == OWN else getattr(row, attribute, None)
        if not value:
            return fallback(row) if fallback is not None else False
        if isinstance(value, tuple):
            return any(key_of(row.source, item) in keys for item in value)
        return key_of(row.source, value) in keys

    return holds


def _any(tests: list[Test]) -> Test:
    def holds(row: Record) -> bool:
        return any(test(row) for test in tests)

    return holds
