"""Records to rows and back, and filter values to column values.

One place knows how an attribute is stored (see :mod:`hub.mirror.tables`):
scalars as typed columns, tuples as JSON text, and every item of a link or
tuple attribute as a ``mirror_link`` row, compared as :func:`hub.sdk.filter_value`
renders it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from hub.mirror.tables import attribute_kind, is_linked
from hub.model import RECORD_TYPES, Entity, Record
from hub.sdk import filter_value

__all__ = [
    "column_values",
    "is_storable",
    "link_items",
    "record_builder",
    "row_values",
    "storable",
]


def is_storable(text: str) -> bool:
    """Whether every database can hold ``text`` as it is: no NUL character
    (PostgreSQL refuses it) and no unpaired surrogate (not UTF-8 at all)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str) -> str:
    """``text`` as every database can hold it: NUL characters dropped, unpaired
    surrogates replaced (one odd character from a vendor must not stop a whole
    entity's write, and the rest of the value is kept)."""
    if is_storable(text):
        return text
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text if c != "\x00")


def _kept(value: Any) -> Any:
    return storable(value) if isinstance(value, str) else value


def row_values(entity: Entity, record: Record, attributes: Iterable[str]) -> dict[str, Any]:
    """The column values of ``record`` for ``attributes`` (tuples as JSON text;
    text made :func:`storable`)."""
    out: dict[str, Any] = {}
    for name in attributes:
        value = getattr(record, name)
        if attribute_kind(entity, name) == "tuple":
            items = [storable(filter_value(item)) for item in value] if value is not None else None
            out[name] = None if items is None else json.dumps(items)
        else:
            out[name] = _kept(value)
    return out


def link_items(entity: Entity, record: Record, attributes: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(attribute, value)`` for every item of the link and tuple attributes of ``record``."""
    for name in attributes:
        if not is_linked(entity, name):
            continue
        value = getattr(record, name)
        if value is None or value == "":
            continue
        items = value if isinstance(value, tuple) else (value,)
        for item in dict.fromkeys(storable(filter_value(item)) for item in items):
            yield name, item


@functools.cache
def record_builder(entity: Entity, fields: tuple[str, ...]) -> Callable[[Sequence[Any]], Record]:
    """A function making a record of ``entity`` from a row ``(vendor_id, *fields)``;
    NULL keeps the record's default. Made once per entity and fields, not per
    row: a dashboard reads thousands."""
    make = RECORD_TYPES[entity]
    tuples = frozenset(name for name in fields if attribute_kind(entity, name) == "tuple")
    positions = tuple(enumerate(fields, start=1))

    def build(row: Sequence[Any]) -> Record:
        values: dict[str, Any] = {}
        for position, name in positions:
            value = row[position]
            if value is not None:
                values[name] = tuple(json.loads(value)) if name in tuples else value
        return make(vendor_id=row[0], **values)

    return build


def column_values(entity: Entity, attribute: str, accepted: Iterable[str]) -> list[Any]:
    """The column values whose :func:`filter_value` is among ``accepted``.

    A value that no stored value renders as (``"85"`` for a float column holds
    ``85.0``; ``"yes"`` for a flag) is dropped: it matches nothing, as it
    would in :func:`hub.sdk.matches`.
    """
    kind = attribute_kind(entity, attribute)
    out: list[Any] = []
    for text in accepted:
        value = _parse(kind, text)
        if value is not None and filter_value(value) == text:
            out.append(value)
    return out


def _parse(kind: str, text: str) -> Any:
    try:
        if kind == "bool":
            return {"true": True, "false": False}.get(text)
        if kind == "float":
            return float(text)
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "datetime":
            value = dt.datetime.fromisoformat(text)
            # Stored times are read back in UTC: only a UTC rendering can match.
            return value if value.utcoffset() == dt.timedelta(0) else None
    except ValueError:
        return None
    return text
