"""The running hub: everything a request needs that outlives the request."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from hub.auth import DevSigner, Principal
from hub.federation.clock import Clock
from hub.federation.ids import decode_id
from hub.federation.registry import SourceRegistry
from hub.federation.relations import CallerPerson, Relationships
from hub.model import Entity
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
    signers: list[DevSigner] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    ready: bool = False
    # sourcedId -> roster person: ids only, never personal fields.
    _people: dict[str, CallerPerson | None] = field(default_factory=dict)

    async def caller_person(self, principal: Principal) -> CallerPerson | None:
        """The roster person a principal is, from its hub id or sourcedId."""
        if principal.person_id:
            decoded = decode_id(principal.person_id)
            if decoded and decoded.entity in PERSON_ENTITIES and decoded.source in self.registry.adapters:
                return CallerPerson(decoded.entity, decoded.source, decoded.vendor_id)
            return None
        if not principal.sourced_id:
            return None
        if principal.sourced_id in self._people:
            return self._people[principal.sourced_id]
        found = await self._find_person(principal.sourced_id)
        self._people[principal.sourced_id] = found
        return found

    async def _find_person(self, sourced_id: str) -> CallerPerson | None:
        for entity in PERSON_ENTITIES:
            for source in self.registry.sources_for(entity):
                request = FetchRequest(entity=entity, fields=frozenset(), ids=(sourced_id,))
                try:
                    result = await self.registry.fetch(source, request)
                except SourceError:
                    continue
                if result.records:
                    return CallerPerson(entity, source, sourced_id)
        return None

    def relationships(self, principal: Principal, person: CallerPerson | None) -> Relationships:
        """The caller's roster ties for one request (computed lazily)."""
        district = bool(set(principal.roles) & set(self.settings.auth.district_roles))
        return Relationships(
            self.registry,
            person,
            district=district,
            clock=self.clock,
            grace_days=self.settings.policy.grace_days,
        )
