"""A ``FetchRequest`` as SQL over the mirror tables, answering like an adapter.

Ids and scalar filters become ``WHERE`` clauses on the entity's table; filters
on links and tuple items ``EXISTS`` over ``mirror_link``; ``date_from`` and
``date_to`` compare ``date``; ``visible_if`` (the caller's relations) is one
``OR`` of the same tests, so rows the caller cannot see are never read.
``search`` narrows the candidates in SQL (``lower(name) LIKE`` per ASCII
word) and is then decided exactly by :func:`hub.sdk.name_matches` on them, so
the mirror means what every adapter means by it, for every alphabet.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, any_, bindparam, false, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.mirror.codec import column_values, record_builder
from hub.mirror.tables import MIRROR_LINK, attribute_kind, entity_table, is_linked
from hub.model import RECORD_TYPES, Entity, data_fields
from hub.sdk import NAME_ATTRIBUTES, FetchRequest, FetchResult, name_matches

__all__ = [
    "CURSOR_PREFIX",
    "MOST_VALUES",
    "SPECIAL_FILTERS",
    "InvalidCursor",
    "fetch_offset",
    "fetch_rows",
    "filter_day",
    "next_cursor",
]

CURSOR_PREFIX = "m"
_CURSOR = re.compile(rf"^{CURSOR_PREFIX}(\d{{1,12}})$")
SPECIAL_FILTERS = frozenset({"search", "date_from", "date_to"})
"""Filters that compare no attribute of their own name."""


class InvalidCursor(ValueError):
    """A cursor this mirror did not issue."""


def fetch_offset(cursor: str | None) -> int:
    """The offset a cursor of this mirror stands for (:class:`InvalidCursor` otherwise)."""
    if cursor is None:
        return 0
    found = _CURSOR.match(cursor)
    if found is None:
        raise InvalidCursor(cursor)
    return int(found.group(1))


def _like_word(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_LONG_LIST = 16
"""Past this many values, a list is sent as one parameter (see :func:`_among`)."""
MOST_VALUES = 10_000
"""The most values a filter on a number, date or flag may list."""


def _among(column: ColumnElement[Any], values: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """``column IN values`` for text values.

    A long list (a class's 600 score ids) goes as one parameter, a JSON array
    read by ``json_each`` on SQLite and a ``text[]`` on PostgreSQL, instead of a
    bound parameter per value: rendering those cost more than the query itself
    (measured: 15 ms of a 300 ms dashboard). Both still look each value up in
    the column's index."""
    if len(values) <= _LONG_LIST or dialect not in ("sqlite", "postgresql"):
        return column.in_(values)
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(Text)))
    items = func.json_each(bindparam(None, json.dumps(list(values)), type_=Text)).table_valued("value")
    return column.in_(select(items.c.value))


def _conditions(source: str, request: FetchRequest, dialect: str) -> list[ColumnElement[bool]]:
    entity = request.entity
    table = entity_table(entity)
    conditions: list[ColumnElement[bool]] = [table.c.source == source]
    if request.ids is not None:
        conditions.append(_among(table.c.vendor_id, request.ids, dialect) if request.ids else false())
    for name, accepted in request.filters.items():
        if name == "date_from":
            conditions.append(table.c.date >= filter_day(accepted))
        elif name == "date_to":
            conditions.append(table.c.date <= filter_day(accepted))
        elif name == "search":
            words = [w for w in accepted[0].casefold().split() if w.isascii()] if accepted else []
            names = [table.c[n] for n in NAME_ATTRIBUTES if n in table.c]
            for word in words:
                pattern = _like_word(word)
                conditions.append(or_(*(func.lower(column).like(pattern, escape="\\") for column in names)))
        else:
            conditions.append(_holds(source, entity, name, accepted, dialect))
    if request.visible_if:
        # The caller's relations pushed down: a row is read when any pair holds.
        pairs = request.visible_if
        conditions.append(or_(*(_holds(source, entity, name, values, dialect) for name, values in pairs)))
    return conditions


def filter_day(accepted: Sequence[str]) -> dt.date:
    """The one ISO date of a ``date_from`` / ``date_to`` filter (``ValueError`` otherwise)."""
    if not accepted:
        raise ValueError("a date filter without a date")
    return dt.date.fromisoformat(accepted[0])


