"""What a OneRoster delta read needs besides the collection itself: which
joined collections can change a record without changing its row, how rows
are told newer than a watermark, and the watermark to hand back.

OneRoster 1.1/1.2 stamp every object with ``dateLastModified`` and let a
client ask ``filter=dateLastModified>'<ISO date-time>'``; deleted objects
stay listed for a while with ``status = tobedeleted``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.oneroster_rest import _mapping as m
from adapters.oneroster_rest._filter import instant, predicate
from adapters.oneroster_rest._resources import Resource, categories, demographics, line_items
from hub.sdk import Entity

__all__ = [
    "MODIFIED",
    "SKEW",
    "Dependent",
    "Newest",
    "changed_after",
    "dependents",
    "link",
    "since_filter",
]

MODIFIED = "dateLastModified"
SKEW = dt.timedelta(seconds=5)
"""Held back from the provider's clock when no row gives a watermark: a row
being written as the read starts may carry a stamp slightly in the past."""


def since_filter(since: str) -> str:
    """``dateLastModified>'since'`` (quoted by the filter builder)."""
    return predicate(MODIFIED, ">", since)


def changed_after(obj: Mapping[str, Any], bound: dt.datetime | None) -> bool:
    """Whether ``obj`` is newer than ``bound``, checked again here so a provider's
    looser filter cannot widen the answer; a row whose date does not parse is
    kept (sending a row twice is harmless, losing one is not)."""
    if bound is None:
        return True
    moment = instant(str(obj.get(MODIFIED, "")))
    return moment is None or moment > bound


@dataclass(slots=True)
class Newest:
    """The greatest ``dateLastModified`` seen, kept as the provider wrote it, so
    the next filter is in the provider's own format."""

    moment: dt.datetime | None = None
    text: str | None = None

    def see(self, obj: Mapping[str, Any]) -> None:
        """Take ``obj``'s date into account."""
        text = obj.get(MODIFIED)
        moment = instant(text) if isinstance(text, str) else None
        if moment is not None and (self.moment is None or moment > self.moment):
            self.moment, self.text = moment, text


def link(value: Any) -> str | None:
    """The sourcedId of a reference object (or of a bare id)."""
    if isinstance(value, Mapping):
        value = value.get("sourcedId")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class Dependent:
    """A joined collection whose changes change records of the read one.

    - ``resource``: the joined collection, read for its changed ids.
    - ``vendor_field``: the read collection's field naming them, for ``filter=``.
    - ``key_of``: that field's value in one of the read collection's objects.
    """

    resource: Resource
    vendor_field: str
    key_of: Callable[[Mapping[str, Any]], str | None]


def dependents(version: str, entity: Entity, attributes: frozenset[str]) -> list[Dependent]:
    """The joins of ``entity`` that the asked-for ``attributes`` use (see the adapter's joins)."""
    found: list[Dependent] = []
    if entity is Entity.STUDENT and attributes & m.DEMOGRAPHIC_FIELDS:
        found.append(Dependent(demographics(version), "sourcedId", lambda obj: link(obj.get("sourcedId"))))
    if entity is Entity.ASSIGNMENT and "category" in attributes:
        found.append(
            Dependent(categories(version), "category.sourcedId", lambda obj: link(obj.get("category")))
        )
    if entity is Entity.SCORE and "section_id" in attributes and version == "1.1":
        # Only 1.1 results take their class from the line item (1.2 results name it).
        found.append(
            Dependent(line_items(version), "lineItem.sourcedId", lambda obj: link(obj.get("lineItem")))
        )
    return found
