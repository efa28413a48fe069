"""Clever's Events API as a change feed: which events concern which entity,
what the watermark holds, and how events fold into changed and deleted records.

Clever v3 tells every change to a district's data as an event (Clever's
``v3.0-events.yml``), oldest first, ids ascending, kept for 30 days::

    GET /v3.0/events?starting_after=<event id>&record_type=users&limit=1000
    {"data": [{"data": {"id": "...", "type": "users.updated", "created": "...Z",
                        "data": {"object": {...the user as /users serves it...}},
                        "previous_attributes": {"name": {...}}}}],
     "links": [{"rel": "next", "uri": "/v3.0/events?...&starting_after=..."}]}

Types are ``<record type>.created|updated|deleted``; v3's record types are
``districts``, ``schools``, ``terms``, ``courses``, ``sections`` and
``users`` (a student is a user with a ``student`` role, an enrollment a
member of a section's ``students``/``teachers``). Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.clever import _values as v
from adapters.clever._mapping import Json
from adapters.clever._routes import Shape
from hub.sdk import Entity, Record

__all__ = [
    "RECORD_TYPES",
    "RETENTION",
    "SHAPES",
    "Event",
    "Folded",
    "Mark",
    "parse_events",
]

log = logging.getLogger("homeroom.sources.clever")

RECORD_TYPES: dict[Entity, tuple[str, ...]] = {
    Entity.ORGANIZATION: ("districts", "schools"),
    Entity.ACADEMIC_SESSION: ("terms",),
    Entity.COURSE: ("courses",),
    Entity.SECTION: ("sections",),
    Entity.STUDENT: ("users",),
    Entity.TEACHER: ("users",),
    Entity.GUARDIAN: ("users",),
    Entity.ENROLLMENT: ("sections",),
}
"""The event record types whose objects hold each entity's records (every entity Clever serves)."""

SHAPES: dict[str, Shape] = {
    "districts": "district",
    "schools": "school",
    "terms": "term",
    "courses": "course",
    "sections": "section",
    "users": "user",
}
"""The object an event of each record type carries, named as the builders name it."""

RETENTION = dt.timedelta(days=29)
"""How long a feed that started before any event may wait for its first one:
Clever keeps events 30 days, and a day is left for clocks and Clever's purge."""

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_START = "start@"
_ACTIONS = frozenset({"created", "updated", "deleted"})


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a feed is: after the event ``after``, or, when the feed had no event
    yet, at its beginning as of ``started`` (every event there is newer)."""

    after: str | None = None
    started: dt.datetime | None = None

    def encode(self) -> str:
        """The watermark handed to the hub: the event id, or ``start@<ISO time>``."""
        if self.after is not None:
            return self.after
        moment = self.started or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return _START + moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @classmethod
    def decode(cls, watermark: str) -> Mark | None:
        """The mark of a watermark this adapter wrote, or ``None`` for anything else."""
        if watermark.startswith(_START):
            try:
                moment = dt.datetime.strptime(watermark[len(_START) :], "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                return None
            return cls(started=moment.replace(tzinfo=dt.UTC))
        return cls(after=watermark) if _ID.match(watermark) else None

    def expired(self, now: dt.datetime) -> bool:
        """Whether events newer than a beginning-of-feed mark may already be gone."""
        return self.started is not None and now - self.started >= RETENTION


@dataclass(frozen=True, slots=True)
class Event:
    """One event: its id, record type (``users``), action (``updated``), the
    object now, and the object before when Clever said what changed
    (``previous_attributes`` over the object; ``None`` when it did not)."""

    id: str
    record_type: str
    action: str
    object: Json
    previous: Json | None


def _event(item: Any) -> Event | None:
    body = item.get("data") if isinstance(item, Mapping) else None
    if not isinstance(body, Mapping):
        return None
    event_id, kind = v.text(body.get("id")), v.text(body.get("type"))
    record_type, _, action = (kind or "").partition(".")
    carried = body.get("data")
    obj = carried.get("object") if isinstance(carried, Mapping) else None
    if event_id is None or not isinstance(obj, Mapping) or action not in _ACTIONS:
        return None
    # The spec puts previous_attributes beside data; one inside data is read too
    # (the spec does not forbid it, and reading it costs nothing).
    before = body.get("previous_attributes")
    if not isinstance(before, Mapping) and isinstance(carried, Mapping):
        before = carried.get("previous_attributes")
    previous = {**obj, **before} if isinstance(before, Mapping) else None
    return Event(event_id, record_type, action, obj, previous)


def parse_events(items: Sequence[Any], source: str) -> tuple[list[Event], int]:
    """The events of a page, and how many of its items were not readable events
    (an action or shape this adapter does not know: the feed cannot vouch for them)."""
    events = [found for item in items if (found := _event(item)) is not None]
    skipped = len(items) - len(events)
    if skipped:
        log.warning("source %s: /events: %d malformed events", source, skipped)
    return events, skipped


Builder = Callable[[str, Json], Sequence[Record]]
"""This entity's records from an object of a record type (``users``), as ``fetch`` builds them."""


@dataclass
class Folded:
    """Events of one entity folded, in order, into the latest state of each record.

    - ``build`` makes this entity's records from an event's object (as
      ``fetch`` does); ``per_object``: the entity has one record per object
      (every one but enrollments, which are a section's members).
    - ``linked`` (optional) names, from an object of a record type, records
      of this entity it changes without changing their own objects: a
      contact's students, whose ``guardian_ids`` it is part of. Those land
      in ``touched``.

    A record that stops being built from its object (a user who lost the
    ``student`` role, a student who left a section) is ``deleted``. When
    Clever did not say what an update changed, a section's former members, and
    a contact's former students, cannot be known: ``complete`` turns false. A
    user updated out of this entity is then reported deleted (a no-op when it
    never was one).
    """

    build: Builder
    per_object: bool = True
    linked: Callable[[str, Json], Iterable[str]] | None = None
    records: dict[str, Record] = field(default_factory=dict)
    deleted: dict[str, None] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    complete: bool = True

    def take(self, event: Event) -> None:
        """Fold ``event`` in (events must come in the feed's order)."""
        kind = event.record_type
        if event.action == "deleted":
            now: list[Record] = []
            gone = _ids(self.build(kind, event.object))
        else:
            now = list(self.build(kind, event.object))
            previous = event.previous
            gone = _ids(self.build(kind, previous)) if previous is not None else self._unsaid(event, now)
        if self.linked is not None:
            self.touched.update(self.linked(kind, event.object))
            if event.previous is not None:
                self.touched.update(self.linked(kind, event.previous))
            elif event.action == "updated":
                self.complete = False
        for vendor_id in gone - _ids(now):
            self.records.pop(vendor_id, None)
            self.deleted[vendor_id] = None
        for record in now:
            self.records[record.vendor_id] = record
            self.deleted.pop(record.vendor_id, None)

    def _unsaid(self, event: Event, now: Sequence[Record]) -> set[str]:
        """What an event that does not say what it changed may have removed."""
        if event.action != "updated":
            return set()
        if not self.per_object:
            self.complete = False
            return set()
        object_id = v.text(event.object.get("id"))
        return {object_id} if not now and object_id is not None else set()


def _ids(records: Iterable[Record]) -> set[str]:
    return {record.vendor_id for record in records}
