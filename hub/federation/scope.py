"""Per-request row admission: which fetched rows the caller may see, which of
their fields are withheld, and which attributes to fetch for each of them.

The policy gate decides per query (an access plan: for each Type.field, the
relations under which it is readable). Here that decision is applied to rows
with precomputed sets: per row, compute the caller's relations to it (set
membership), look up what that relation set opens (memoised), and either keep
the row as it is, mask it, or drop it. No Casbin call, no logging, and no dict
copy per row.

Reads happen in two steps so that an attribute is only ever asked for rows
whose relation lets the caller read it: first the attributes that decide the
relation (:meth:`Scope.first_fields`), then, per relation set, the attributes
it opens (:meth:`Scope.to_fill`), asked by id for just those rows. When every
row holds the same relations (a district admin, say), both steps are one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from graphql import GraphQLError

from hub.federation.identity import IdentityMap
from hub.federation.relations import Relationships
from hub.federation.rules import (
    PERSON_OF,
    STUDENT_OF,
    RowRelations,
    deciding_attributes,
    narrowing,
    row_relations,
)
from hub.model import ENTITY_OF, Entity, Record
from hub.model.catalogue import attributes_for, attributes_for_fields
from hub.sdk import NAME_ATTRIBUTES


class AccessPlanLike(Protocol):
    """What the scope needs of the policy gate's access plan."""

    @property
    def relations_by_type(self) -> Mapping[str, Mapping[str, frozenset[str]]]: ...

    def allowed_fields(self, type_name: str, relations: frozenset[str]) -> frozenset[str]: ...

    def relations_for(self, type_name: str) -> frozenset[str]: ...


FORBIDDEN_FIELD = "FORBIDDEN_FIELD"

_PEOPLE = frozenset({Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN})


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
        withheld_attrs: set[str] = set()
        namespace: dict[str, Any] = {"__slots__": (), "hub_denied": denied}
        for field_name in denied:
            for attribute in attributes_for(type_name, field_name):
                namespace[attribute] = _withheld_property(attribute)
                withheld_attrs.add(attribute)
        namespace["hub_withheld_attrs"] = frozenset(withheld_attrs)
        cls = type(f"Withheld{record_type.__name__}", (record_type,), namespace)
        _MASKED_CLASSES[key] = cls
    return cls


def denied_fields(row: Record) -> frozenset[str]:
    """GraphQL fields withheld on ``row`` (empty for an unmasked row)."""
    return getattr(type(row), "hub_denied", _EMPTY)


def readable_value(row: Record, attribute: str) -> Any:
    """``row.attribute``, or ``None`` where it is withheld: for filters applied
    in the hub, which must not match on what the caller may not read."""
    if attribute in getattr(type(row), "hub_withheld_attrs", _EMPTY):
        return None
    return getattr(row, attribute, None)


_EMPTY: frozenset[str] = frozenset()


class Admission:
    """What to do with rows holding one particular relation set (per request)."""

    __slots__ = ("allowed", "denied", "disclosed", "fill", "noted", "people", "readable", "visible")

    def __init__(self) -> None:
        self.visible = False
        # GraphQL fields this relation set opens (of those the operation reads).
        self.allowed: frozenset[str] = _EMPTY
        # The attributes behind ``allowed``: everything else is cleared.
        self.readable: frozenset[str] = _EMPTY
        # What such a row discloses when it leaves (selected and allowed).
        self.disclosed: frozenset[str] = _EMPTY
        # Attributes to fetch for such rows: of the fields the operation
        # selects or filters on, those this relation set opens.
        self.fill: frozenset[str] = _EMPTY
        # Selected fields withheld on such rows (they raise FORBIDDEN_FIELD).
        self.denied: frozenset[str] = _EMPTY
        # Hub ids of the people whose rows with this admission left (audit).
        self.people: set[str] = set()
        self.noted = False


Decided = list[tuple[Record, Admission]]


