"""What an adapter declares it can do, so the hub only asks what it can answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.model import Entity


@dataclass(frozen=True, slots=True)
class EntitySupport:
    """How one entity can be fetched from a source.

    - ``fields``: record attributes the adapter can fill (it must really fill
      them when asked: the conformance kit checks).
    - ``filters``: attribute names usable in ``FetchRequest.filters``.
    - ``batch``: whether ``ids`` and filters accept many values in one call.
    - ``paging``: whether ``limit``/``cursor`` are honoured.
    - ``narrowing``: whether ``FetchRequest.visible_if`` is applied (on every
      attribute the record has): then rows the caller cannot see are not read.
    """

    fields: frozenset[str]
    filters: frozenset[str] = frozenset()
    batch: bool = True
    paging: bool = True
    narrowing: bool = False


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The entities an adapter serves. An entity absent here is never asked for."""

    entities: Mapping[Entity, EntitySupport] = field(default_factory=dict)

    def supports(self, entity: Entity) -> bool:
        """Whether the adapter serves ``entity`` at all."""
        return entity in self.entities