def _holds(
    source: str, entity: Entity, name: str, accepted: Sequence[str], dialect: str
) -> ColumnElement[bool]:
    """``name`` of the row (any item, for a link or tuple) is among ``accepted``."""
    table = entity_table(entity)
    if not accepted:
        return false()
    if name == "vendor_id":
        return _among(table.c.vendor_id, accepted, dialect)
    if is_linked(entity, name) and attribute_kind(entity, name) == "tuple":
        # The items of a tuple are in mirror_link: the matching rows' ids, found
        # once through its index (not a subquery per row of the table).
        link = MIRROR_LINK
        return table.c.vendor_id.in_(
            select(link.c.vendor_id).where(
                link.c.source == source,
                link.c.entity == entity.value,
                link.c.attribute == name,
                _among(link.c.value, accepted, dialect),
            )
        )
    # A scalar link (``student_id``, ``section_id``, ...) is an indexed column.
    values = column_values(entity, name, accepted)
    if not values:
        return false()
    if attribute_kind(entity, name) == "text":
        return _among(table.c[name], values, dialect)
    if len(values) > MOST_VALUES:
        # One bound parameter each: past this, drivers refuse the query (asyncpg: 32,767).
        raise ValueError("too many values for one filter")
    return table.c[name].in_(values)


def next_cursor(offset: int, limit: int | None, count: int, total: int) -> str | None:
    """The cursor after ``count`` rows read from ``offset``, or ``None`` at the end."""
    if limit is None or limit <= 0 or offset + count >= total:
        return None
    return f"{CURSOR_PREFIX}{offset + count}"


async def fetch_rows(conn: AsyncConnection, source: str, request: FetchRequest) -> FetchResult:
    """Answer ``request`` for ``source`` from the mirror tables (names already checked).

    Only ``request.fields`` are filled; rows come in the vendor's order
    (``seq``); ``total`` counts every matching row; ``next_cursor`` is an
    offset (``m<n>``) into that order.
    """
    entity = request.entity
    table = entity_table(entity)
    offset = fetch_offset(request.cursor)
    named = {*request.filters, *(name for name, _ in request.visible_if)} - {"vendor_id"}
    unknown = named - SPECIAL_FILTERS - set(data_fields(RECORD_TYPES[entity]))
    if unknown:
        raise ValueError(f"no such attribute: {', '.join(sorted(unknown))}")
    where = and_(*_conditions(source, request, conn.dialect.name))
    # "seq + 0": the vendor's order, sorted after the filters chose the rows
    # through their indexes; a bare "seq" lets SQLite walk the whole source in
    # seq order instead (measured: 12 ms against 1 ms for a class's scores).
    order = (table.c.seq + 0, table.c.vendor_id)
    fields = sorted(request.fields)
    columns = [table.c.vendor_id, *(table.c[name] for name in fields)]
    term = request.filters.get("search")
    if term:
        names = tuple(n for n in NAME_ATTRIBUTES if n in table.c)
        candidates = (
            await conn.execute(
                select(table.c.vendor_id, *(table.c[n] for n in names)).where(where).order_by(*order)
            )
        ).all()
        as_record = record_builder(entity, names)
        matched = [row.vendor_id for row in candidates if name_matches(as_record(row), term[0])]
        total = len(matched)
        wanted = (
            matched[offset:] if request.limit is None else matched[offset : offset + max(request.limit, 0)]
        )
        rows = await _by_ids(conn, source, request, columns, wanted)
    elif request.limit is None:
        # Every row from ``offset`` on is read: they are the count (no second query).
        rows = list((await conn.execute(select(*columns).where(where).order_by(*order).offset(offset))).all())
        total = offset + len(rows) if rows or offset == 0 else await _count(conn, table, where)
    else:
        total = await _count(conn, table, where)
        query = select(*columns).where(where).order_by(*order).offset(offset).limit(max(request.limit, 0))
        rows = list((await conn.execute(query)).all())
    build = record_builder(entity, tuple(fields))
    records = [build(row) for row in rows]
    return FetchResult(records, next_cursor(offset, request.limit, len(records), total), total)


async def _count(conn: AsyncConnection, table: Any, where: ColumnElement[bool]) -> int:
    return int((await conn.execute(select(func.count()).select_from(table).where(where))).scalar_one())


async def _by_ids(
    conn: AsyncConnection, source: str, request: FetchRequest, columns: Sequence[Any], ids: Sequence[str]
) -> list[Any]:
    """The rows of ``ids`` (in that order) with ``columns``."""
    if not ids:
        return []
    table = entity_table(request.entity)
    among = _among(table.c.vendor_id, ids, conn.dialect.name)
    found = (await conn.execute(select(*columns).where(table.c.source == source, among))).all()
    by_id = {row.vendor_id: row for row in found}
    return [by_id[vendor_id] for vendor_id in ids if vendor_id in by_id]
