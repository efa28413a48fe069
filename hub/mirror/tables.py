"""The read model's tables: one per entity, the link items, and the sync state.

SQLAlchemy Core tables in the store's metadata, so the migrations-agree test
of the store covers them (they are created by migration ``0003``, never by
``create_all``). Each entity table has ``(source, vendor_id)`` as primary key,
``seq`` (the vendor's order, so a mirrored source pages like the vendor) and
one nullable column per scalar attribute of the unified record; tuple
attributes are JSON text. ``mirror_link`` holds one row per item of every
link and tuple attribute, indexed on ``(source, entity, attribute, value)``:
filters on them are answered through it.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from hub.model import RECORD_TYPES, Entity, data_fields
from hub.store.tables import metadata

__all__ = [
    "MIRROR_LINK",
    "MIRROR_STATE",
    "MIRROR_SYNCER",
    "ColumnKind",
    "UtcDateTime",
    "attribute_kind",
    "entity_table",
    "is_linked",
    "table_name",
]

ColumnKind = typing.Literal["text", "bool", "float", "date", "datetime", "tuple"]


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp kept in UTC and always read back timezone-aware (SQLite keeps
    no offset: without this a mirrored answer would carry naive times)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        utc = aware.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


_SOURCE = String(128)
_VENDOR_ID = String(512)
_ENTITY = String(64)

_TYPES: dict[ColumnKind, TypeEngine[Any]] = {
    "text": Text(),
    "bool": Boolean(),
    "float": Float(),
    "date": Date(),
    "datetime": UtcDateTime(),
    "tuple": Text(),
}


def table_name(entity: Entity) -> str:
    """``mirror_`` and the entity's snake_case name (``mirror_attendance_event``)."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in entity.value).lstrip("_")
    return f"mirror_{snake}"


@cache
def _hints(entity: Entity) -> dict[str, Any]:
    return typing.get_type_hints(RECORD_TYPES[entity])


@cache  # read per value of every row served: the annotations never change
def attribute_kind(entity: Entity, attribute: str) -> ColumnKind:
    """How ``attribute`` of ``entity`` is stored, from the record's annotation."""
    hint = _hints(entity)[attribute]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if isinstance(hint, types.UnionType) and len(args) == 1 else hint
    if typing.get_origin(base) is tuple:
        return "tuple"
    kinds: dict[Any, ColumnKind] = {
        str: "text",
        bool: "bool",
        float: "float",
        dt.datetime: "datetime",
        dt.date: "date",
    }
    if base not in kinds:  # pragma: no cover - a new record attribute type needs a column type
        raise TypeError(f"{entity.value}.{attribute}: no column type for {hint!r}")
    return kinds[base]


def is_linked(entity: Entity, attribute: str) -> bool:
    """Whether ``attribute``'s items are kept in ``mirror_link`` (links and tuples)."""
    return attribute.endswith(("_id", "_ids")) or attribute_kind(entity, attribute) == "tuple"


def _entity_table(entity: Entity) -> Table:
    name = table_name(entity)
    attributes = data_fields(RECORD_TYPES[entity])
    columns = [Column(a, _TYPES[attribute_kind(entity, a)], nullable=True) for a in attributes]
    # The link attributes the schema follows, by column: a row's parent, its section.
    indexes = [
        Index(f"ix_{name}_source_{a}", "source", a)
        for a in attributes
        if a.endswith("_id") and attribute_kind(entity, a) == "text"
    ]
    return Table(
        name,
        metadata,
        Column("source", _SOURCE, nullable=False),
        Column("vendor_id", _VENDOR_ID, nullable=False),
        Column("seq", BigInteger(), nullable=False),
        *columns,
        PrimaryKeyConstraint("source", "vendor_id", name=f"pk_{name}"),
        Index(f"ix_{name}_source_seq", "source", "seq"),
        *indexes,
    )


_ENTITY_TABLES: dict[Entity, Table] = {entity: _entity_table(entity) for entity in Entity}


def entity_table(entity: Entity) -> Table:
    """The mirror table of ``entity``."""
    return _ENTITY_TABLES[entity]


MIRROR_LINK = Table(
    "mirror_link",
    metadata,
    Column("source", _SOURCE, nullable=False),
    Column("entity", _ENTITY, nullable=False),
    Column("vendor_id", _VENDOR_ID, nullable=False),
    Column("attribute", String(64), nullable=False),
    Column("value", _VENDOR_ID, nullable=False),
    PrimaryKeyConstraint("source", "entity", "vendor_id", "attribute", "value", name="pk_mirror_link"),
    Index("ix_mirror_link_source_entity_attribute_value", "source", "entity", "attribute", "value"),
)
"""One row per item of a link or tuple attribute: ``(source, entity, vendor_id)``
has ``value`` among its ``attribute``."""

MIRROR_STATE = Table(
    "mirror_state",
    metadata,
    Column("source", _SOURCE, nullable=False),
    Column("entity", _ENTITY, nullable=False),
    Column("last_full_sync", UtcDateTime(), nullable=True),
    Column("last_delta_sync", UtcDateTime(), nullable=True),
    Column("watermark", Text(), nullable=True),
    Column("rows", Integer(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("fields", Text(), nullable=True),
    Column("resync_requested", UtcDateTime(), nullable=True),
    Column("version", BigInteger(), nullable=False, server_default="0"),
    PrimaryKeyConstraint("source", "entity", name="pk_mirror_state"),
)
"""Per source and entity: when it was last read in full and by delta, where
the change feed stands, how many rows are held, and the last sync failure
(data-free, as every source error); which attributes the last full read
stored (JSON list: a restart resumes only with the same ones) and when
``homeroom mirror resync`` asked for a full read (migration ``0004``); the
``version`` every write of the entity's rows raises, by which each process
knows its in-memory copy is current (migration ``0005``)."""

MIRROR_SYNCER = Table(
    "mirror_syncer",
    metadata,
    Column("source", _SOURCE, nullable=False),
    Column("holder", Text(), nullable=False),
    Column("seen_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("source", name="pk_mirror_syncer"),
)
"""Per source: the hub process syncing it (host and process id, no data) and
when it last ran its sync loop; ``homeroom mirror resync`` reads the read
itself when no process was seen lately (migration ``0004``)."""
