"""Per-request data access for resolvers: batched, scoped, and failure-tolerant.

Resolvers never call adapters directly. They ask this object for records by
id or by a link attribute; calls made in the same tick are collected by
DataLoaders into one ``FetchRequest`` per (source, entity, key), so a nested
query costs a number of upstream calls that does not grow with its rows. Every
record passes through :class:`Scope` before a resolver sees it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from hub.federation.identity import IdentityMap
from hub.federation.ids import encode_id
from hub.federation.registry import SourceRegistry
from hub.federation.scope import Scope
from hub.model import Enrollment, Entity, Record, of_type
from hub.sdk import FetchRequest, SourceError, fetch_every_page

__all__ = ["DataAccess", "Page", "SourceFailure"]

_EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """A source that failed during this request (reported, not fatal)."""

    source: str
    code: str
    reason: str


@dataclass(slots=True)
class Page:
    """One page of a root list: its edges, and whether more follow."""

    edges: list[RootEdge]
    has_next: bool
    end_cursor: str | None
    total: int | None


def stamp(entity: Entity, source: str, rows: Iterable[Record], identity: IdentityMap) -> None:
    """Give fresh rows their source, hub id and (when merged) other provenances."""
    if not identity.merges:
        prefix = entity.value
        for row in rows:
            row.source = source
            row.id = encode_id(prefix, source, row.vendor_id)
        return
    for row in rows:
        row.source = source
        row.id = identity.hub_id(entity, source, row.vendor_id)
        row.also_in = identity.other_keys(entity, source, row.vendor_id)


def encode_cursor(source: str, cursor: str, skip: int = 0) -> str:
    """An opaque GraphQL cursor: resume ``source`` at its ``cursor`` ("" = the
    start), then pass over ``skip`` visible rows."""
    return base64.urlsafe_b64encode(json.dumps([source, cursor, skip]).encode()).decode()


def decode_cursor(value: str) -> tuple[str, str, int] | None:
    """The (source, adapter cursor, skip) of a GraphQL cursor, or ``None`` when invalid."""
    try:
        source, cursor, skip = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (ValueError, binascii.Error, TypeError, UnicodeError):
        return None
    if isinstance(source, str) and isinstance(cursor, str) and isinstance(skip, int) and skip >= 0:
        return source, cursor, skip
    return None


class RootEdge:
    """An edge of a root list; its cursor is computed only when selected."""

    __slots__ = ("_skip", "_source", "_start", "node")

    def __init__(self, node: Record, source: str, start: str, skip: int) -> None:
        self.node = node
        self._source = source
        self._start = start
        self._skip = skip

    @property
    def cursor(self) -> str:
        return encode_cursor(self._source, self._start, self._skip)


@dataclass
class DataAccess:
    """Everything one request reads, through one scope and one set of loaders."""

    registry: SourceRegistry
    scope: Scope
    identity: IdentityMap = field(default_factory=IdentityMap)
    failures: list[SourceFailure] = field(default_factory=list)
    _by_id: dict[Entity, DataLoader[tuple[str, str], Record | None]] = field(default_factory=dict)
    _by_link: dict[tuple[Entity, str, bool], DataLoader[tuple[str, str], list[Record]]] = field(
        default_factory=dict
    )

    # -- reads used by resolvers --

    async def one(self, entity: Entity, source: str, vendor_id: str | None) -> Record | None:
        """The record ``vendor_id`` of ``source``, or ``None`` when absent or not visible."""
        if not vendor_id or source not in self.registry.adapters:
            return None
        # A merged record is read from its primary source (roster fields win there).
        return await self._id_loader(entity).load(self.identity.canonical(entity, source, vendor_id))

    async def many(self, entity: Entity, source: str, vendor_ids: Sequence[str]) -> list[Record]:
        """Visible records among ``vendor_ids`` of ``source``, in that order."""
        if source not in self.registry.adapters:
            return []
        return await self.many_keys(entity, [(source, v) for v in vendor_ids])

    async def many_keys(self, entity: Entity, keys: Sequence[tuple[str, str]]) -> list[Record]:
        """Visible records among ``(source, vendor id)`` keys, in that order,
        each merged record once."""
        if not keys:
            return []
        canonical = self.identity.canonical
        wanted = list(dict.fromkeys(canonical(entity, s, v) for s, v in keys if s in self.registry.adapters))
        found = await self._id_loader(entity).load_many(wanted)
        return [row for row in found if row is not None]

    async def linked(
        self, entity: Entity, attribute: str, source: str, value: str, *, scoped: bool = True
    ) -> list[Record]:
        """Records of ``entity`` whose ``attribute`` holds ``value``.

        ``scoped=False`` is for structural look-ups (enrollments used to find a
        section's students): those rows are never returned to the caller.
        """
        if source not in self.registry.adapters:
            return []
        return await self._link_loader(entity, attribute, scoped).load((source, value))

    async def linked_to(
        self, entity: Entity, attribute: str, row: Record, *, scoped: bool = True
    ) -> list[Record]:
        """Records of ``entity`` linked to ``row`` through ``attribute``, from
        whichever of the row's sources should answer: the LMS sources of a
        merged record for assignments and scores, the primary source for the
        rest (see ``[identity] lms_entities``)."""
        keys = [(row.source, row.vendor_id), *row.also_in]
        keys = [key for key in keys if attribute in self.registry.supported_filters(key[0], entity)]
        if len(keys) > 1:
            primary = self.identity.primary
            if entity in self.identity.lms_entities:
                secondary = [key for key in keys if key[0] != primary]
                keys = secondary or keys
            else:
                keys = [key for key in keys if key[0] == primary] or keys[:1]
        if not keys:
            return []
        if len(keys) == 1:
            return await self.linked(entity, attribute, keys[0][0], keys[0][1], scoped=scoped)
        seen: set[str] = set()
        out: list[Record] = []
        for source, vendor_id in keys:
            for found in await self.linked(entity, attribute, source, vendor_id, scoped=scoped):
                if found.id not in seen:
                    seen.add(found.id)
                    out.append(found)
        return out

    async def enrollments_of(self, attribute: str, row: Record) -> list[Enrollment]:
        """Enrollments linked to ``row`` (a section or a person) through
        ``attribute``: a structural look-up, never returned to the caller."""
        return of_type(await self.linked_to(Entity.ENROLLMENT, attribute, row, scoped=False), Enrollment)

    async def enrollments(self, attribute: str, source: str, value: str) -> list[Enrollment]:
        """Enrollments whose ``attribute`` (``section_id`` or ``person_id``) is
        ``value``: a structural look-up, never returned to the caller."""
        rows = await self.linked(Entity.ENROLLMENT, attribute, source, value, scoped=False)
        return of_type(rows, Enrollment)

    async def page(
        self,
        entity: Entity,
        *,
        first: int,
        after: str | None,
        filters: Mapping[str, tuple[str, ...]] | None = None,
        ids: tuple[str, ...] | None = None,
    ) -> Page:
        """A page of a root list, filled with visible rows (the adapter pages,
        the scope filters; more pages are read until the page is full)."""
        sources = self.registry.sources_for(entity)
        if not sources:
            return Page([], False, None, 0)
        source, cursor, skip = sources[0], "", 0
        if after:
            decoded = decode_cursor(after)
            if decoded is None or decoded[0] not in self.registry.adapters:
                raise ValueError("invalid cursor")
            source, cursor, skip = decoded
        filters = dict(filters or {})
        unsupported = sorted(set(filters) - self.registry.supported_filters(source, entity))
        if unsupported:
            raise ValueError(f"source '{source}' cannot filter {entity.value} by {', '.join(unsupported)}")
        fields = self.scope.fetch_fields(entity) & self.registry.supported_fields(source, entity)
        edges: list[RootEdge] = []
        total: int | None = None
        exact = True
        while len(edges) < first:
            request = FetchRequest(
                entity=entity,
                fields=fields,
                ids=ids,
                filters=filters,
                limit=first - len(edges) + skip,
                cursor=cursor or None,
            )
            try:
                result = await self.registry.fetch(source, request)
            except SourceError as exc:
                self._failed(exc)
                return Page(edges, False, None, None)
            fetched = list(result.records)
            stamp(entity, source, fetched, self.identity)
            admitted = await self.scope.admit(entity, fetched)
            exact = exact and self.scope.unfiltered(entity)
            if total is None:
                total = result.total
            room = first - len(edges)
            taken = admitted[skip : skip + room]
            edges.extend(RootEdge(row, source, cursor, skip + i + 1) for i, row in enumerate(taken))
            if skip + room < len(admitted):
                # The page filled up inside this batch: resume here next time.
                resume = encode_cursor(source, cursor, skip + room)
                return Page(edges, True, resume, total if exact else None)
            skip = 0
            cursor = result.next_cursor or ""
            if not cursor:
                break
        if cursor:
            end: str | None = encode_cursor(source, cursor)
        else:
            end = edges[-1].cursor if edges else None
        return Page(edges, bool(cursor), end, total if exact else None)

    # -- loaders --

    def _failed(self, exc: SourceError) -> None:
        failure = SourceFailure(exc.source, exc.code, exc.reason)
        if failure not in self.failures:
            self.failures.append(failure)

    def _id_loader(self, entity: Entity) -> DataLoader[tuple[str, str], Record | None]:
        loader = self._by_id.get(entity)
        if loader is None:

            async def load(keys: list[tuple[str, str]]) -> list[Record | None]:
                return await self._load_ids(entity, keys)

            loader = DataLoader(load_fn=load)
            self._by_id[entity] = loader
        return loader

    def _link_loader(
        self, entity: Entity, attribute: str, scoped: bool
    ) -> DataLoader[tuple[str, str], list[Record]]:
        key = (entity, attribute, scoped)
        loader = self._by_link.get(key)
        if loader is None:

            async def load(keys: list[tuple[str, str]]) -> list[list[Record]]:
                return await self._load_links(entity, attribute, scoped, keys)

            loader = DataLoader(load_fn=load)
            self._by_link[key] = loader
        return loader

    async def _fetch_all(self, source: str, request: FetchRequest) -> list[Record] | None:
        try:
            return await fetch_every_page(functools.partial(self.registry.fetch, source), request)
        except SourceError as exc:
            self._failed(exc)
            return None

    async def _load_ids(self, entity: Entity, keys: list[tuple[str, str]]) -> list[Record | None]:
        by_source: dict[str, list[str]] = defaultdict(list)
        for source, vendor_id in keys:
            by_source[source].append(vendor_id)
        found: dict[tuple[str, str], Record] = {}
        for source, vendor_ids in by_source.items():
            if entity not in self.registry.capabilities[source].entities:
                continue
            fields = self.scope.fetch_fields(entity) & self.registry.supported_fields(source, entity)
            request = FetchRequest(entity=entity, fields=fields, ids=tuple(dict.fromkeys(vendor_ids)))
            rows = await self._fetch_all(source, request)
            if rows is None:
                continue
            stamp(entity, source, rows, self.identity)
            for row in await self.scope.admit(entity, rows):
                found[(source, row.vendor_id)] = row
        return [found.get(key) for key in keys]

    async def _load_links(
        self, entity: Entity, attribute: str, scoped: bool, keys: list[tuple[str, str]]
    ) -> list[list[Record]]:
        by_source: dict[str, list[str]] = defaultdict(list)
        for source, value in keys:
            by_source[source].append(value)
        grouped: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for source, values in by_source.items():
            if attribute not in self.registry.supported_filters(source, entity):
                continue
            supported = self.registry.supported_fields(source, entity)
            extra = frozenset({attribute}) if attribute in supported else _EMPTY
            fields = (
                self.scope.fetch_fields(entity, extra) if scoped else structural_fields(entity, attribute)
            ) & supported
            request = FetchRequest(
                entity=entity, fields=fields, filters={attribute: tuple(dict.fromkeys(values))}
            )
            rows = await self._fetch_all(source, request)
            if rows is None:
                continue
            stamp(entity, source, rows, self.identity)
            wanted = set(values)
            # Group before admission: masking may clear the link attribute.
            pairs: list[tuple[Record, list[str]]] = []
            for row in rows:
                raw: Any = getattr(row, attribute, None)
                linked = [raw] if isinstance(raw, str) else list(raw or ())
                pairs.append((row, [v for v in linked if v in wanted]))
            visible = {id(r) for r in await self.scope.admit(entity, rows)} if scoped else None
            for row, linked_values in pairs:
                if visible is not None and id(row) not in visible:
                    continue
                for value in linked_values:
                    grouped[(source, value)].append(row)
        return [grouped.get(key, []) for key in keys]


_STRUCTURAL: dict[Entity, frozenset[str]] = {
    Entity.ENROLLMENT: frozenset({"section_id", "person_id", "role", "begin_date", "end_date", "school_id"}),
}


def structural_fields(entity: Entity, attribute: str) -> frozenset[str]:
    """Attributes read for structural look-ups (never disclosed)."""
    return _STRUCTURAL.get(entity, _EMPTY) | {attribute}
