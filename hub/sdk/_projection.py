"""Copying only the requested fields of a record: what every ``fetch`` returns.

A record handed out carries ``vendor_id`` and the fields asked for; every
other field keeps its default, so nothing the policy did not plan leaves an
adapter by accident.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter

from hub.model import Record

__all__ = ["Projector", "projector"]

Projector = Callable[[Record], Record]
"""A function making a new record holding some fields of the one given."""


_CACHE_SIZE = 1024
_made: dict[tuple[type[Record], frozenset[str]], Projector] = {}


def projector(record_type: type[Record], fields: frozenset[str]) -> Projector:
    """A function copying ``vendor_id`` and ``fields`` of a ``record_type`` into a new one.

    Generated code, as ``dataclasses`` itself does it: it fills the slots of a
    new instance directly (requested fields from the record, the others with
    their defaults), several times faster than calling the keyword-only
    ``__init__``; fetch is the hot path of every query. Only names of the
    record's own fields reach the generated source, never request strings
    (a name that is not a field of ``record_type`` is ignored). Made once per
    type and field set (cached).
    """
    key = (record_type, fields)
    made = _made.get(key)
    if made is None:
        if len(_made) >= _CACHE_SIZE:
            _made.clear()
        made = _made[key] = _make(record_type, fields)
    return made


def _make(record_type: type[Record], fields: frozenset[str]) -> Projector:
    record_fields = dataclasses.fields(record_type)
    plain = all(f.default_factory is dataclasses.MISSING for f in record_fields)
    if not plain or hasattr(record_type, "__post_init__"):
        return _projector_by_init(record_type, fields)
    copied = {"vendor_id"} | fields
    lines = ["def project(record):", "    new = create(record_type)"]
    defaults: dict[str, object] = {}
    for f in record_fields:
        if f.name in copied:
            lines.append(f"    new.{f.name} = record.{f.name}")
        else:
            defaults[f"default_{f.name}"] = f.default
            lines.append(f"    new.{f.name} = default_{f.name}")
    lines.append("    return new")
    namespace: dict[str, object] = {"create": object.__new__, "record_type": record_type, **defaults}
    exec("\n".join(lines), namespace)
    project = namespace["project"]
    assert callable(project)
    return project


def _projector_by_init(record_type: type[Record], fields: frozenset[str]) -> Projector:
    own = {f.name for f in dataclasses.fields(record_type)}
    names = ("vendor_id", *sorted((fields & own) - {"vendor_id"}))
    get_values = attrgetter(*names)

    def project(record: Record) -> Record:
        values = get_values(record)
        return record_type(**dict(zip(names, values if len(names) > 1 else (values,), strict=True)))

    return project
