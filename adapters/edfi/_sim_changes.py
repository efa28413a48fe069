"""The simulated ODS over time: change versions and tracked deletes, as an
Ed-Fi ODS/API's Change Queries keep them.

- Every item carries a change version (kept here, not in the item: the API
  does not serve it), taken from one counter for the whole ODS, so each
  insert, update and delete has a version greater than every one before.
  The first read of the files numbers its items 1, 2, ... in order.
- A fresh read of the files is compared with the previous one resource by
  resource, item by item (the ``id``, derived from the natural key, is the
  key): an item new or different gets the next version and a new
  ``_lastModifiedDate``; an unchanged item is served as it was.
- An item gone from the files is tracked as deleted: its ``id``, its natural
  key (``keyValues``) and the version of its delete, listed by ``/deletes``
  until :meth:`ChangeLog.purge` forgets it. An item whose key comes back is
  live again and its tombstone goes (the ODS would report the delete and the
  new item; a reader applying both in version order ends in the same place).
- A natural key changed in the files is a delete and a create: items are
  identified by their key, so the simulator never reports a key change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from adapters.edfi._identity import key_values
from adapters.edfi._sim_data import SimulatedDistrict
from hub.sdk import StampClock, compare

__all__ = ["ChangeLog", "Tombstone", "stamp_text"]

Json = dict[str, Any]


def stamp_text(moment: dt.datetime) -> str:
    """``moment`` as a ``_lastModifiedDate``: UTC, milliseconds, ``Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A deleted item as ``/deletes`` lists it."""

    id: str
    change_version: int
    key_values: Json

    def as_json(self) -> Json:
        """The ``/deletes`` row: ``id``, ``changeVersion`` and ``keyValues``."""
        return {"id": self.id, "changeVersion": self.change_version, "keyValues": self.key_values}


def _by_id(items: Iterable[Json]) -> dict[str, Json]:
    return {str(item["id"]): item for item in items}


@dataclass
class ChangeLog:
    """The district a simulator serves, with each item's change version and
    the deletes tracked so far.

    ``served`` holds the items as the API serves them (stamped);
    ``loaded`` is the last read as it came from the files, which the next
    read is compared with. ``newest`` is the last version handed out;
    ``oldest`` the lowest ``minChangeVersion`` that still sees every change.
    """

    loaded: SimulatedDistrict
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    served: SimulatedDistrict = field(init=False)
    newest: int = field(init=False, default=0)
    oldest: int = field(init=False, default=0)
    versions: dict[str, dict[str, int]] = field(init=False, default_factory=dict)
    deletes: dict[str, dict[str, Tombstone]] = field(init=False, default_factory=dict)
    _stamps: StampClock = field(init=False)

    def __post_init__(self) -> None:
        self.served = self.loaded
        self._stamps = StampClock(clock=self.clock)
        for resource, items in self.loaded.collections.items():
            numbered = self.versions.setdefault(resource, {})
            for item in items:
                numbered[str(item["id"])] = self._next()

    def _next(self) -> int:
        self.newest += 1
        return self.newest

    def version(self, resource: str, item_id: str) -> int:
        """The change version of a live item (0 when unknown)."""
        return self.versions.get(resource, {}).get(item_id, 0)

    def tombstones(self, resource: str) -> list[Tombstone]:
        """The deletes tracked for ``resource``, in version order."""
        return sorted(self.deletes.get(resource, {}).values(), key=lambda stone: stone.change_version)

    def update(self, fresh: SimulatedDistrict) -> int:
        """Serve ``fresh`` (a new read of the files), versioning what changed
        since the last read; returns how many items changed or went."""
        collections: dict[str, list[Json]] = {}
        touched = 0
        for resource in dict.fromkeys([*self.loaded.collections, *fresh.collections]):
            before = _by_id(self.loaded.collections.get(resource, ()))
            after = _by_id(fresh.collections.get(resource, ()))
            found = compare(before, after)
            touched += len(found.changed) + len(found.deleted)
            collections[resource] = self._merge(resource, after, found.changed)
            numbered = self.versions.setdefault(resource, {})
            tracked = self.deletes.setdefault(resource, {})
            for item_id in sorted(found.deleted):  # sorted: versions repeat from run to run
                numbered.pop(item_id, None)
                keys = key_values(resource, before[item_id], self.loaded.data_standard)
                tracked[item_id] = Tombstone(item_id, self._next(), keys)
        self.loaded = fresh
        self.served = SimulatedDistrict(fresh.data_standard, collections)
        return touched

    def _merge(self, resource: str, after: dict[str, Json], changed: frozenset[str]) -> list[Json]:
        served = _by_id(self.served.collections.get(resource, ()))
        numbered = self.versions.setdefault(resource, {})
        tracked = self.deletes.setdefault(resource, {})
        stamp = stamp_text(self._stamps.next()) if changed else ""
        items: list[Json] = []
        for item_id, item in after.items():
            if item_id in changed:
                numbered[item_id] = self._next()
                tracked.pop(item_id, None)
                items.append(item | {"_lastModifiedDate": stamp})
            else:
                items.append(served.get(item_id, item))
        return items

    def purge(self, below: int) -> None:
        """Forget the deletes tracked with a version below ``below``, as an ODS
        host cleaning its tracking tables does; ``oldest`` then says that a
        reader last synchronised before ``below`` has a gap."""
        for tracked in self.deletes.values():
            for item_id in [key for key, stone in tracked.items() if stone.change_version < below]:
                del tracked[item_id]
        self.oldest = max(self.oldest, below)
