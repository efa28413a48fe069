"""Per-request data access for resolvers: batched, scoped, and failure-tolerant.

Resolvers never call adapters directly. They ask this object for records by
id or by a link attribute; calls made in the same tick are collected by
DataLoaders into one ``FetchRequest`` per (source, entity, key), so a nested
query costs a number of upstream calls that does not grow with its rows. Every
record passes through :class:`Scope` before a resolver sees it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from hub.federation.identity import IdentityMap
from hub.federation.ids import encode_id
from hub.federation.paging import Resume, ResumeHints, decode_cursor, encode_cursor, question_key
from hub.federation.registry import SourceRegistry
from hub.federation.relations import NO_ONE
from hub.federation.scope import Admission, Decided, Scope, relations_to_record
from hub.model import RECORD_TYPES, Enrollment, Entity, Record, of_type
from hub.sdk import NAME_ATTRIBUTES, FetchRequest, SourceError, fetch_every_page, name_matches

__all__ = ["DataAccess", "Page", "SourceFailure"]

_EMPTY: frozenset[str] = frozenset()
Filters = tuple[tuple[str, tuple[str, ...]], ...]


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


class RootEdge:
    """An edge of a root list; its cursor names its row (see :mod:`hub.federation.paging`)."""

    __slots__ = ("_source", "node")

    def __init__(self, node: Record, source: str) -> None:
        self.node = node
        self._source = source

    @property
    def cursor(self) -> str:
        return encode_cursor(self._source, self.node.vendor_id)


@dataclass
class DataAccess:
    """Everything one request reads, through one scope and one set of loaders."""

    registry: SourceRegistry
    scope: Scope
    identity: IdentityMap = field(default_factory=IdentityMap)
    # Where root lists resume in their sources (shared by the hub's requests),
    # keyed per caller: ``subject``.
    hints: ResumeHints | None = None
    subject: str = ""
    failures: list[SourceFailure] = field(default_factory=list)
    _by_id: dict[Entity, DataLoader[tuple[str, str], Record | None]] = field(default_factory=dict)
    _by_link: dict[tuple[Entity, str, bool, Filters], DataLoader[tuple[str, str], list[Record]]] = field(
        default_factory=dict
    )

    # -- reads used by resolvers --

    async def one(
        self, entity: Entity, source: str, vendor_id: str | None, *, disclose: bool = True
    ) -> Record | None:
        """The record ``vendor_id`` of ``source``, or ``None`` when absent or not visible.

        ``disclose=False`` (here and below) is for a resolver that returns
        only some of the rows: it calls :meth:`disclose` with those it returns.
        """
        if not vendor_id or source not in self.registry.adapters:
            return None
        # A merged record is read from its primary source (roster fields win there).
        row = await self._id_loader(entity).load(self.identity.canonical(entity, source, vendor_id))
        if disclose and row is not None:
            self.scope.disclose((row,))
        return row

    async def many(
        self, entity: Entity, source: str, vendor_ids: Sequence[str], *, disclose: bool = True
    ) -> list[Record]:
        """Visible records among ``vendor_ids`` of ``source``, in that order."""
        if source not in self.registry.adapters:
            return []
        return await self.many_keys(entity, [(source, v) for v in vendor_ids], disclose=disclose)

    async def many_keys(
        self, entity: Entity, keys: Sequence[tuple[str, str]], *, disclose: bool = True
    ) -> list[Record]:
        """Visible records among ``(source, vendor id)`` keys, in that order,
        each merged record once."""
        if not keys:
            return []
        canonical = self.identity.canonical
        wanted = list(dict.fromkeys(canonical(entity, s, v) for s, v in keys if s in self.registry.adapters))
        found = await self._id_loader(entity).load_many(wanted)
        rows = [row for row in found if row is not None]
        if disclose:
            self.scope.disclose(rows)
        return rows

    def disclose(self, rows: Iterable[Record]) -> None:
        """Note that ``rows`` leave in the response (see ``disclose=False``)."""
        self.scope.disclose(rows)

    async def linked(
        self,
        entity: Entity,
        attribute: str,
        source: str,
        value: str,
        *,
        scoped: bool = True,
        disclose: bool = True,
        narrow: Filters = (),
    ) -> list[Record]:
        """Records of ``entity`` whose ``attribute`` holds ``value``.

        ``scoped=False`` is for structural look-ups (enrollments used to find a
        section's students): those rows are never returned to the caller.
        ``narrow``: further filters (``date_from``/``date_to``) passed to the
        source where it supports them, to read fewer rows; the resolver still
        applies its own filter to what comes back.
        """
        if source not in self.registry.adapters:
            return []
        supported = self.registry.supported_filters(source, entity)
        narrow = tuple((name, values) for name, values in narrow if name in supported)
        rows = await self._link_loader(entity, attribute, scoped, narrow).load((source, value))
        if scoped and disclose:
            self.scope.disclose(rows)
        return rows

    async def linked_to(
        self,
        entity: Entity,
        attribute: str,
        row: Record,
        *,
        scoped: bool = True,
        disclose: bool = True,
        narrow: Filters = (),
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
            source, value = keys[0]
            return await self.linked(
                entity, attribute, source, value, scoped=scoped, disclose=disclose, narrow=narrow
            )
        seen: set[str] = set()
        out: list[Record] = []
        for source, vendor_id in keys:
            for found in await self.linked(
                entity, attribute, source, vendor_id, scoped=scoped, disclose=disclose, narrow=narrow
            ):
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

    async def may_read(self, entity: Entity, source: str, vendor_id: str, field_name: str) -> bool:
        """Whether the caller may read ``field_name`` of that record (decided
        from the record's relation, nothing of it disclosed): a filter through
        a link (a section's students) holds only where the link is readable."""
        if source not in self.registry.adapters:
            return False
        planned = self.scope.plan.relations_by_type.get(entity.value, {}).get(field_name, _EMPTY)
        if not planned:
            return False
        canonical = self.identity.canonical(entity, source, vendor_id)
        relations = await relations_to_record(
            self.scope.relationships, entity, canonical[0], canonical[1], planned, directory=True
        )
        return bool(relations & planned)

    async def page(
        self,
        entity: Entity,
        *,
        first: int,
        after: str | None,
        filters: Mapping[str, tuple[str, ...]] | None = None,
        ids: tuple[str, ...] | None = None,
        require: frozenset[str] = _EMPTY,
        search: str | None = None,
    ) -> Page:
        """A page of a root list: the visible rows after ``after``, in the
        source's order, with keyset cursors (see :mod:`hub.federation.paging`).

        ``require``: fields a row must be readable for (those a filter of the
        caller compares). ``search`` matches a row only on the names the
        caller may read of it. The page, its cursors, ``has_next`` and the
        total depend on visible rows only: one more visible row is looked for
        to say whether another page follows.
        """
        sources = self.registry.sources_for(entity)
        if not sources:
            return Page([], False, None, 0)
        source, after_key = sources[0], None
        if after:
            decoded = decode_cursor(after)
            if decoded is None or decoded[0] not in self.registry.adapters:
                raise ValueError("invalid cursor")
            source, after_key = decoded
        filters = dict(filters or {})
        if search is not None:
            filters["search"] = (search,)
        unsupported = sorted(set(filters) - self.registry.supported_filters(source, entity))
        if unsupported:
            raise ValueError(f"source '{source}' cannot filter {entity.value} by {', '.join(unsupported)}")
        # Relations first: the same upstream reads whether or not rows match.
        await self.scope.prepare(entity)
        supported = self.registry.supported_fields(source, entity)
        first_read = await self.scope.first_fields(entity) & supported
        hint_key = (
            question_key(self.subject, entity.value, source, filters, ids, after_key) if after_key else ""
        )
        hint = self.hints.get(hint_key) if after_key and self.hints is not None else None
        if after_key and hint is None and not await self._visible(source, entity, after_key):
            # Not a row this caller may see (hidden, absent or made up): one
            # answer, found without reading the list.
            raise ValueError("invalid cursor")
        scan = _Scan(after_key, hint)
        narrowed = await self._narrowing(source, entity)
        want = first + 1  # one more than the page: does another page follow?
        batch = max(want, 1)
        total: int | None = None
        scanned = 0  # rows read while looking for the cursor's row
        filled: set[int] = set()  # rows already read in full (for a search)
        collected: list[tuple[Record, Admission, Resume]] = []
        while len(collected) < want:
            request = FetchRequest(
                entity=entity,
                fields=first_read,
                ids=ids,
                filters=filters,
                limit=scan.index + batch,
                cursor=scan.cursor or None,
                visible_if=narrowed,
            )
            try:
                result = await self.registry.fetch(source, request)
            except SourceError as exc:
                self._failed(exc)
                return Page([], False, None, None)
            fetched = list(result.records)
            if not scan.verify(fetched):
                continue  # the hint is stale: read again from the start
            if total is None:
                total = result.total
            stamp(entity, source, fetched, self.identity)
            start = scan.index
            if scan.seeking is not None:
                scanned += len(fetched) - start
                if scanned > _MAX_SCAN:
                    break  # a cursor this far from any hint is refused below
            batch_rows = fetched[start:]
            if not batch_rows:
                await self.scope.same_work_for_nothing(entity, source)
            decided = await self.scope.decide(entity, batch_rows, require)
            if search is not None:
                decided = await self._searched(source, entity, request, decided, first_read, search, filled)
            positions = {id(row): i for i, row in enumerate(fetched)}
            for row, admission in decided:
                if scan.passing(row):
                    continue
                collected.append((row, admission, Resume(scan.cursor, positions[id(row)] + 1)))
                if len(collected) >= want:
                    break
            next_cursor = result.next_cursor or ""
            if not next_cursor or len(collected) >= want:
                break
            scan.advance(next_cursor)
            batch = min(batch * 2, _MAX_BATCH)
        if scan.seeking is not None:
            # The cursor's row is not among the rows this caller may see here
            # (a hand-made cursor, or the row changed): one answer for all cases.
            raise ValueError("invalid cursor")
        taken = collected[:first]
        decided_page = [(row, admission) for row, admission, _ in taken]
        unfilled = [pair for pair in decided_page if id(pair[0]) not in filled]
        if unfilled:
            kept = await self._fill(source, entity, request, unfilled, first_read)
            dropped = {id(row) for row, _ in unfilled} - {id(row) for row, _ in kept}
            decided_page = [pair for pair in decided_page if id(pair[0]) not in dropped]
        rows = self.scope.seal(entity, decided_page, first_read)
        self.scope.disclose(rows)
        edges = [RootEdge(row, source) for row in rows]
        if rows and self.hints is not None:
            # Where the page's last row stands in the source: the next page
            # starts there instead of reading from the start.
            last = rows[-1]
            resume = next(r for row, _, r in reversed(taken) if row is last)
            last_key = question_key(self.subject, entity.value, source, filters, ids, last.vendor_id)
            self.hints.put(last_key, resume)
        exact = self.scope.exact(entity, require) and search is None
        return Page(
            edges,
            len(collected) > first,
            edges[-1].cursor if edges else None,
            total if exact and total is not None else None,
        )

    async def _narrowing(self, source: str, entity: Entity) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The caller's relations pushed into the read, where the source can
        apply them (``EntitySupport.narrowing``): rows the caller cannot see
        are then never read at all. The hub decides every row all the same."""
        support = self.registry.capabilities[source].entities.get(entity)
        if support is None or not support.narrowing:
            return ()
        return await self.scope.visible_if(entity, source)

    async def _visible(self, source: str, entity: Entity, vendor_id: str) -> bool:
        """Whether that record exists and the caller may see it (nothing of it
        kept). An absent record costs the same upstream questions as a hidden
        one, so the time taken does not tell them apart."""
        scope = self.scope
        first_read = await scope.first_fields(entity) & self.registry.supported_fields(source, entity)
        rows = await self._fetch_all(source, FetchRequest(entity=entity, fields=first_read, ids=(vendor_id,)))
        if not rows:
            await scope.same_work_for_nothing(entity, source)
            return False
        stamp(entity, source, rows, self.identity)
        return bool(await scope.decide(entity, rows))

    async def _searched(
        self,
        source: str,
        entity: Entity,
        request: FetchRequest,
        decided: Decided,
        first_read: frozenset[str],
        term: str,
        filled: set[int],
    ) -> Decided:
        """Rows of ``decided`` whose names *the caller may read* match ``term``.

        The source searched every name; where the caller may read them all,
        its answer stands. Where it may read only some, those are fetched
        (with the rest of what the row's relation opens: ``filled``) and the
        search is checked again on them alone, so that a name the caller may
        not read cannot make a row match.
        """
        partial = [pair for pair in decided if not pair[1].readable >= _NAMES]
        if not partial:
            if self.scope.reads_some_names_only(entity):
                # The question a batch with such rows asks, asked of no one: the
                # work does not say whether a name the caller may not read matched.
                names = frozenset(
                    a for a in NAME_ATTRIBUTES if a in self.registry.supported_fields(source, entity)
                )
                await self._fetch_all(
                    source,
                    dataclasses.replace(
                        request, fields=first_read | names, ids=(NO_ONE,), limit=None, cursor=None
                    ),
                )
            return decided
        kept = await self._fill(source, entity, request, partial, first_read, names=True)
        filled.update(id(row) for row, _ in kept)
        matching = {
            id(row)
            for row, admission in kept
            if name_matches(row, term, [a for a in NAME_ATTRIBUTES if a in admission.readable])
        }
        partial_ids = {id(row) for row, _ in partial}
        return [pair for pair in decided if id(pair[0]) not in partial_ids or id(pair[0]) in matching]

    async def _fill(
        self,
        source: str,
        entity: Entity,
        request: FetchRequest,
        decided: Decided,
        first_read: frozenset[str],
        *,
        names: bool = False,
    ) -> Decided:
        """Fetch, per relation set, the attributes it opens, for just its rows
        (by id, within the first request's filters): no attribute is asked for
        a row whose relation does not let the caller read it. Rows the source
        no longer returns, or cannot return now, are dropped."""
        supported = self.registry.supported_fields(source, entity)
        groups: dict[frozenset[str], list[Record]] = {}
        for row, admission in decided:
            more = self.scope.to_fill(admission, first_read)
            if names:
                more |= _NAMES & admission.readable
            more &= supported
            if more:
                groups.setdefault(more | first_read, []).append(row)
        if not groups:
            return decided
        dropped: set[int] = set()
        for fields, rows in groups.items():
            ask = dataclasses.replace(
                request,
                fields=fields,
                ids=tuple(dict.fromkeys(row.vendor_id for row in rows)),
                limit=None,
                cursor=None,
            )
            found = await self._fetch_all(source, ask)
            by_id = {row.vendor_id: row for row in found or ()}
            added = fields - first_read
            for row in rows:
                fresh = by_id.get(row.vendor_id)
                if fresh is None:
                    dropped.add(id(row))
                    continue
                for attribute in added:
                    setattr(row, attribute, getattr(fresh, attribute))
        if not dropped:
            return decided
        return [(row, admission) for row, admission in decided if id(row) not in dropped]

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
        self, entity: Entity, attribute: str, scoped: bool, narrow: Filters = ()
    ) -> DataLoader[tuple[str, str], list[Record]]:
        key = (entity, attribute, scoped, narrow)
        loader = self._by_link.get(key)
        if loader is None:

            async def load(keys: list[tuple[str, str]]) -> list[list[Record]]:
                return await self._load_links(entity, attribute, scoped, keys, narrow)

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
            ids = tuple(dict.fromkeys(vendor_ids))
            for row in await self._read_ids(source, entity, ids):
                found[(source, row.vendor_id)] = row
        return [found.get(key) for key in keys]

    async def _read_ids(self, source: str, entity: Entity, ids: tuple[str, ...]) -> list[Record]:
        """Visible records among ``ids``, each read with what its relation opens."""
        scope = self.scope
        supported = self.registry.supported_fields(source, entity)
        first_read = await scope.first_fields(entity) & supported
        request = FetchRequest(entity=entity, fields=first_read, ids=ids)
        if not scope.decides_by_key(entity):
            request = dataclasses.replace(request, visible_if=await self._narrowing(source, entity))
            rows = await self._fetch_all(source, request)
            if rows is None:
                return []
            stamp(entity, source, rows, self.identity)
            decided = await self._fill(source, entity, request, await scope.decide(entity, rows), first_read)
            return scope.seal(entity, decided, first_read)
        # The key alone decides: decide before fetching, then ask each
        # relation set's rows for what it opens (rows with no relation are
        # never asked for).
        record_type = RECORD_TYPES[entity]
        keys = [record_type(vendor_id=vendor_id, source=source) for vendor_id in ids]
        groups: dict[frozenset[str], list[tuple[str, Admission]]] = {}
        for key, admission in await scope.decide(entity, keys):
            fields = (scope.to_fill(admission, first_read) | first_read) & supported
            groups.setdefault(fields, []).append((key.vendor_id, admission))
        out: list[Record] = []
        for fields, members in groups.items():
            admissions = dict(members)
            rows = await self._fetch_all(
                source, dataclasses.replace(request, fields=fields, ids=tuple(admissions))
            )
            if rows is None:
                continue
            stamp(entity, source, rows, self.identity)
            decided = [(row, admissions[row.vendor_id]) for row in rows if row.vendor_id in admissions]
            out.extend(scope.seal(entity, decided, first_read))
        return out

    async def _load_links(
        self,
        entity: Entity,
        attribute: str,
        scoped: bool,
        keys: list[tuple[str, str]],
        narrow: Filters = (),
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
            if scoped:
                first_read = await self.scope.first_fields(entity, extra) & supported
            else:
                first_read = structural_fields(entity, attribute) & supported
            request = FetchRequest(
                entity=entity,
                fields=first_read,
                filters={**dict(narrow), attribute: tuple(dict.fromkeys(values))},
                visible_if=await self._narrowing(source, entity) if scoped else (),
            )
            rows = await self._fetch_all(source, request)
            if rows is None:
                continue
            stamp(entity, source, rows, self.identity)
            wanted = set(values)
            # Group before sealing: masking may clear the link attribute.
            links: dict[int, list[str]] = {}
            for row in rows:
                raw: Any = getattr(row, attribute, None)
                linked = [raw] if isinstance(raw, str) else list(raw or ())
                links[id(row)] = [v for v in linked if v in wanted]
            if scoped:
                decided = await self._fill(
                    source, entity, request, await self.scope.decide(entity, rows), first_read
                )
                rows = self.scope.seal(entity, decided, first_read)
            for row in rows:
                for value in links[id(row)]:
                    grouped[(source, value)].append(row)
        return [grouped.get(key, []) for key in keys]


_STRUCTURAL: dict[Entity, frozenset[str]] = {
    Entity.ENROLLMENT: frozenset({"section_id", "person_id", "role", "begin_date", "end_date", "school_id"}),
}
_MAX_BATCH = 1000
# How far past the start a root list is read to find a cursor's row when no
# hint says where it is: beyond that the cursor is refused (start again), so a
# made-up cursor cannot make the hub read a whole source.
_MAX_SCAN = 10_000
_NAMES = frozenset(NAME_ATTRIBUTES)


def structural_fields(entity: Entity, attribute: str) -> frozenset[str]:
    """Attributes read for structural look-ups (never disclosed)."""
    return _STRUCTURAL.get(entity, _EMPTY) | {attribute}


class _Scan:
    """Where a root list is being read in its source, and the row to pass.

    Resuming after a cursor's row: from the hint, verified (the hinted row must
    be the cursor's row), or else from the start, passing visible rows until
    the cursor's row has gone by.
    """

    __slots__ = ("cursor", "hint", "index", "seeking")

    def __init__(self, after: str | None, hint: Resume | None) -> None:
        self.seeking = after
        self.hint = hint
        self.cursor = hint.cursor if hint is not None else ""
        self.index = hint.index if hint is not None else 0

    def verify(self, fetched: Sequence[Record]) -> bool:
        """False (and back to the start) when the hinted row is not there."""
        hint, self.hint = self.hint, None
        if hint is None:
            return True
        if len(fetched) >= hint.index and fetched[hint.index - 1].vendor_id == self.seeking:
            self.seeking = None
            return True
        self.cursor, self.index = "", 0
        return False

    def passing(self, row: Record) -> bool:
        """Whether ``row`` is at or before the cursor's row (not on the page)."""
        if self.seeking is None:
            return False
        if row.vendor_id == self.seeking:
            self.seeking = None
        return True

    def advance(self, cursor: str) -> None:
        self.cursor, self.index = cursor, 0
