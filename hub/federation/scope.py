"""Per-request row admission: which fetched rows the caller may see, and
which of their fields are withheld.

The policy gate decides per query (an access plan: for each Type.field, the
relations under which it is readable). Here that decision is applied to rows
with precomputed sets: per row, compute the caller's relations to it (set
membership), look up the allowed fields for that relation set (memoised), and
either keep the row as it is, mask it, or drop it. No Casbin call, no logging,
and no dict copy per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol

from graphql import GraphQLError

from hub.federation.identity import IdentityMap
from hub.federation.relations import Key, Relationships
from hub.model import ENTITY_OF, Entity, Record
from hub.model.catalogue import attributes_for, attributes_for_fields

RowRelations = Callable[[Record], frozenset[str]]


class AccessPlanLike(Protocol):
    """What the scope needs of the policy gate's access plan."""

    def allowed_fields(self, type_name: str, relations: frozenset[str]) -> frozenset[str]: ...

    def relations_for(self, type_name: str) -> frozenset[str]: ...


FORBIDDEN_FIELD = "FORBIDDEN_FIELD"

# Attributes a relation test reads, per entity. They are fetched to decide,
# and cleared again on rows where the caller may not read them.
_DECIDING_ATTRS: dict[Entity, dict[str, tuple[str, ...]]] = {
    Entity.STUDENT: {"school": ("school_id", "school_ids")},
    Entity.SCORE: {
        "self": ("student_id",),
        "guardian": ("student_id",),
        "teacher": ("section_id",),
        "school": ("student_id",),
    },
    Entity.COURSE_GRADE: {
        "self": ("student_id",),
        "guardian": ("student_id",),
        "teacher": ("section_id",),
        "school": ("student_id",),
    },
    Entity.ATTENDANCE_EVENT: {
        "self": ("student_id",),
        "guardian": ("student_id",),
        "teacher": ("section_id", "student_id"),
        "school": ("school_id",),
    },
    Entity.ENROLLMENT: {
        "self": ("person_id", "section_id"),
        "guardian": ("person_id", "section_id"),
        "teacher": ("section_id",),
        "school": ("school_id",),
    },
    Entity.SECTION: {"school": ("school_id",)},
    Entity.ASSIGNMENT: {
        "self": ("section_id",),
        "guardian": ("section_id",),
        "teacher": ("section_id",),
        "school": ("section_id",),
    },
    Entity.TEACHER: {"school": ("school_ids",)},
    Entity.COURSE: {"school": ("org_id",)},
}


# The student each student-bound row belongs to: always read, so the audit can
# name whose data left (it is cleared again where the caller may not read it).
_STUDENT_OF: dict[Entity, str] = {
    Entity.SCORE: "student_id",
    Entity.COURSE_GRADE: "student_id",
    Entity.ATTENDANCE_EVENT: "student_id",
}


def withheld_error() -> GraphQLError:
    """The error for one withheld cell; never carries the value."""
    return GraphQLError("field withheld by policy for this record", extensions={"code": FORBIDDEN_FIELD})


def _withheld_property(attribute: str) -> property:
    def getter(self: Any) -> Any:
        raise withheld_error()

    getter.__name__ = attribute
    return property(getter)


_MASKED_CLASSES: dict[tuple[type[Record], frozenset[str], str], type[Record]] = {}


def masked_class(record_type: type[Record], type_name: str, denied: frozenset[str]) -> type[Record]:
    """A subclass of ``record_type`` whose ``denied`` GraphQL fields raise
    FORBIDDEN_FIELD when read. Cached: there are few distinct denied sets."""
    key = (record_type, denied, type_name)
    cls = _MASKED_CLASSES.get(key)
    if cls is None:
        namespace: dict[str, Any] = {"__slots__": (), "hub_denied": denied}
        for field_name in denied:
            for attribute in attributes_for(type_name, field_name):
                namespace[attribute] = _withheld_property(attribute)
        cls = type(f"Withheld{record_type.__name__}", (record_type,), namespace)
        _MASKED_CLASSES[key] = cls
    return cls


def denied_fields(row: Record) -> frozenset[str]:
    """GraphQL fields withheld on ``row`` (empty for an unmasked row)."""
    return getattr(type(row), "hub_denied", _EMPTY)


_EMPTY: frozenset[str] = frozenset()


class _Admission:
    """What to do with rows holding one particular relation set."""

    __slots__ = ("clear", "masked", "visible")
    visible: bool
    clear: tuple[str, ...]
    masked: type[Record] | None


