"""What the hub asks of an adapter, and what the adapter answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hub.model import Entity, Record


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One question to one source.

    - ``entity``: which unified entity is wanted.
    - ``ids``: when set, only records with these vendor ids (a batch look-up).
    - ``filters``: attribute name -> accepted values (vendor ids for ``*_id``
      links). A record matches when, for every filter, its attribute (or, for a
      tuple attribute, any of its items) is one of the values. Date-range
      filters use the names ``date_from`` / ``date_to`` (ISO dates, inclusive).
      Values are compared as :func:`filter_value` renders them (``true``,
      ``false``, ISO dates). ``search`` (people only) holds one free-text term:
      a record matches when every word occurs in its names, ignoring case.
    - ``fields``: the record attributes the hub may receive. The policy gate
      already removed everything the caller may not read; an adapter must not
      fill any other attribute, and should push this projection to the vendor
      when the vendor supports it.
    - ``limit`` / ``cursor``: paging. ``limit=None`` means every matching record;
      ``cursor`` is whatever the adapter returned as ``next_cursor``.
    - ``visible_if``: ``(attribute, values)`` pairs of which the hub keeps only
      records matching at least one (``vendor_id`` names the record's own id;
      a tuple attribute matches when any item does). Empty: no such narrowing.
      It is how the hub pushes the caller's relations down into the read, so
      that rows the caller cannot see are not read at all. An adapter that
      declares :attr:`EntitySupport.narrowing` must apply it (see
      :func:`visible`); others ignore it: the hub checks every row anyway.
    """

    entity: Entity
    fields: frozenset[str]
    ids: tuple[str, ...] | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    limit: int | None = None
    cursor: str | None = None
    visible_if: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(slots=True)
class FetchResult:
    """An adapter's answer: records in the unified shape and paging state.

    ``next_cursor`` is ``None`` on the last page. ``total`` is the number of
    matching records when the vendor tells it cheaply, else ``None``.
    """

    records: Sequence[Record]
    next_cursor: str | None = None
    total: int | None = None


async def fetch_every_page(
    fetch: Callable[[FetchRequest], Awaitable[FetchResult]], request: FetchRequest
) -> list[Record]:
    """Every record ``request`` matches, following ``next_cursor`` to the end.

    ``fetch`` is an adapter's ``fetch`` (or anything with its signature).
    """
    rows: list[Record] = []
    while True:
        result = await fetch(request)
        rows.extend(result.records)
        if not result.next_cursor:
            return rows
        request = dataclasses.replace(request, cursor=result.next_cursor)


def filter_value(value: object) -> str:
    """The string a filter compares an attribute value with: ``true``/``false``
    for booleans, ISO 8601 for dates, ``str`` otherwise."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def matches(record: Record, filters: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether ``record`` satisfies every filter of a ``FetchRequest``.

    A helper for adapters that filter in memory (files, small vendors). Tuple
    attributes match when any item is accepted; ``date_from``/``date_to``
    compare the record's ``date`` attribute.
    """
    for name, accepted in filters.items():
        if name == "date_from":
            value = getattr(record, "date", None)
            if value is None or value.isoformat() < accepted[0]:
                return False
            continue
        if name == "date_to":
            value = getattr(record, "date", None)
            if value is None or value.isoformat() > accepted[0]:
                return False
            continue
        value = getattr(record, name, None)
        if isinstance(value, tuple):
            if not any(filter_value(item) in accepted for item in value):
                return False
        elif value is None or filter_value(value) not in accepted:
            return False
    return True


def visible(record: Record, visible_if: Sequence[tuple[str, Sequence[str]]]) -> bool:
    """Whether ``record`` matches at least one pair of a ``FetchRequest.visible_if``
    (an empty one matches everything): for adapters that filter in memory."""
    if not visible_if:
        return True
    for name, accepted in visible_if:
        value = record.vendor_id if name == "vendor_id" else getattr(record, name, None)
        if isinstance(value, tuple):
            if any(filter_value(item) in accepted for item in value):
                return True
        elif value is not None and filter_value(value) in accepted:
            return True
    return False
