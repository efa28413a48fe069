"""How fresh a mirror is: what ``sources``, ``/healthz`` and ``extensions.freshness`` show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hub.model import Entity

__all__ = ["Freshness"]


@dataclass(slots=True)
class Freshness:
    """The sync status of one mirrored source, kept up to date by its sync.

    ``synced_at`` holds, per entity, when its data was last read from the
    vendor (full or delta); ``errors`` the last sync failure (data-free) of
    each entity still failing (``None``: the first sync as a whole), each
    cleared by that entity's next success, so one entity's success never
    hides another's failure; ``first_sync_done`` once every entity has been
    read in full once (or was found complete in the store at a restart);
    ``rows`` the rows held per entity (counts only).
    """

    synced_at: dict[Entity, dt.datetime] = field(default_factory=dict)
    errors: dict[Entity | None, str] = field(default_factory=dict)
    first_sync_done: bool = False
    rows: dict[Entity, int] = field(default_factory=dict)

    @property
    def last_error(self) -> str | None:
        """A failure still standing (the first sync's, else the first failing entity's), or ``None``."""
        if None in self.errors:
            return self.errors[None]
        failing = sorted((e.value, reason) for e, reason in self.errors.items() if e is not None)
        return failing[0][1] if failing else None

    def failed(self, entity: Entity | None, reason: str) -> None:
        """``entity``'s sync (``None``: the first sync) failed for ``reason``."""
        self.errors[entity] = reason

    def succeeded(self, entity: Entity | None) -> None:
        """``entity``'s sync (``None``: the first sync, which read every entity) succeeded."""
        if entity is None:
            self.errors.clear()
        else:
            self.errors.pop(entity, None)
            self.errors.pop(None, None)  # a sync after the first one ran: the first one is behind us

    def rows_by_entity(self) -> dict[str, int]:
        """Rows held per entity (those read so far during the first sync), by entity name."""
        return {entity.value: count for entity, count in sorted(self.rows.items(), key=lambda i: i[0].value)}

    @property
    def last_sync_at(self) -> dt.datetime | None:
        """When the most recent sync of any entity finished."""
        return max(self.synced_at.values()) if self.synced_at else None

    @property
    def oldest_sync_at(self) -> dt.datetime | None:
        """When the entity read longest ago was read: the age of the oldest data served."""
        return min(self.synced_at.values()) if self.synced_at else None

    def lag_seconds(self, now: dt.datetime) -> float | None:
        """Seconds since the oldest data served was read (``None`` before any sync)."""
        oldest = self.oldest_sync_at
        return None if oldest is None else max((now - oldest).total_seconds(), 0.0)
