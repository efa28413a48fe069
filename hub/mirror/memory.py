"""The mirror's rows held in memory, answering fetches without a database round trip.

The store's tables are the read model: durable, shared by the hub's
processes, the one copy syncs write. Each process also holds, per source and
entity, the rows exactly as the store returns them (:class:`HeldEntity`),
loaded on first use and kept in step with the store's own writes, and with
the writes of other processes by the entity's ``version`` in
``mirror_state``. A fetch answered here means what
:func:`hub.mirror.query.fetch_rows` means over the tables (a differential
test holds them to it): the same filters, ``visible_if`` pushed down through
indexes (rows the caller cannot see are never touched), the vendor's order,
offset cursors and totals.

Indexes are made per attribute when a request first filters on it and
maintained on every change after that: ``value -> vendor ids``, values as the
SDK renders them (``filter_value``), one entry per item for tuples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from hub.mirror.codec import column_values
from hub.mirror.query import MOST_VALUES, SPECIAL_FILTERS, fetch_offset, filter_day, next_cursor
from hub.mirror.tables import ColumnKind, attribute_kind
from hub.model import RECORD_TYPES, Entity, Record, data_fields
from hub.sdk import FetchRequest, FetchResult, filter_value, name_matches, projector

__all__ = ["HeldEntity"]

_EMPTY: frozenset[str] = frozenset()
_SHARED_LENGTH = 40
"""Text values up to this long are shared between rows (longer ones are rarely repeated)."""


class HeldEntity:
    """One source's rows of one entity, as the store held them at ``version``.

    ``put`` and ``drop`` change it; nothing here awaits, so a fetch sees a
    change whole or not at all. Records are never handed out: answers are
    projections.
    """

    def __init__(self, entity: Entity, version: int) -> None:
        self.entity = entity
        self.version = version
        self._type = RECORD_TYPES[entity]
        self._attributes = frozenset(data_fields(self._type))
        self._kinds: dict[str, ColumnKind] = {name: attribute_kind(entity, name) for name in self._attributes}
        self._records: dict[str, Record] = {}
        self._order: dict[str, int] = {}
        # One object per distinct short value (an id, a day) instead of
        # one per row: a copy of a class's year of attendance repeats each thousands of times.
        # Links and the day of a mark only: values that say nothing about a person
        # on their own (a name or a birth date shared here would outlive its row).
        self._shareable = tuple(
            name
            for name, kind in self._kinds.items()
            if (kind == "text" and name.endswith("_id")) or (kind == "date" and name == "date")
        )
        self._shared: dict[object, object] = {}
        self._indexes: dict[str, dict[str, set[str]]] = {}
        self._in_order: list[str] | None = None

    def __len__(self) -> int:
        return len(self._records)

    # -- changes --

    def put(self, rows: Iterable[tuple[int, Record]]) -> None:
        """Hold each ``(seq, record)``, replacing the row of the same id."""
        records, order, indexes = self._records, self._order, self._indexes
        shared, shareable = self._shared, self._shareable
        for seq, record in rows:
            vendor_id = record.vendor_id
            for name in shareable:
                value = getattr(record, name)
                if value is not None and (type(value) is not str or len(value) <= _SHARED_LENGTH):
                    setattr(record, name, shared.setdefault(value, value))
            old = records.get(vendor_id)
            for name, index in indexes.items():
                if old is not None:
                    _remove(index, self._keys(name, old), vendor_id)
                for key in self._keys(name, record):
                    index.setdefault(key, set()).add(vendor_id)
            records[vendor_id] = record
            order[vendor_id] = seq
        self._in_order = None

    def drop(self, vendor_ids: Iterable[str]) -> None:
        """Forget those rows (ids not held are ignored)."""
        for vendor_id in vendor_ids:
            old = self._records.pop(vendor_id, None)
            if old is None:
                continue
            del self._order[vendor_id]
            for name, index in self._indexes.items():
                _remove(index, self._keys(name, old), vendor_id)
        self._in_order = None

    def index(self, names: Iterable[str]) -> None:
        """Make the indexes of ``names`` now (the links queries follow), rather than
        on first use: made before the copy settles (see ``hub.mirror.held``), the
        collector never walks them."""
        for name in names:
            self._index(name)

    def changed_from(self, older: HeldEntity) -> list[Record]:
        """The rows new here or different from ``older``'s (never handed to a caller)."""
        before = older._records
        return [record for vendor_id, record in self._records.items() if before.get(vendor_id) != record]

    def gone_from(self, older: HeldEntity) -> list[str]:
        """The ids ``older`` held that are not held here (deleted since)."""
        now = self._records
        return [vendor_id for vendor_id in older._records if vendor_id not in now]

    @property
    def indexed(self) -> int:
        """How many attributes have an index."""
        return len(self._indexes)

    # -- answers --

    def answer(self, request: FetchRequest) -> FetchResult:
        """``request`` answered from the rows held (names already checked against
        the capabilities; an unknown one, or a value of the wrong shape, is a
        ``ValueError`` as over the tables)."""
        offset = fetch_offset(request.cursor)
        named = {*request.filters, *(name for name, _ in request.visible_if)} - {"vendor_id"}
        unknown = named - SPECIAL_FILTERS - self._attributes
        if unknown:
            raise ValueError(f"no such attribute: {', '.join(sorted(unknown))}")
        records = self._records
        sets: list[Collection[str]] = []
        if request.ids is not None:
            sets.append(records.keys() & set(request.ids))
        date_from = date_to = None
        term: str | None = None
        for name, accepted in request.filters.items():
            if name == "date_from":
                date_from = filter_day(accepted)
            elif name == "date_to":
                date_to = filter_day(accepted)
            elif name == "search":
                term = accepted[0] if accepted else None
            else:
                sets.append(self._holding(name, accepted))
        tests: list[Callable[[Record], bool]] = []
        if date_from is not None or date_to is not None:
            tests.append(lambda record: _in_range(getattr(record, "date", None), date_from, date_to))
        if request.visible_if:
            # The caller's relations pushed down: a row is considered when any pair
            # holds. Through the indexes (the union of the pairs' rows) unless that
            # union is much larger than the rows the other conditions chose: those
            # are then tested one by one.
            smallest = min((len(chosen) for chosen in sets), default=None)
            if smallest is not None and self._pairs_size(request.visible_if) > 2 * smallest:
                tests.append(self._visible_test(request.visible_if))
            else:
                union: set[str] = set()
                for name, values in request.visible_if:
                    union.update(self._holding(name, values))
                sets.append(union)
        test = _all(tests)
        if sets:
            chosen = _intersection(sets)
            ids = chosen if test is None else [i for i in chosen if test(records[i])]
            self._sort(ids)
        else:
            ids = self._in_vendor_order()
            if test is not None:
                ids = [i for i in ids if test(records[i])]
        if term:
            ids = [i for i in ids if name_matches(records[i], term)]
        total = len(ids)
        page = ids[offset:] if request.limit is None else ids[offset : offset + max(request.limit, 0)]
        project = projector(self._type, request.fields)
        out = [project(records[i]) for i in page]
        return FetchResult(out, next_cursor(offset, request.limit, len(out), total), total)

    # -- helpers --

    def _sort(self, ids: list[str]) -> None:
        """Into the vendor's order: by ``seq``, then id (as ``ORDER BY seq, vendor_id``).
        Two sorts, both in C (a stable sort by seq keeps the id order among equals)."""
        ids.sort()
        ids.sort(key=self._order.__getitem__)

    def _in_vendor_order(self) -> list[str]:
        if self._in_order is None:
            ordered = list(self._records)
            self._sort(ordered)
            self._in_order = ordered
        return self._in_order

    def _pairs_size(self, pairs: Sequence[tuple[str, Sequence[str]]]) -> int:
        """How many rows the pairs' index entries list (an upper bound of their union)."""
        size = 0
        for name, values in pairs:
            if name == "vendor_id":
                size += len(values)
            else:
                index = self._index(name)
                size += sum(len(index.get(key, _EMPTY)) for key in self._wanted_keys(name, values))
        return size

    def _visible_test(self, pairs: Sequence[tuple[str, Sequence[str]]]) -> Callable[[Record], bool]:
        """Whether a record holds one of ``pairs`` (see ``FetchRequest.visible_if``)."""
        wanted = [(name, self._wanted_keys(name, values), self._kinds.get(name)) for name, values in pairs]

        def holds(record: Record) -> bool:
            for name, values, kind in wanted:
                value: Any = getattr(record, name)
                if value is None:
                    continue
                if kind == "tuple":
                    if any(filter_value(item) in values for item in value):
                        return True
                elif (value if type(value) is str else _rendered(value)) in values:
                    return True
            return False

        return holds

    def _holding(self, name: str, accepted: Sequence[str]) -> Collection[str]:
        """The ids whose ``name`` (any item, for a tuple) is among ``accepted``."""
        if not accepted:
            return _EMPTY
        if name == "vendor_id":
            records = self._records
            return {value for value in accepted if value in records}
        keys = self._wanted_keys(name, accepted)
        index = self._index(name)
        if len(keys) == 1:
            (key,) = keys
            return index.get(key, _EMPTY)  # the index's own set: never changed by a reader
        out: set[str] = set()
        for key in keys:
            out.update(index.get(key, _EMPTY))
        return out

    def _wanted_keys(self, name: str, accepted: Sequence[str]) -> frozenset[str]:
        """The index keys ``accepted`` stands for, as the tables compare them:
        text as given, a number, date or flag by its value (``"-0.0"`` is 0);
        values no stored value renders as are dropped (see ``column_values``)."""
        kind = self._kinds.get(name)
        if name == "vendor_id" or kind in ("text", "tuple"):
            return frozenset(accepted)
        values = column_values(self.entity, name, accepted)
        if len(values) > MOST_VALUES:
            raise ValueError("too many values for one filter")
        return frozenset(_rendered(value) for value in values)

    def _index(self, name: str) -> dict[str, set[str]]:
        index = self._indexes.get(name)
        if index is None:
            index = {}
            for vendor_id, record in self._records.items():
                for key in self._keys(name, record):
                    index.setdefault(key, set()).add(vendor_id)
            self._indexes[name] = index
        return index

    def _keys(self, name: str, record: Record) -> Iterable[str]:
        value: Any = getattr(record, name)
        if value is None:
            return ()
        if self._kinds[name] == "tuple":
            return dict.fromkeys(filter_value(item) for item in value)
        return (value if type(value) is str else _rendered(value),)


def _rendered(value: Any) -> str:
    """A stored value as an index key: ``filter_value``, with -0.0 as 0.0 (a database compares them equal)."""
    return filter_value(value + 0.0 if type(value) is float else value)


def _all(tests: list[Callable[[Record], bool]]) -> Callable[[Record], bool] | None:
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda record: first(record) and second(record)
    return lambda record: all(test(record) for test in tests)


def _intersection(sets: list[Collection[str]]) -> list[str]:
    """The ids in every one of ``sets`` (walking the smallest)."""
    smallest, *others = sorted(sets, key=len)
    if not others:
        return list(smallest)
    return [i for i in smallest if all(i in other for other in others)]


def _remove(index: dict[str, set[str]], keys: Iterable[str], vendor_id: str) -> None:
    for key in keys:
        ids = index.get(key)
        if ids is not None:
            ids.discard(vendor_id)
            if not ids:
                del index[key]


def _in_range(value: dt.date | None, date_from: dt.date | None, date_to: dt.date | None) -> bool:
    if value is None:
        return False
    return (date_from is None or value >= date_from) and (date_to is None or value <= date_to)
