"""An adapter over records held in memory: for tests of the hub, and for
integrators who want to try the hub with hand-made records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.model import ENTITY_OF
from hub.sdk import (
    Capabilities,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    Record,
    UnsupportedRequest,
    data_fields,
    matches,
    visible,
)


@dataclass
class MemoryAdapter:
    """Serves the given records; filters on any attribute; pages by offset.

    ``requests`` records every request, so tests can assert what the hub asked.
    """

    name: str
    records: Iterable[Record] = ()
    requests: list[FetchRequest] = field(default_factory=list)
    _by_entity: dict[Entity, list[Record]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for record in self.records:
            self._by_entity.setdefault(ENTITY_OF[type(record)], []).append(record)

    def capabilities(self) -> Capabilities:
        entities = {}
        for entity, rows in self._by_entity.items():
            names = frozenset(data_fields(type(rows[0])))
            entities[entity] = EntitySupport(
                fields=names, filters=names | {"date_from", "date_to"}, narrowing=True
            )
        return Capabilities(entities)

    async def open(self) -> LoadReport:
        return LoadReport(counts={e.value: len(rows) for e, rows in self._by_entity.items()})

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.requests.append(request)
        rows = self._by_entity.get(request.entity)
        if rows is None:
            raise UnsupportedRequest(self.name, f"no {request.entity.value} here")
        wanted = set(request.ids) if request.ids is not None else None
        found = [
            r
            for r in rows
            if (wanted is None or r.vendor_id in wanted)
            and matches(r, request.filters)
            and visible(r, request.visible_if)
        ]
        start = int(request.cursor or 0)
        end = len(found) if request.limit is None else start + request.limit
        page = found[start:end]
        fields = sorted(request.fields)
        out = [type(r)(vendor_id=r.vendor_id, **{f: getattr(r, f) for f in fields}) for r in page]
        return FetchResult(out, str(end) if end < len(found) else None, len(found))

    async def aclose(self) -> None:
        return None
