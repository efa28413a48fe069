"""The simulated district over time, told the way Clever's Events API tells it.

Each fresh read of the CSV folder is compared with the previous one,
collection by collection (``hub.sdk.compare``), and every difference becomes
an event of the v3 Events API (``v3.0-events.yml`` in Clever's swagger-api)::

    {"id": "<24 hex, ascending>", "type": "users.updated", "created": "2026-...Z",
     "data": {"object": {... the user as /users serves it now ...}},
     "previous_attributes": {"name": {... before ...}}}

- Types are ``<collection>.created|updated|deleted`` over ``districts``,
  ``schools``, ``terms``, ``courses``, ``sections`` and ``users`` (v3 has no
  ``students.*``: a student is a user with a ``student`` role).
- A changed object is served from then on with a new ``last_modified``
  (where Clever's object has one), later than any served before
  (``hub.sdk.StampClock``); an unchanged one keeps the one it had.
- ``previous_attributes`` (updated events only, beside ``data`` as the spec
  puts it) holds the previous value of each top-level field that differs.
- A deleted object's event carries the object as it was last served.
- Events older than ``retention`` seconds (Clever keeps 30 days) are dropped;
  a client asking to start after one of them is told it is not found.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.clever._sim_data import CleverDistrict
from hub.sdk import StampClock, compare

__all__ = ["RECORD_TYPES", "RETENTION", "EventLog", "stamp_text"]

Json = dict[str, Any]

RECORD_TYPES = ("districts", "schools", "terms", "courses", "users", "sections")
"""The collections events are told for, parents first (a section's users exist before it)."""

RETENTION = 30 * 86_400.0
"""Clever keeps events for 30 days."""


def stamp_text(moment: dt.datetime) -> str:
    """``moment`` as Clever writes timestamps: UTC, milliseconds, ``Z``."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _moment(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _latest(district: CleverDistrict) -> dt.datetime:
    """The newest ``last_modified`` in the files: generated districts carry dates past the clock."""
    moments = (
        moment
        for objects in district.collections.values()
        for obj in objects
        if (moment := _moment(obj.get("last_modified"))) is not None
    )
    return max(moments, default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


def _by_id(objects: Iterable[Json]) -> dict[str, Json]:
    return {str(obj["id"]): obj for obj in objects}


def _stamped(obj: Json, stamp: str) -> Json:
    return obj | {"last_modified": stamp} if "last_modified" in obj else obj


def _previous(old: Mapping[str, Any], new: Mapping[str, Any]) -> Json:
    return {key: old.get(key) for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)}


def _concerns(obj: Mapping[str, Any], school: str) -> bool:
    """Whether ``obj`` is ``school``, or belongs to it (a section's, a user role's schools)."""
    holders: list[Mapping[str, Any]] = [obj]
    roles = obj.get("roles")
    if isinstance(roles, Mapping):
        holders.extend(role for role in roles.values() if isinstance(role, Mapping))
    if obj.get("id") == school:
        return True
    return any(
        holder.get("school") == school or school in (holder.get("schools") or ()) for holder in holders
    )


@dataclass
class EventLog:
    """The district a simulator serves and the events that led to it.

    ``loaded`` is the last read of the files as it came (what the next read is
    compared with); ``served`` the same objects with their stamps.
    """

    loaded: CleverDistrict
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    retention: float = RETENTION
    served: CleverDistrict = field(init=False)
    events: list[Json] = field(init=False, default_factory=list)
    _ids: list[str] = field(init=False, default_factory=list)
    _moments: list[dt.datetime] = field(init=False, default_factory=list)
    _count: int = field(init=False, default=0)
    _stamps: StampClock = field(init=False)

    def __post_init__(self) -> None:
        self.served = self.loaded
        self._stamps = StampClock(_latest(self.loaded), self.clock)

    def update(self, fresh: CleverDistrict) -> None:
        """Serve ``fresh`` (a new read of the files), telling what changed as events."""
        moment = self._stamps.next()
        stamp = stamp_text(moment)
        collections = dict(fresh.collections)
        for name in RECORD_TYPES:
            before = _by_id(self.loaded.collections.get(name, ()))
            after = _by_id(fresh.collections.get(name, ()))
            served = _by_id(self.served.collections.get(name, ()))
            found = compare(before, after)
            if not found:
                collections[name] = self.served.collections.get(name, [])
                continue
            merged: list[Json] = []
            for key, obj in after.items():
                if key not in found.changed:
                    merged.append(served[key])
                    continue
                new = _stamped(obj, stamp)
                merged.append(new)
                old = served.get(key)
                if old is None:
                    self._tell(f"{name}.created", new, moment)
                else:
                    self._tell(f"{name}.updated", new, moment, _previous(old, new))
            for key in sorted(found.deleted):
                self._tell(f"{name}.deleted", served[key], moment)
            collections[name] = merged
        self.loaded = fresh
        self.served = replace(
            fresh,
            collections=collections,
            by_id={name: _by_id(objects) for name, objects in collections.items()},
        )

    def _tell(self, kind: str, obj: Json, moment: dt.datetime, previous: Json | None = None) -> None:
        # Ordered like ObjectIDs: seconds first, then a counter (stamps never go back).
        self._count += 1
        event_id = f"{int(moment.timestamp()):08x}{self._count:016x}"
        event: Json = {"id": event_id, "type": kind, "created": stamp_text(moment), "data": {"object": obj}}
        if previous is not None:
            event["previous_attributes"] = previous
        self.events.append(event)
        self._ids.append(event_id)
        self._moments.append(moment)

    def expire(self) -> None:
        """Drop the events older than ``retention``."""
        cutoff = self.clock() - dt.timedelta(seconds=self.retention)
        keep = bisect.bisect_left(self._moments, cutoff)
        if keep:
            del self.events[:keep], self._ids[:keep], self._moments[:keep]

    def known(self, event_id: str) -> bool:
        """Whether ``event_id`` is an event still kept."""
        at = bisect.bisect_left(self._ids, event_id)
        return at < len(self._ids) and self._ids[at] == event_id

    def find(self, event_id: str) -> Json | None:
        """The kept event ``event_id``."""
        at = bisect.bisect_left(self._ids, event_id)
        return self.events[at] if at < len(self._ids) and self._ids[at] == event_id else None

    def select(self, record_types: Sequence[str], school: str | None) -> list[Json]:
        """The kept events of these record types (all when none) concerning ``school`` (any when ``None``)."""
        prefixes = tuple(f"{name}." for name in record_types)
        return [
            event
            for event in self.events
            if (not prefixes or str(event["type"]).startswith(prefixes))
            and (school is None or _concerns(event["data"]["object"], school))
        ]
