"""Demo personas: five ready-made callers bound to real people of the served
district (generated or a district's own export)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.federation.ids import encode_id
from hub.federation.registry import SourceRegistry
from hub.federation.relations import CallerPerson, Relationships
from hub.model import Entity, Guardian, Record, of_type
from hub.sdk import FetchRequest, SourceError

PRINCIPAL_ROLES = ("principal", "siteAdministrator", "administrator")
DISTRICT_ROLES = ("districtAdministrator", "systemAdministrator")
CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class Persona:
    """A demo caller: policy roles and, when the data has one, a roster person."""

    name: str
    roles: tuple[str, ...]
    entity: Entity | None = None
    source: str | None = None
    sourced_id: str | None = None

    @property
    def person_id(self) -> str | None:
        if self.entity is None or self.source is None or self.sourced_id is None:
            return None
        return encode_id(self.entity.value, self.source, self.sourced_id)

    def token(self, signer: DevSigner) -> str:
        subject = f"demo:{self.name}" + (f":{self.sourced_id}" if self.sourced_id else "")
        return signer.issue(
            subject=subject, roles=list(self.roles), person_id=self.person_id, sourced_id=self.sourced_id
        )

    def as_json(self, signer: DevSigner) -> dict[str, object]:
        return {
            "token": self.token(signer),
            "personId": self.person_id,
            "sourcedId": self.sourced_id,
            "roles": list(self.roles),
        }


async def _rows(
    registry: SourceRegistry,
    source: str,
    entity: Entity,
    fields: set[str],
    filters: dict[str, tuple[str, ...]] | None = None,
    limit: int = CANDIDATES,
) -> list[Record]:
    supported = registry.supported_fields(source, entity)
    usable = {k: v for k, v in (filters or {}).items() if k in registry.supported_filters(source, entity)}
    if filters and len(usable) != len(filters):
        return []
    try:
        result = await registry.fetch(
            source,
            FetchRequest(entity=entity, fields=frozenset(fields) & supported, filters=usable, limit=limit),
        )
    except SourceError:
        return []
    return list(result.records)


async def _teacher(
    registry: SourceRegistry, source: str, clock: Clock, grace_days: int
) -> dict[str, Persona]:
    """A teacher of ``source`` who teaches someone today; else any teacher
    (an export of a past year: the dashboard then shows the directory view)."""
    teachers = await _rows(registry, source, Entity.TEACHER, {"role"}, {"role": ("teacher",)})
    for row in teachers:
        ties = Relationships(
            registry,
            CallerPerson(Entity.TEACHER, source, row.vendor_id),
            district=False,
            clock=clock,
            grace_days=grace_days,
        )
        if await ties.taught_students.get():
            return {"teacher": Persona("teacher", ("teacher",), Entity.TEACHER, source, row.vendor_id)}
    if teachers:
        return {"teacher": Persona("teacher", ("teacher",), Entity.TEACHER, source, teachers[0].vendor_id)}
    return {}


async def pick_personas(registry: SourceRegistry, clock: Clock, grace_days: int) -> dict[str, Persona]:
    """Choose the five personas from the data; the district admin always exists."""
    personas: dict[str, Persona] = {}
    # Sources in configuration order: the roster authority (first) wins.
    staff_sources = registry.sources_for(Entity.TEACHER)
    for source in staff_sources:
        if "district_admin" not in personas:
            for row in await _rows(registry, source, Entity.TEACHER, {"role"}, {"role": DISTRICT_ROLES}):
                personas["district_admin"] = Persona(
                    "district_admin", ("district_admin",), Entity.TEACHER, source, row.vendor_id
                )
                break
        if "principal" not in personas:
            for row in await _rows(registry, source, Entity.TEACHER, {"role"}, {"role": PRINCIPAL_ROLES}):
                personas["principal"] = Persona(
                    "principal", ("school_admin",), Entity.TEACHER, source, row.vendor_id
                )
                break
        if "teacher" not in personas:
            personas.update(await _teacher(registry, source, clock, grace_days))
    personas.setdefault("district_admin", Persona("district_admin", ("district_admin",)))
    for source in registry.sources_for(Entity.GUARDIAN):
        guardians = of_type(await _rows(registry, source, Entity.GUARDIAN, {"student_ids"}), Guardian)
        with_children = [g for g in guardians if g.student_ids]
        if with_children:
            # Prefer a parent of two: the dashboard then has something to switch between.
            best = max(with_children, key=lambda g: min(len(g.student_ids), 2))
            personas["guardian"] = Persona("guardian", ("guardian",), Entity.GUARDIAN, source, best.vendor_id)
            child = best.student_ids[0]
            personas["student"] = Persona("student", ("student",), Entity.STUDENT, source, child)
            break
    if "student" not in personas:
        for source in registry.sources_for(Entity.STUDENT):
            for row in await _rows(registry, source, Entity.STUDENT, set(), limit=1):
                personas["student"] = Persona("student", ("student",), Entity.STUDENT, source, row.vendor_id)
    order = ["district_admin", "principal", "teacher", "guardian", "student"]
    return {name: personas[name] for name in order if name in personas}
