"""In-memory tables of loaded records: indexed look-ups and cheap projection.

Each entity's records stay in file order in one list; ``id`` and every
filterable attribute get a ``value -> [positions]`` index built once at load
time, so a filtered fetch touches only matching rows. Positions in each index
list are ascending, which keeps results in file order without sorting the
common single-value case.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from operator import attrgetter

from hub.sdk import Record, filter_value, projector, visible

__all__ = ["DATE_FROM", "DATE_TO", "RecordTable"]

DATE_FROM = "date_from"
DATE_TO = "date_to"


class RecordTable:
    """The records of one entity with their indexes. Records here are never handed out."""

    def __init__(self, record_type: type[Record], records: list[Record], filters: Collection[str]) -> None:
        self.record_type = record_type
        self.records = records
        self.positions_by_id = {record.vendor_id: position for position, record in enumerate(records)}
        self.indexes: dict[str, dict[str, list[int]]] = {}
        for name in filters:
            if name not in (DATE_FROM, DATE_TO):
                self.indexes[name] = _index(records, name)
        self._by_date: list[tuple[dt.date, int]] | None = None
        if DATE_FROM in filters or DATE_TO in filters:
            dated = ((getattr(record, "date", None), position) for position, record in enumerate(records))
            self._by_date = sorted((day, position) for day, position in dated if day is not None)

    def select(
        self,
        ids: Sequence[str] | None,
        filters: Mapping[str, Sequence[str]],
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> Sequence[int]:
        """Positions, in file order, of the records matching every condition."""
        candidates: list[Sequence[int]] = []
        if ids is not None:
            positions_by_id = self.positions_by_id
            candidates.append(sorted({positions_by_id[i] for i in ids if i in positions_by_id}))
        for name, values in filters.items():
            index = self.indexes[name]
            if len(values) == 1:
                candidates.append(index.get(values[0], ()))
            else:
                # Tuple attributes put one record under several values: dedupe.
                candidates.append(sorted({p for value in values for p in index.get(value, ())}))
        dated = date_from is not None or date_to is not None
        if not candidates:
            if not dated:
                return range(len(self.records))
            return self._select_dates(date_from, date_to)
        candidates.sort(key=len)
        selected = candidates[0]
        for other in candidates[1:]:
            if not selected:
                break
            members = set(other)
            selected = [position for position in selected if position in members]
        if dated:
            records = self.records
            selected = [
                position
                for position in selected
                if _in_range(getattr(records[position], "date", None), date_from, date_to)
            ]
        return selected

    def narrow(
        self, positions: Sequence[int], visible_if: Sequence[tuple[str, Sequence[str]]]
    ) -> Sequence[int]:
        """The ``positions`` whose record matches at least one pair (see
        ``FetchRequest.visible_if``), through the indexes where there are some."""
        keep: set[int] = set()
        records = self.records
        for name, values in visible_if:
            if name == "vendor_id":
                keep.update(self.positions_by_id[v] for v in values if v in self.positions_by_id)
            elif name in self.indexes:
                index = self.indexes[name]
                for value in values:
                    keep.update(index.get(value, ()))
            else:
                pair = ((name, tuple(values)),)
                keep.update(p for p in positions if visible(records[p], pair))
        return [p for p in positions if p in keep]

    def _select_dates(self, date_from: dt.date | None, date_to: dt.date | None) -> list[int]:
        by_date = self._by_date or []
        start = 0 if date_from is None else bisect.bisect_left(by_date, (date_from, -1))
        end = len(by_date) if date_to is None else bisect.bisect_right(by_date, (date_to, len(self.records)))
        return sorted(position for _, position in by_date[start:end])

    def project(self, positions: Iterable[int], fields: frozenset[str]) -> list[Record]:
        """New records holding ``vendor_id`` and ``fields`` only; the rest keep their defaults."""
        project = projector(self.record_type, fields)
        records = self.records
        return [project(records[position]) for position in positions]


def _index(records: list[Record], name: str) -> dict[str, list[int]]:
    values = list(map(attrgetter(name), records))
    buckets: defaultdict[str | None, list[int]] = defaultdict(list)
    if any(type(value) is tuple for value in values):
        for position, value in enumerate(values):
            for item in dict.fromkeys(value or ()):
                buckets[filter_value(item)].append(position)
    elif all(value is None or type(value) is str for value in values):
        for position, value in enumerate(values):
            buckets[value].append(position)
    else:
        # Filters compare values as the SDK renders them ("true", ISO dates).
        for position, value in enumerate(values):
            buckets[None if value is None else filter_value(value)].append(position)
    # A plain dict without the None bucket: looking up an absent value never adds it.
    return {value: positions for value, positions in buckets.items() if value is not None}


def _in_range(value: dt.date | None, date_from: dt.date | None, date_to: dt.date | None) -> bool:
    if value is None:
        return False
    return (date_from is None or value >= date_from) and (date_to is None or value <= date_to)