class Scope:
    """Applies one request's access plan to rows of every entity."""

    everything: ClassVar[frozenset[str]] = frozenset(
        {"self", "guardian", "teacher", "school", "district", "directory"}
    )

    def __init__(
        self, plan: AccessPlanLike, selected: dict[str, frozenset[str]], relationships: Relationships
    ) -> None:
        self.plan = plan
        self.selected = selected
        self.relationships = relationships
        self._rules: dict[Entity, RowRelations] = {}
        self._admissions: dict[tuple[Entity, frozenset[str]], _Admission] = {}
        self._trivial: dict[Entity, bool] = {}
        # For the audit: the students whose rows were admitted in this request
        # (hub ids), and the fields of each type that rows carried out.
        self.disclosed_students: set[str] = set()
        self.disclosed_fields: dict[str, set[str]] = {}

    # -- what to ask adapters --

    def needed_relations(self, entity: Entity) -> frozenset[str]:
        """Relations worth computing for ``entity`` rows in this query."""
        return self.plan.relations_for(entity.value)

    def fetch_fields(self, entity: Entity, extra: frozenset[str] = _EMPTY) -> frozenset[str]:
        """Attributes to ask adapters for: the selected, allowed fields' attributes,
        the attributes that decide relations, and ``extra`` (e.g. a filter key)."""
        type_name = entity.value
        attrs = set(attributes_for_fields(type_name, self.selected.get(type_name, _EMPTY)))
        deciding = _DECIDING_ATTRS.get(entity, {})
        for relation in self.needed_relations(entity):
            attrs.update(deciding.get(relation, ()))
        student_link = _STUDENT_OF.get(entity)
        if student_link is not None:
            attrs.add(student_link)
        attrs.update(extra)
        return frozenset(attrs)

    # -- applying the plan to rows --

    async def admit(self, entity: Entity, rows: Sequence[Record]) -> list[Record]:
        """The rows the caller may see, masked where a field is withheld.

        Rows are owned by this request (adapters return fresh records), so
        masking changes them in place.
        """
        if not rows:
            return []
        rule = await self._rule(entity)
        student_link = _STUDENT_OF.get(entity)
        if self._trivial.get(entity):
            self._note_students(entity, student_link, rows)
            self.disclosed_fields.setdefault(entity.value, set()).update(
                self.selected.get(entity.value, _EMPTY)
            )
            return list(rows)
        if entity is Entity.STUDENT and "directory" in self.needed_relations(entity):
            await self._learn_opt_outs(rows)
        admissions = self._admissions
        out: list[Record] = []
        to_mask: list[tuple[Record, _Admission]] = []
        for row in rows:
            relations = rule(row)
            admission = admissions.get((entity, relations))
            if admission is None:
                admission = self._admission(entity, type(row), relations)
            if not admission.visible:
                continue
            out.append(row)
            if admission.masked is not None:
                to_mask.append((row, admission))
        # Before masking, which may clear the student link.
        self._note_students(entity, student_link, out)
        for row, admission in to_mask:
            for attribute in admission.clear:
                setattr(row, attribute, None)
            row.__class__ = admission.masked  # type: ignore[assignment]
        return out

    def _note_students(self, entity: Entity, student_link: str | None, rows: Sequence[Record]) -> None:
        """Remember whose records this response may disclose (for the audit)."""
        if entity is Entity.STUDENT:
            self.disclosed_students.update(row.id for row in rows)
        elif student_link is not None:
            hub_id = self.relationships.identity.hub_id
            self.disclosed_students.update(
                hub_id(Entity.STUDENT, row.source, value)
                for row in rows
                if (value := getattr(row, student_link, None)) is not None
            )

    def _admission(self, entity: Entity, record_type: type[Record], relations: frozenset[str]) -> _Admission:
        type_name = entity.value
        selected = self.selected.get(type_name, _EMPTY)
        allowed = self.plan.allowed_fields(type_name, relations)
        admission = _Admission()
        admission.visible = bool(relations & self.plan.relations_for(type_name)) and (
            not selected or bool(allowed & selected)
        )
        admission.masked = None
        admission.clear = ()
        if admission.visible:
            self.disclosed_fields.setdefault(type_name, set()).update(selected & allowed)
            fetched = self.fetch_fields(entity)
            readable = attributes_for_fields(type_name, allowed)
            clear = tuple(sorted(fetched - readable))
            denied = selected - allowed
            if clear or denied:
                admission.clear = clear
                admission.masked = masked_class(record_type, type_name, frozenset(denied))
        self._admissions[(entity, relations)] = admission
        return admission

    async def _learn_opt_outs(self, rows: Sequence[Record]) -> None:
        """One filtered question per source and batch: which of these opted out."""
        by_source: dict[str, list[str]] = {}
        for row in rows:
            by_source.setdefault(row.source, []).append(row.vendor_id)
        for source, vendor_ids in by_source.items():
            self.relationships.opted_out_seen |= await self.relationships.opted_out(source, vendor_ids)

    def unfiltered(self, entity: Entity) -> bool:
        """Whether every row of ``entity`` passes unchanged (known after the
        first :meth:`admit`); only then is a source's total count the caller's."""
        return self._trivial.get(entity, False)

    async def _rule(self, entity: Entity) -> RowRelations:
        rule = self._rules.get(entity)
        if rule is None:
            rule, constant = await row_relations(entity, self.needed_relations(entity), self.relationships)
            self._rules[entity] = rule
            if constant is not None:
                # Every row holds the same relations: decide once for all rows.
                type_name = entity.value
                selected = self.selected.get(type_name, _EMPTY)
                allowed = self.plan.allowed_fields(type_name, constant)
                unreadable = self.fetch_fields(entity) - attributes_for_fields(type_name, allowed)
                self._trivial[entity] = (
                    bool(constant & self.plan.relations_for(type_name))
                    and selected <= allowed
                    and not unreadable
                )
        return rule