class Scope:
    """Applies one request's access plan to rows of every entity.

    ``selected`` are the fields the operation reads, per type; ``filtered``
    the fields its filter arguments compare (a filter matches only rows on
    which the caller may read the field, so those are fetched where readable).
    """

    everything: ClassVar[frozenset[str]] = frozenset(
        {"self", "guardian", "teacher", "school", "district", "directory"}
    )

    def __init__(
        self,
        plan: AccessPlanLike,
        selected: dict[str, frozenset[str]],
        relationships: Relationships,
        filtered: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.plan = plan
        self.selected = selected
        self.filtered = filtered or {}
        self.relationships = relationships
        self._rules: dict[Entity, RowRelations] = {}
        self._constant: dict[Entity, frozenset[str] | None] = {}
        self._admissions: dict[tuple[Entity, frozenset[str]], Admission] = {}
        self._clears: dict[tuple[int, frozenset[str]], tuple[str, ...]] = {}
        # For the audit: the fields of each type that admitted rows carried
        # out (any row); per person, see :meth:`disclosed_people`.
        self.disclosed_fields: dict[str, set[str]] = {}
        self._sealed: list[tuple[Entity, Admission]] = []
        # Sealed rows (by identity) -> what :meth:`disclose` notes of them.
        # (The row is held too, so that its id is not reused in this request.)
        self._pending: dict[int, tuple[Record, Entity, Admission, str | None]] = {}

    # -- what to ask adapters --

    def needed_relations(self, entity: Entity) -> frozenset[str]:
        """Relations worth computing for ``entity`` rows in this query."""
        return self.plan.relations_for(entity.value)

    def deciding_fields(self, entity: Entity) -> frozenset[str]:
        """Attributes the relation tests of this query read on ``entity`` rows."""
        return deciding_attributes(entity, self.needed_relations(entity))

    def decides_by_key(self, entity: Entity) -> bool:
        """Whether a row's key alone decides the caller's relations to it (then
        a look-up by id can be decided before anything is fetched)."""
        return not self.deciding_fields(entity)

    async def first_fields(self, entity: Entity, extra: frozenset[str] = _EMPTY) -> frozenset[str]:
        """Attributes for the first read of ``entity`` rows: those deciding the
        relation, the person the row is about, and ``extra`` (e.g. a link
        attribute); when every row holds the same relations, also everything
        they open, so one read is enough."""
        await self._rule(entity)
        attrs = set(self.deciding_fields(entity))
        attrs.update(PERSON_OF.get(entity, ()))
        attrs.update(extra)
        constant = self._constant.get(entity)
        if constant is not None:
            attrs.update(self.admission(entity, constant).fill)
        return frozenset(attrs)

    def to_fill(self, admission: Admission, first: frozenset[str]) -> frozenset[str]:
        """Attributes still to fetch for rows with ``admission`` after a first
        read of ``first``."""
        return admission.fill - first

    # -- applying the plan to rows --

    async def same_work_for_nothing(self, entity: Entity, source: str) -> None:
        """For a batch with no row: the upstream question :meth:`decide` asks
        of a non-empty one (whether students opted out of the directory), so
        that no answer's timing says whether a hidden row matched."""
        if (
            entity is Entity.STUDENT
            and self._constant.get(entity) is None
            and "directory" in self.needed_relations(entity)
        ):
            await self.relationships.opted_out(source, (), always=True)

    async def visible_if(self, entity: Entity, source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The caller's relations as a ``FetchRequest.visible_if`` for ``source``
        (empty when every row may be visible): a source that applies it never
        returns a row this caller cannot be related to."""
        await self._rule(entity)
        if self._constant.get(entity) is not None:
            return ()
        return await narrowing(entity, self.needed_relations(entity), self.relationships, source) or ()

    def reads_some_names_only(self, entity: Entity) -> bool:
        """Whether a row of ``entity`` may be visible with only some of its
        names readable (then a search is checked again in the hub)."""
        names = frozenset(NAME_ATTRIBUTES)
        return any(
            not attributes_for_fields(entity.value, self.plan.allowed_fields(entity.value, frozenset({r})))
            >= names
            for r in self.needed_relations(entity)
        )

    async def prepare(self, entity: Entity) -> None:
        """Work out the caller's relations for ``entity`` now (the same
        upstream reads whether or not any row matches a search)."""
        await self._rule(entity)

    async def decide(
        self, entity: Entity, rows: Sequence[Record], require: frozenset[str] = _EMPTY
    ) -> Decided:
        """The rows the caller may see, in order, each with its admission.

        ``require``: GraphQL fields a row must be readable for (the fields a
        filter of the request compared): rows where it is not are dropped.
        Nothing is masked yet (see :meth:`seal`).
        """
        if not rows:
            return []
        rule = await self._rule(entity)
        constant = self._constant.get(entity)
        if constant is not None:
            admission = self.admission(entity, constant)
            if not admission.visible or not require <= admission.allowed:
                return []
            return [(row, admission) for row in rows]
        if entity is Entity.STUDENT and "directory" in self.needed_relations(entity):
            await self._learn_opt_outs(rows)
        admissions = self._admissions
        out: Decided = []
        for row in rows:
            relations = rule(row)
            admission = admissions.get((entity, relations)) or self.admission(entity, relations)
            if admission.visible and (not require or require <= admission.allowed):
                out.append((row, admission))
        return out

    def seal(self, entity: Entity, decided: Decided, first: frozenset[str]) -> list[Record]:
        """Mask the decided rows (clear what was read only to decide, make
        withheld fields raise) and remember, for the audit, whom each row is
        about; :meth:`disclose` counts the rows that are really returned.

        Rows are owned by this request (adapters return fresh records), so
        masking changes them in place.
        """
        person = _person_key(entity, self.relationships.identity)
        type_name = entity.value
        clears = self._clears
        pending = self._pending
        out: list[Record] = []
        for row, admission in decided:
            out.append(row)
            # Before masking, which may clear the person link.
            pending[id(row)] = (row, entity, admission, person(row) if person is not None else None)
            key = (id(admission), first)
            clear = clears.get(key)
            if clear is None:
                clear = clears[key] = tuple(sorted(first - admission.readable))
            for attribute in clear:
                setattr(row, attribute, None)
            if admission.denied:
                row.__class__ = masked_class(type(row), type_name, admission.denied)
        return out

    def disclose(self, rows: Iterable[Record]) -> None:
        """Note, for the audit, that ``rows`` (sealed by this scope) leave in
        the response: their fields and whom they are about. Rows read but not
        returned (a page's window, a filter in a resolver) are never noted."""
        pending = self._pending
        for row in rows:
            entry = pending.get(id(row))
            if entry is None or entry[0] is not row:
                continue
            _, entity, admission, who = entry
            if who is not None:
                admission.people.add(who)
            if not admission.noted:
                admission.noted = True
                self._sealed.append((entity, admission))
                self.disclosed_fields.setdefault(entity.value, set()).update(admission.disclosed)

    def forget_disclosed(self) -> None:
        """Start the next answer's audit on this scope (a subscription's next
        event): what earlier answers disclosed is not noted again."""
        for _, admission in self._sealed:
            admission.people.clear()
            admission.noted = False
        self._sealed = []
        self.disclosed_fields = {}

    def exact(self, entity: Entity, require: frozenset[str] = _EMPTY) -> bool:
        """Whether every row of ``entity`` a source matches is visible as it
        is (known after :meth:`prepare`); only then is a source's total count
        the caller's."""
        constant = self._constant.get(entity)
        if constant is None:
            return False
        admission = self.admission(entity, constant)
        return admission.visible and require <= admission.allowed

    def disclosed_people(self) -> dict[str, dict[str, frozenset[str]]]:
        """Per person (hub id of a student, teacher or guardian), the fields of
        each type that left about them: their own record's, and those of rows
        about them (scores, grades, attendance, enrollments)."""
        out: dict[str, dict[str, set[str]]] = {}
        for entity, admission in self._sealed:
            if not admission.disclosed:
                continue
            for person in admission.people:
                out.setdefault(person, {}).setdefault(entity.value, set()).update(admission.disclosed)
        return {person: {t: frozenset(f) for t, f in types.items()} for person, types in out.items()}

    def admission(self, entity: Entity, relations: frozenset[str]) -> Admission:
        """What rows of ``entity`` holding ``relations`` show (memoised)."""
        cached = self._admissions.get((entity, relations))
        if cached is not None:
            return cached
        type_name = entity.value
        selected = self.selected.get(type_name, _EMPTY)
        allowed = self.plan.allowed_fields(type_name, relations)
        admission = Admission()
        admission.visible = bool(relations & self.plan.relations_for(type_name)) and (
            not selected or bool(allowed & selected)
        )
        if admission.visible:
            admission.allowed = allowed
            admission.readable = attributes_for_fields(type_name, allowed)
            admission.disclosed = selected & allowed
            wanted = (selected | self.filtered.get(type_name, _EMPTY)) & allowed
            admission.fill = attributes_for_fields(type_name, wanted)
            admission.denied = selected - allowed
        self._admissions[(entity, relations)] = admission
        return admission

    async def _learn_opt_outs(self, rows: Sequence[Record]) -> None:
        """One filtered question per source and batch: which of these opted out."""
        by_source: dict[str, list[str]] = {}
        for row in rows:
            by_source.setdefault(row.source, []).append(row.vendor_id)
        for source, vendor_ids in by_source.items():
            self.relationships.opted_out_seen |= await self.relationships.opted_out(source, vendor_ids)

    async def _rule(self, entity: Entity) -> RowRelations:
        rule = self._rules.get(entity)
        if rule is None:
            rule, constant = await row_relations(entity, self.needed_relations(entity), self.relationships)
            self._rules[entity] = rule
            self._constant[entity] = constant
        return rule


def _person_key(entity: Entity, identity: IdentityMap) -> Callable[[Record], str | None] | None:
    """How to name the person a row of ``entity`` is about (hub id), if any."""
    if entity in _PEOPLE:
        return lambda row: row.id or None
    link = STUDENT_OF.get(entity)
    hub_id = identity.hub_id
    if link is not None:

        def student(row: Record) -> str | None:
            value = getattr(row, link, None)
            return hub_id(Entity.STUDENT, row.source, value) if value else None

        return student
    if entity is Entity.ENROLLMENT:

        def enrolled(row: Record) -> str | None:
            value = getattr(row, "person_id", None)
            if not value:
                return None
            kind = Entity.STUDENT if getattr(row, "role", None) == "student" else Entity.TEACHER
            return hub_id(kind, row.source, value)

        return enrolled
    return None


def entity_of(row: Record) -> Entity:
    """The entity of a (possibly masked) record."""
    for cls in type(row).__mro__:
        entity = ENTITY_OF.get(cls)
        if entity is not None:
            return entity
    raise TypeError(f"not a unified record: {type(row).__name__}")


async def relations_to_record(
    rel: Relationships,
    entity: Entity,
    source: str,
    vendor_id: str,
    needed: frozenset[str],
    *,
    directory: bool = False,
) -> frozenset[str]:
    """The caller's relations (among ``needed``) to one record, read
    internally: used to authorise questions *about* a record, such as who
    looked at a student or who is enrolled in a section, without disclosing
    the record itself. ``directory`` counts only where asked for (listing a
    section's students may be open to the directory; who looked at a student
    never is)."""
    if not directory:
        needed = needed - {"directory"}
    if not needed or source not in rel.registry.adapters:
        return frozenset()
    attrs = set(deciding_attributes(entity, needed))
    if (link := STUDENT_OF.get(entity)) is not None:
        attrs.add(link)
    rows = await rel.read(source, entity, attrs, ids=[vendor_id])
    if not rows:
        return frozenset()
    row = rows[0]
    row.source = source
    if entity is Entity.STUDENT and "directory" in needed:
        rel.opted_out_seen |= await rel.opted_out(source, [vendor_id])
    rule, _ = await row_relations(entity, needed, rel)
    return rule(row)
