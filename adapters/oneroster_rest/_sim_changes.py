"""The simulated district over time: what changed between two reads of the CSV
folder, stamped the way a OneRoster 1.1/1.2 provider stamps it.

- A row whose object differs from the previous read (or is new) gets a new
  ``dateLastModified``; an unchanged row keeps the one it was served with.
- A row gone from the files is served on as ``status: "tobedeleted"`` with a
  new ``dateLastModified`` for ``keep_deleted`` seconds, then dropped (the
  spec lets a provider forget deleted objects; delta readers must see them first).
- Stamps only move forward: each is later than every ``dateLastModified``
  served before, even when the files carry dates past the clock (generated
  districts do), so ``filter=dateLastModified>'<last seen>'`` never misses one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from adapters.oneroster_rest._filter import instant
from adapters.oneroster_rest._sim_data import SimulatedDistrict
from hub.sdk import StampClock

__all__ = ["ChangingDistrict", "stamp_text"]

Json = dict[str, Any]
_DELETED = "tobedeleted"


def stamp_text(moment: dt.datetime) -> str:
    """``moment`` as a ``dateLastModified`` value: UTC, milliseconds, ``Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _by_id(objects: Iterable[Json]) -> dict[str, Json]:
    return {str(obj["sourcedId"]): obj for obj in objects}


def _latest(district: SimulatedDistrict) -> dt.datetime:
    moments = (
        moment
        for objects in district.collections.values()
        for obj in objects
        if (moment := instant(str(obj.get("dateLastModified", "")))) is not None
    )
    return max(moments, default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


@dataclass
class ChangingDistrict:
    """The district a simulator serves, updated from fresh reads of its files.

    ``served`` holds the objects with their stamps and the deleted rows still
    kept; ``loaded`` is the last read as it came from the files, which the
    next read is compared with.
    """

    loaded: SimulatedDistrict
    keep_deleted: float = 86_400.0
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    served: SimulatedDistrict = field(init=False)
    _deleted_at: dict[tuple[str, str], dt.datetime] = field(init=False, default_factory=dict)
    _stamps: StampClock = field(init=False)

    def __post_init__(self) -> None:
        self.served = self.loaded
        self._stamps = StampClock(_latest(self.loaded), self.clock)

    def _stamp(self) -> str:
        return stamp_text(self._stamps.next())

    def update(self, fresh: SimulatedDistrict) -> None:
        """Serve ``fresh`` (a new read of the files), stamping what changed since the last read."""
        stamp = self._stamp()
        now = self.clock()
        collections: dict[str, list[Json]] = {}
        for key, objects in fresh.collections.items():
            collections[key] = self._merge(key, objects, stamp, now)
        served_ids = {key: _by_id(objects) for key, objects in collections.items()}
        users = served_ids.get("users", {})
        was_student = {str(obj["sourcedId"]) for obj in self.served.students}
        was_teacher = {str(obj["sourcedId"]) for obj in self.served.teachers}
        is_student = {str(obj["sourcedId"]) for obj in fresh.students}
        is_teacher = {str(obj["sourcedId"]) for obj in fresh.teachers}
        self.loaded = fresh
        self.served = SimulatedDistrict(
            fresh.version,
            collections,
            students=self._people(users, is_student, was_student),
            teachers=self._people(users, is_teacher, was_teacher),
        )

    def _people(self, users: dict[str, Json], now_in: set[str], was_in: set[str]) -> list[Json]:
        # A deleted student is still listed under /students (as tobedeleted):
        # a delta reader of /students must learn of it there.
        return [
            obj
            for user_id, obj in users.items()
            if user_id in now_in or (user_id in was_in and ("users", user_id) in self._deleted_at)
        ]

    def _merge(self, key: str, objects: list[Json], stamp: str, now: dt.datetime) -> list[Json]:
        before = _by_id(self.loaded.collections.get(key, ()))
        served = _by_id(self.served.collections.get(key, ()))
        merged: list[Json] = []
        present: set[str] = set()
        for obj in objects:
            sourced_id = str(obj["sourcedId"])
            present.add(sourced_id)
            self._deleted_at.pop((key, sourced_id), None)
            previous = before.get(sourced_id)
            if previous is not None and previous == obj and sourced_id in served:
                merged.append(served[sourced_id])
            else:
                merged.append(obj | {"dateLastModified": stamp})
        for sourced_id, obj in served.items():
            if sourced_id in present:
                continue
            deleted_at = self._deleted_at.get((key, sourced_id))
            if deleted_at is None:
                self._deleted_at[(key, sourced_id)] = now
                merged.append(obj | {"status": _DELETED, "dateLastModified": stamp})
            elif (now - deleted_at).total_seconds() < self.keep_deleted:
                merged.append(obj)
            else:
                del self._deleted_at[(key, sourced_id)]
        return merged

    def expired(self) -> bool:
        """Whether a deleted row has been kept for ``keep_deleted`` (``update`` then drops it)."""
        if not self._deleted_at:
            return False
        oldest = min(self._deleted_at.values())
        return (self.clock() - oldest).total_seconds() >= self.keep_deleted