# Which entity a link attribute points at: merged records are compared by
# their primary key, whichever source a row came from.
_LINK_ENTITY: dict[str, Entity] = {
    "student_id": Entity.STUDENT,
    "person_id": Entity.STUDENT,
    "section_id": Entity.SECTION,
    "school_id": Entity.ORGANIZATION,
    "school_ids": Entity.ORGANIZATION,
    "org_id": Entity.ORGANIZATION,
}

Test = Callable[[Record], bool]


class _Tests:
    """Membership tests for one entity's rows, aware of merged identities."""

    def __init__(self, entity: Entity, identity: IdentityMap) -> None:
        self.entity = entity
        self.identity = identity

    def _canon(self, attribute: str) -> Callable[[str, str], Key] | None:
        if not self.identity.merges:
            return None
        target = self.entity if attribute == "vendor_id" else _LINK_ENTITY[attribute]
        canonical = self.identity.canonical
        return lambda source, value: canonical(target, source, value)

    def member(self, keys: frozenset[Key], attribute: str) -> Test:
        canon = self._canon(attribute)

        def test(row: Record) -> bool:
            value = row.vendor_id if attribute == "vendor_id" else getattr(row, attribute, None)
            if value is None:
                return False
            key = (row.source, value) if canon is None else canon(row.source, value)
            return key in keys

        return test

    def any_member(self, keys: frozenset[Key], attribute: str) -> Test:
        canon = self._canon(attribute)

        def test(row: Record) -> bool:
            source = row.source
            values = getattr(row, attribute, ()) or ()
            if canon is None:
                return any((source, value) in keys for value in values)
            return any(canon(source, value) in keys for value in values)

        return test

    def own(self, keys: frozenset[Key]) -> Test:
        return self.member(keys, "vendor_id")


