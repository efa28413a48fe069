"""The mirror in the hub's database: write what a sync read, answer what the hub asks.

Every write runs in one transaction (on SQLite with the write lock taken at
``BEGIN``), so a reader sees a source's entity before or after a sync, never
half of one, and raises the entity's ``version``. Answers come from this
process's copy of the rows in memory (:mod:`hub.mirror.held`) once it is
loaded, from the tables before (and always with ``in_memory=False``). Works
on SQLite (aiosqlite) and PostgreSQL (asyncpg).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.mirror.codec import is_storable, link_items, record_builder, row_values
from hub.mirror.held import HeldCopies
from hub.mirror.memory import HeldEntity
from hub.mirror.query import fetch_rows
from hub.mirror.tables import MIRROR_LINK, MIRROR_STATE, entity_table, is_linked
from hub.model import RECORD_TYPES, Entity, Record, data_fields
from hub.sdk import FetchRequest, FetchResult
from hub.store import write_transaction

log = logging.getLogger("homeroom.mirror")

__all__ = ["EntityState", "MirrorStore", "WriteCounts"]

# Rows per statement: well under SQLite's and asyncpg's bound-parameter limits.
_CHUNK = 500
# Rows per batch when a copy is loaded into memory: other tasks run between batches.
_LOAD_BATCH = 2_000
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class WriteCounts:
    """What one write did: rows written (inserted or updated) and rows deleted."""

    written: int = 0
    deleted: int = 0


@dataclass(frozen=True, slots=True)
class EntityState:
    """The sync state of one entity of one source (``mirror_state``)."""

    entity: Entity
    last_full_sync: dt.datetime | None = None
    last_delta_sync: dt.datetime | None = None
    watermark: str | None = None
    rows: int | None = None
    last_error: str | None = None
    fields: str | None = None  # JSON list of the attributes the last full read stored
    resync_requested: dt.datetime | None = None
    version: int = 0  # raised by every write of the entity's rows

    @property
    def last_sync(self) -> dt.datetime | None:
        """The later of the last full and delta sync."""
        times = [t for t in (self.last_full_sync, self.last_delta_sync) if t is not None]
        return max(times) if times else None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _unique(source: str, entity: Entity, records: Sequence[Record]) -> list[Record]:
    """``records`` once per vendor id (the last one given wins), without those
    whose id no database can hold as a key (a NUL, an unpaired surrogate):
    they are left out and counted in the log, never quoted."""
    by_id = {record.vendor_id: record for record in records}
    kept = [record for vendor_id, record in by_id.items() if is_storable(vendor_id)]
    if len(kept) < len(by_id):
        log.warning(
            "source %s: %s: %d records left out of the mirror: their id holds a NUL or an unpaired surrogate",
            source,
            entity.value,
            len(by_id) - len(kept),
        )
    return kept


class MirrorStore:
    """The mirror tables of every source, on ``engine`` (which the store disposes in :meth:`aclose`).

    ``in_memory``: answer from this process's copy of the rows (the default);
    off, every fetch is a query of the tables. ``on_change``: see the attribute.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        in_memory: bool = True,
        on_change: Callable[[str, Entity, Sequence[Record], Sequence[str]], None] | None = None,
        on_commit: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.on_change = on_change
        self.on_commit = on_commit
        """Told the source of each committed write (the hub's other processes then follow it)."""
        self._following: asyncio.Lock | None = None
        """Told, after each committed write, which rows of which entity it added or
        changed, as written (a full read's are known when the copy is in memory),
        and the ids of those it deleted."""
        self._analyzed: dict[str, int] = {}
        """Rows per table when this process last had the database measure it."""
        self.held = HeldCopies(self._load, self._read_rows) if in_memory else None

    # -- writes --

    async def replace_all(
        self, source: str, entity: Entity, records: Sequence[Record], fields: frozenset[str], at: dt.datetime
    ) -> WriteCounts:
        """Make the mirror of ``source``'s ``entity`` exactly ``records`` (a full read).

        Rows given are written with ``fields`` (every other attribute NULL), in
        the order given; rows not given are deleted. ``mirror_state`` records the
        full sync at ``at``.
        """
        table = entity_table(entity)
        attributes = data_fields(RECORD_TYPES[entity])
        unique = _unique(source, entity, records)
        async with write_transaction(self.engine) as conn:
            held = set(
                (await conn.execute(select(table.c.vendor_id).where(table.c.source == source))).scalars()
            )
            gone = sorted(held - {record.vendor_id for record in unique})
            await self._delete_rows(conn, source, entity, gone)
            rows = []
            for seq, record in enumerate(unique):
                values = {name: None for name in attributes}
                values.update(row_values(entity, record, sorted(fields)))
                rows.append({"source": source, "vendor_id": record.vendor_id, "seq": seq, **values})
            await self._upsert_rows(conn, table, rows, [*attributes, "seq"])
            await conn.execute(
                delete(MIRROR_LINK).where(
                    MIRROR_LINK.c.source == source, MIRROR_LINK.c.entity == entity.value
                )
            )
            await self._insert_links(conn, source, entity, unique, fields)
            versions = await self._bump(conn, source, entity)
            await self._write_state(
                conn, source, entity, last_full_sync=at, rows=len(unique), last_error=None
            )
        await self._measure(table.name, len(unique))
        self._committed(source)
        changed = await self.held.replaced(source, entity, versions) if self.held is not None else []
        self._changed(source, entity, changed, gone)
        return WriteCounts(written=len(unique), deleted=len(gone))

    async def upsert(
        self, source: str, entity: Entity, records: Sequence[Record], fields: frozenset[str], at: dt.datetime
    ) -> WriteCounts:
        """Write ``records`` (a delta): their ``fields`` are replaced, other
        attributes of rows already held are kept; new rows go after the others.
        ``mirror_state`` records the delta sync at ``at``."""
        table = entity_table(entity)
        unique = _unique(source, entity, records)
        attributes = sorted(fields)
        async with write_transaction(self.engine) as conn:
            last = (
                await conn.execute(select(func.max(table.c.seq)).where(table.c.source == source))
            ).scalar()
            start = 0 if last is None else int(last) + 1
            rows = [
                {
                    "source": source,
                    "vendor_id": record.vendor_id,
                    "seq": start + i,
                    **row_values(entity, record, attributes),
                }
                for i, record in enumerate(unique)
            ]
            await self._upsert_rows(conn, table, rows, attributes)
            linked = [name for name in attributes if is_linked(entity, name)]
            if linked:
                for ids in _chunks([record.vendor_id for record in unique]):
                    await conn.execute(
                        delete(MIRROR_LINK).where(
                            MIRROR_LINK.c.source == source,
                            MIRROR_LINK.c.entity == entity.value,
                            MIRROR_LINK.c.attribute.in_(linked),
                            MIRROR_LINK.c.vendor_id.in_(ids),
                        )
                    )
            await self._insert_links(conn, source, entity, unique, fields)
            versions = await self._bump(conn, source, entity)
            count = await self._count(conn, source, entity)
            await self._write_state(conn, source, entity, last_delta_sync=at, rows=count, last_error=None)
        ids = tuple(record.vendor_id for record in unique)
        self._committed(source)
        if self.held is not None:
            await self.held.written(source, entity, versions, ids)
        self._changed(source, entity, unique)
        return WriteCounts(written=len(unique))

    async def delete(self, source: str, entity: Entity, vendor_ids: Iterable[str]) -> int:
        """Delete those rows (and their link items); returns how many were held."""
        # An id no database can hold was never stored (see _unique).
        ids = sorted(vendor_id for vendor_id in set(vendor_ids) if is_storable(vendor_id))
        versions = (0, 0)
        async with write_transaction(self.engine) as conn:
            deleted = await self._delete_rows(conn, source, entity, ids)
            if deleted:
                versions = await self._bump(conn, source, entity)
                await self._write_state(conn, source, entity, rows=await self._count(conn, source, entity))
        if deleted:
            self._committed(source)
        if deleted and self.held is not None:
            await self.held.dropped(source, entity, versions, ids)
        if deleted:
            self._changed(source, entity, (), ids)
        return deleted

    async def erase(self, source: str, entity: Entity, attributes: Iterable[str]) -> None:
        """Forget ``attributes`` of every row of ``source``'s ``entity`` (columns
        set NULL, link items dropped): the policy no longer lets anyone read them."""
        names = sorted(set(attributes) & set(data_fields(RECORD_TYPES[entity])))
        if not names:
            return
        table = entity_table(entity)
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                update(table).where(table.c.source == source).values({name: None for name in names})
            )
            await conn.execute(
                delete(MIRROR_LINK).where(
                    MIRROR_LINK.c.source == source,
                    MIRROR_LINK.c.entity == entity.value,
                    MIRROR_LINK.c.attribute.in_(names),
                )
            )
            versions = await self._bump(conn, source, entity)
        self._committed(source)
        if self.held is not None:
            # Reloaded at once: no withdrawn attribute stays in memory either.
            await self.held.replaced(source, entity, versions)

    # -- reads --

    async def fetch(self, source: str, request: FetchRequest) -> FetchResult:
        """Answer ``request`` as an adapter would (see :func:`hub.mirror.query.fetch_rows`),
        from the copy in memory when it is loaded."""
        answer = self.held.answer(source, request.entity, request) if self.held is not None else None
        if answer is not None:
            return answer
        async with self.engine.connect() as conn:
            return await fetch_rows(conn, source, request)

    async def follow(self, source: str, states: Mapping[Entity, EntityState] | None = None) -> None:
        """Another process may have written: reload the copies ``states`` (the
        store's now, when not given) shows changed, and tell :attr:`on_change`
        which rows those writes changed or deleted. One follow at a time, so a
        change is told once, whoever asked (the sync's tick, the relay)."""
        if self.held is None:
            return
        if self._following is None:
            self._following = asyncio.Lock()
        async with self._following:
            if states is None:
                states = await self.state(source)
            versions = {entity: state.version for entity, state in states.items()}
            for entity, changed, gone in await self.held.follow(source, versions):
                self._changed(source, entity, changed, gone)

    async def state(self, source: str) -> dict[Entity, EntityState]:
        """The sync state of every entity of ``source`` held in the store."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(MIRROR_STATE).where(MIRROR_STATE.c.source == source))).all()
        out: dict[Entity, EntityState] = {}
        for row in rows:
            values = dict(row._mapping)
            values.pop("source")
            entity = Entity(values.pop("entity"))
            out[entity] = EntityState(entity=entity, **values)
        return out

    async def set_state(
        self,
        source: str,
        entity: Entity,
        *,
        last_full_sync: dt.datetime | None = _UNSET,
        last_delta_sync: dt.datetime | None = _UNSET,
        watermark: str | None = _UNSET,
        rows: int | None = _UNSET,
        last_error: str | None = _UNSET,
        fields: str | None = _UNSET,
        resync_requested: dt.datetime | None = _UNSET,
    ) -> None:
        """Change the given columns of ``source``'s ``entity`` state (others are kept)."""
        changes = {
            "last_full_sync": last_full_sync,
            "last_delta_sync": last_delta_sync,
            "watermark": watermark,
            "rows": rows,
            "last_error": last_error,
            "fields": fields,
            "resync_requested": resync_requested,
        }
        async with write_transaction(self.engine) as conn:
            await self._write_state(
                conn, source, entity, **{k: v for k, v in changes.items() if v is not _UNSET}
            )

    async def aclose(self) -> None:
        """Dispose of the engine."""
        await self.engine.dispose()

    # -- helpers --

    def _committed(self, source: str) -> None:
        if self.on_commit is not None:
            try:
                self.on_commit(source)
            except Exception as exc:  # the other processes follow the versions at their tick
                log.warning("mirror: a write not relayed (%s)", type(exc).__name__)

    def _changed(
        self, source: str, entity: Entity, records: Sequence[Record], deleted: Sequence[str] = ()
    ) -> None:
        if self.on_change is not None and (records or deleted):
            try:
                self.on_change(source, entity, records, deleted)
            except Exception as exc:  # a subscriber's trouble never fails a sync
                log.warning("mirror: change of %s not passed on (%s)", entity.value, type(exc).__name__)

    async def _bump(self, conn: AsyncConnection, source: str, entity: Entity) -> tuple[int, int]:
        """Raise the entity's version (in the write's transaction); returns it before and after.

        One statement (``version = version + 1 ... RETURNING``): two writers at once,
        under PostgreSQL's READ COMMITTED, each raise it, never both to the same value."""
        insert = self._insert(MIRROR_STATE).values(source=source, entity=entity.value, version=1)
        statement = insert.on_conflict_do_update(
            index_elements=[MIRROR_STATE.c.source, MIRROR_STATE.c.entity],
            set_={"version": MIRROR_STATE.c.version + 1},
        ).returning(MIRROR_STATE.c.version)
        after = int((await conn.execute(statement)).scalar_one())
        return after - 1, after

    async def _load(self, source: str, entity: Entity) -> HeldEntity:
        """Every row of ``source``'s ``entity`` with the version they are at."""
        table = entity_table(entity)
        attributes = tuple(data_fields(RECORD_TYPES[entity]))
        build = record_builder(entity, attributes)
        state = MIRROR_STATE.c
        async with self.engine.connect() as conn, conn.begin():
            # The version first: rows read after it are at least as new (a later
            # write only makes the copy reload once more).
            version_query = select(state.version).where(state.source == source, state.entity == entity.value)
            copy = HeldEntity(entity, int((await conn.execute(version_query)).scalar() or 0))
            columns = [table.c.vendor_id, *(table.c[name] for name in attributes), table.c.seq]
            query = select(*columns).where(table.c.source == source)
            result = await conn.stream(query.execution_options(yield_per=_LOAD_BATCH))
            async for rows in result.partitions(_LOAD_BATCH):
                copy.put([(row[-1], build(row)) for row in rows])
        copy.index(name for name in attributes if is_linked(entity, name))
        return copy

    async def _read_rows(self, source: str, entity: Entity, ids: Sequence[str]) -> list[tuple[int, Record]]:
        """The rows of ``ids`` held in the tables, as ``(seq, record)``."""
        table = entity_table(entity)
        attributes = tuple(data_fields(RECORD_TYPES[entity]))
        build = record_builder(entity, attributes)
        columns = [table.c.vendor_id, *(table.c[name] for name in attributes), table.c.seq]
        out: list[tuple[int, Record]] = []
        async with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(ids))):
                query = select(*columns).where(table.c.source == source, table.c.vendor_id.in_(chunk))
                out.extend((row[-1], build(row)) for row in (await conn.execute(query)).all())
        return out

    async def _measure(self, table: str, rows: int) -> None:
        """Have the database gather statistics on ``table`` and ``mirror_link``
        when ``table`` is new to this process or its size moved by a fifth.

        Without them SQLite picks the first index that fits: a class's scores
        were read through ``student_id`` (every score of 127 students) rather
        than ``section_id``, 13 ms against 0.4 ms. A bounded sample keeps it
        cheap (SQLite ``analysis_limit``; PostgreSQL samples by itself)."""
        before = self._analyzed.get(table)
        if before is not None and abs(rows - before) <= max(before, 1) // 5:
            return
        try:
            async with self.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    await conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                await conn.exec_driver_sql(f"ANALYZE {table}")  # a name of ours, never input
                if MIRROR_LINK.name not in self._analyzed:
                    await conn.exec_driver_sql(f"ANALYZE {MIRROR_LINK.name}")
                    self._analyzed[MIRROR_LINK.name] = 0
        except SQLAlchemyError as exc:
            # Statistics only speed reads up: the write they follow stands (tried again next time).
            log.warning("mirror: could not gather statistics on %s (%s)", table, type(exc).__name__)
            return
        self._analyzed[table] = rows

    def _insert(self, table: Table) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def _upsert_rows(
        self,
        conn: AsyncConnection,
        table: Table,
        rows: Sequence[dict[str, Any]],
        update_columns: Sequence[str],
    ) -> None:
        if not rows:
            return
        statement = self._insert(table)
        keys = [table.c.source, table.c.vendor_id]
        if update_columns:
            statement = statement.on_conflict_do_update(
                index_elements=keys, set_={name: statement.excluded[name] for name in update_columns}
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
        for chunk in _chunks(rows):
            await conn.execute(statement, list(chunk))

    async def _insert_links(
        self,
        conn: AsyncConnection,
        source: str,
        entity: Entity,
        records: Sequence[Record],
        fields: frozenset[str],
    ) -> None:
        linked = sorted(name for name in fields if is_linked(entity, name))
        if not linked:
            return
        rows = [
            {"source": source, "entity": entity.value, "vendor_id": r.vendor_id, "attribute": a, "value": v}
            for r in records
            for a, v in link_items(entity, r, linked)
        ]
        for chunk in _chunks(rows):
            await conn.execute(MIRROR_LINK.insert(), list(chunk))

    async def _delete_rows(
        self, conn: AsyncConnection, source: str, entity: Entity, ids: Sequence[str]
    ) -> int:
        table = entity_table(entity)
        deleted = 0
        for chunk in _chunks(ids):
            result = await conn.execute(
                delete(table).where(table.c.source == source, table.c.vendor_id.in_(chunk))
            )
            deleted += result.rowcount
            await conn.execute(
                delete(MIRROR_LINK).where(
                    MIRROR_LINK.c.source == source,
                    MIRROR_LINK.c.entity == entity.value,
                    MIRROR_LINK.c.vendor_id.in_(chunk),
                )
            )
        return deleted

    async def _count(self, conn: AsyncConnection, source: str, entity: Entity) -> int:
        table = entity_table(entity)
        query = select(func.count()).select_from(table).where(table.c.source == source)
        return int((await conn.execute(query)).scalar_one())

    async def _write_state(self, conn: AsyncConnection, source: str, entity: Entity, **changes: Any) -> None:
        statement = self._insert(MIRROR_STATE).values(source=source, entity=entity.value, **changes)
        keys = [MIRROR_STATE.c.source, MIRROR_STATE.c.entity]
        if changes:
            statement = statement.on_conflict_do_update(
                index_elements=keys, set_={name: statement.excluded[name] for name in changes}
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
        await conn.execute(statement)
