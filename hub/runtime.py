"""The running hub: everything a request needs that outlives the request."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from hub.audit import AuditLog
from hub.auth import Principal, Verifier
from hub.federation.clock import Clock
from hub.federation.identity import IdentityMap, build_identity_map
from hub.federation.ids import decode_id
from hub.federation.paging import ResumeHints
from hub.federation.registry import SourceRegistry
from hub.federation.relations import CallerPerson, Relationships
from hub.mirror.wiring import MirrorWiring
from hub.model import Entity
from hub.realtime import ChangeBus
from hub.sdk import FetchRequest, SourceError
from hub.settings import Settings

log = logging.getLogger("homeroom")

PERSON_ENTITIES = (Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN)


@dataclass
class Hub:
    """Settings, sources, policy, sign-in and the clock, shared by all requests.

    ``policy`` is a ``hub.policy.PolicyStore``; each request reads
    ``policy.current`` once, so a reload never changes a request in flight.
    """

    settings: Settings
    registry: SourceRegistry
    policy: Any
    catalogue: Any
    signers: list[Verifier] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    ready: bool = False
    # The disclosure log; None only where auditing is off (tests, benchmarks).
    audit: AuditLog | None = None
    # Records merged across sources (empty until the sources are matched).
    identity: IdentityMap = field(default_factory=IdentityMap)
    # Where root lists resume in their sources; ids and offsets only.
    resume_hints: ResumeHints = field(default_factory=ResumeHints)
    # Which mirrored rows each sync changed (ids only): what subscriptions follow.
    changes: ChangeBus = field(default_factory=ChangeBus)
    # The mirrored sources' stores and their relay to the hub's other processes.
    mirrors: MirrorWiring | None = None
    # sourcedId -> roster person: ids only, never personal fields.
    _people: dict[str, CallerPerson | None] = field(default_factory=dict)

    async def caller_person(self, principal: Principal) -> CallerPerson | None:
        """The roster person a principal is, from its hub id or sourcedId."""
        if principal.person_id:
            decoded = decode_id(principal.person_id)
            if decoded and decoded.entity in PERSON_ENTITIES and decoded.source in self.registry.adapters:
                return CallerPerson(decoded.entity, decoded.source, decoded.vendor_id)
            return None
        if principal.sourced_id:
            key = "sid:" + principal.sourced_id
            if key not in self._people:
                self._people[key] = await self._find_person(ids=(principal.sourced_id,))
            return self._people[key]
        if principal.person_email:
            key = "email:" + principal.person_email
            if key not in self._people:
                self._people[key] = await self._find_person(email=principal.person_email)
            return self._people[key]
        return None

    async def _find_person(
        self, *, ids: tuple[str, ...] | None = None, email: str | None = None
    ) -> CallerPerson | None:
        """The one roster person with this sourcedId or e-mail; ``None`` when
        there is none, or more than one (an ambiguous binding binds no one)."""
        found: list[CallerPerson] = []
        for entity in PERSON_ENTITIES:
            for source in self.registry.sources_for(entity):
                filters: dict[str, tuple[str, ...]] = {}
                if email is not None:
                    if "email" not in self.registry.supported_filters(source, entity):
                        continue
                    filters["email"] = (email,)
                request = FetchRequest(entity=entity, fields=frozenset(), ids=ids, filters=filters)
                try:
                    result = await self.registry.fetch(source, request)
                except SourceError:
                    continue
                found.extend(CallerPerson(entity, source, row.vendor_id) for row in result.records)
        if len(found) != 1:
            if len(found) > 1:
                log.warning("a sign-in matches %d roster people; bound to none", len(found))
            return None
        return found[0]

    async def match_identities(self, store_url: str | None = None) -> None:
        """Merge the same people, sections and courses across sources
        (``[identity]``). With a store, links found before hold (even when
        their keys changed since) and new ones are remembered."""
        if not self.settings.identity.match:
            return
        from hub.store import create_engine
        from hub.store.identity import load_links, save_links

        engine = create_engine(store_url) if store_url else None
        try:
            known: dict[tuple[Entity, str, str], tuple[str, str]] = {}
            if engine is not None:
                for entity, source, vendor_id, primary, primary_id in await load_links(engine):
                    known[(Entity(entity), source, vendor_id)] = (primary, primary_id)
            self.identity = await build_identity_map(self.registry, self.settings.identity, known)
            if engine is not None:
                await save_links(
                    engine,
                    [((e.value, s, v, p, pv), key) for e, (s, v), (p, pv), key in self.identity.links()],
                )
        finally:
            if engine is not None:
                await engine.dispose()

    def relationships(self, principal: Principal, person: CallerPerson | None) -> Relationships:
        """The caller's roster ties for one request (computed lazily)."""
        district = bool(set(principal.roles) & set(self.settings.auth.district_roles))
        if person is not None and self.identity.merges:
            source, vendor_id = self.identity.canonical(person.entity, person.source, person.vendor_id)
            person = CallerPerson(person.entity, source, vendor_id)
        return Relationships(
            self.registry,
            person,
            district=district,
            clock=self.clock,
            grace_days=self.settings.policy.grace_days,
            identity=self.identity,
        )