async def row_relations(
    entity: Entity, needed: frozenset[str], rel: Relationships
) -> tuple[RowRelations, frozenset[str] | None]:
    """A function giving the caller's relations to one ``entity`` row.

    Also returns the constant relation set when it is the same for every row
    (then the caller can skip per-row work).
    """
    always: set[str] = set()
    checks: list[tuple[str, Callable[[Record], bool]]] = []
    tests = _Tests(entity, rel.identity)
    _member, _any_member, _own = tests.member, tests.any_member, tests.own
    if "district" in needed and rel.district:
        always.add("district")
    self_keys = frozenset({rel.self_key}) if rel.self_key else frozenset()

    async def add(name: str, test_factory: Callable[[], Any]) -> None:
        if name in needed:
            test = await test_factory()
            if test is not None:
                checks.append((name, test))

    if entity is Entity.STUDENT:
        await add("self", _const(_own(self_keys) if self_keys else None))
        await add("guardian", _from(rel.children.get, _own))
        await add("teacher", _from(rel.taught_students.get, _own))
        await add(
            "school",
            _from(
                rel.staff_schools.get,
                lambda k: _either(_member(k, "school_id"), _any_member(k, "school_ids")),
            ),
        )
        if "directory" in needed:
            opted_out = rel.opted_out_seen
            checks.append(("directory", lambda row: (row.source, row.vendor_id) not in opted_out))
    elif entity in (Entity.SCORE, Entity.COURSE_GRADE, Entity.ATTENDANCE_EVENT, Entity.ENROLLMENT):
        student_attr = "person_id" if entity is Entity.ENROLLMENT else "student_id"
        if self_keys:
            await add(
                "self",
                _const(
                    _either(
                        _member(self_keys, student_attr),
                        _member(await rel.own_sections.get(), "section_id")
                        if entity is Entity.ENROLLMENT
                        else None,
                    )
                ),
            )
        await add("guardian", _from(rel.children.get, lambda k: _member(k, student_attr)))
        if entity is Entity.ATTENDANCE_EVENT:
            sections = await rel.taught_sections.get() if "teacher" in needed else frozenset()
            students = await rel.taught_students.get() if "teacher" in needed else frozenset()
            await add(
                "teacher",
                _const(
                    _section_or_student(_member(sections, "section_id"), _member(students, "student_id"))
                    if sections
                    else None
                ),
            )
            await add("school", _from(rel.staff_schools.get, lambda k: _member(k, "school_id")))
        else:
            await add("teacher", _from(rel.taught_sections.get, lambda k: _member(k, "section_id")))
            if entity is Entity.ENROLLMENT:
                await add("school", _from(rel.staff_schools.get, lambda k: _member(k, "school_id")))
            else:
                await add("school", _from(rel.school_students.get, lambda k: _member(k, student_attr)))
    elif entity in (Entity.SECTION, Entity.ASSIGNMENT):
        attr = "vendor_id" if entity is Entity.SECTION else "section_id"
        await add("self", _from(rel.own_sections.get, lambda k: _member(k, attr)))
        await add("guardian", _from(rel.child_sections.get, lambda k: _member(k, attr)))
        await add("teacher", _from(rel.taught_sections.get, lambda k: _member(k, attr)))
        if entity is Entity.SECTION:
            await add("school", _from(rel.staff_schools.get, lambda k: _member(k, "school_id")))
        else:
            await add("school", _from(rel.school_sections.get, lambda k: _member(k, "section_id")))
        if "directory" in needed:
            always.add("directory")
    elif entity is Entity.TEACHER:
        if self_keys:
            mine = await rel.my_teachers.get() if "self" in needed else frozenset()
            await add("self", _const(_own(self_keys | mine)))
        await add("guardian", _from(rel.child_teachers.get, _own))
        await add("school", _from(rel.staff_schools.get, lambda k: _any_member(k, "school_ids")))
        if "directory" in needed:
            always.add("directory")
    elif entity is Entity.GUARDIAN:
        if self_keys:
            mine = await rel.own_guardians.get() if "self" in needed else frozenset()
            await add("self", _const(_own(self_keys | mine)))
        await add("teacher", _from(rel.taught_guardians.get, _own))
        await add("school", _from(rel.school_guardians.get, _own))
    elif entity is Entity.ORGANIZATION:
        await add("school", _from(rel.staff_schools.get, _own))
        if "directory" in needed:
            always.add("directory")
    elif entity is Entity.COURSE:
        await add("school", _from(rel.staff_schools.get, lambda k: _member(k, "org_id")))
        if "directory" in needed:
            always.add("directory")
    elif "directory" in needed:
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


def _either(*tests: Callable[[Record], bool] | None) -> Callable[[Record], bool]:
    present = [t for t in tests if t is not None]

    def test(row: Record) -> bool:
        return any(t(row) for t in present)

    return test


def _section_or_student(by_section: Test, by_student: Test) -> Test:
    def test(row: Record) -> bool:
        if getattr(row, "section_id", None):
            return by_section(row)
        return by_student(row)

    return test


def _const(test: Callable[[Record], bool] | None) -> Callable[[], Any]:
    async def factory() -> Callable[[Record], bool] | None:
        return test

    return factory


def _from(
    get: Callable[[], Any], make: Callable[[frozenset[Key]], Callable[[Record], bool]]
) -> Callable[[], Any]:
    async def factory() -> Callable[[Record], bool] | None:
        keys = await get()
        return make(keys) if keys else None

    return factory


def entity_of(row: Record) -> Entity:
    """The entity of a (possibly masked) record."""
    for cls in type(row).__mro__:
        entity = ENTITY_OF.get(cls)
        if entity is not None:
            return entity
    raise TypeError(f"not a unified record: {type(row).__name__}")


async def relations_to_record(
    rel: Relationships, entity: Entity, source: str, vendor_id: str, needed: frozenset[str]
) -> frozenset[str]:
    """The caller's relations (among ``needed``) to one record, read
    internally: used to authorise questions *about* a record, such as who
    looked at a student, without disclosing the record itself."""
    needed = needed - {"directory"}  # never grounds for questions about a record
    if not needed or source not in rel.registry.adapters:
        return frozenset()
    attrs: set[str] = set()
    for relation in needed:
        attrs.update(_DECIDING_ATTRS.get(entity, {}).get(relation, ()))
    if (link := _STUDENT_OF.get(entity)) is not None:
        attrs.add(link)
    rows = await rel.read(source, entity, attrs, ids=[vendor_id])
    if not rows:
        return frozenset()
    row = rows[0]
    row.source = source
    rule, _ = await row_relations(entity, needed, rel)
    return rule(row)
