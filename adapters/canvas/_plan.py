"""What a read is (:class:`Walk`) and the small helpers every entity's reads share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from adapters.canvas import _values as v
from adapters.canvas._walk import Chain, Expand, Level
from hub.sdk import Record

__all__ = [
    "CHUNK",
    "ENROLLMENT_STATES",
    "Make",
    "Walk",
    "api_path",
    "canvas_ids",
    "each",
    "given",
    "id_chunks",
    "repeated",
]

ENROLLMENT_STATES = ("active", "invited", "completed", "inactive")
"""Enrollment states read: past enrollments too (the hub decides what is current by date)."""
CHUNK = 50  # ids per request in a repeated query parameter (user_ids[], student_ids[], ...)

T = TypeVar("T")
Make = Callable[[Sequence[Chain]], Awaitable[list[Record | None]]]
"""Turns a batch of chains into records (``None`` for a chain that makes none), in order."""


@dataclass(frozen=True, slots=True)
class Walk:
    """A read down ``levels``; ``make`` turns a batch of chains into records."""

    levels: tuple[Expand, ...]
    make: Make


def id_chunks(values: Sequence[T], size: int = CHUNK) -> list[list[T]]:
    """``values`` in runs of ``size`` (one request each)."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def canvas_ids(ids: Iterable[str]) -> list[str]:
    """Ids that can be Canvas ids, once each, in order (anything else is simply not found)."""
    return list(dict.fromkeys(i for i in ids if v.ident(i) == i))


def repeated(name: str, values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """A repeated query parameter (``type[]=A&type[]=B``)."""
    return tuple((name, value) for value in values)


def given(items: Sequence[Mapping[str, Any]]) -> Expand:
    """A level whose records are ``items`` (ids the request named, objects read before)."""
    frozen = tuple(dict(item) for item in items)
    return lambda chain: Level(items=frozen)


def api_path(*parts: str) -> str:
    """A path under ``/api/v1/`` with each id part escaped (``sis_term_id:...`` keeps its colon)."""
    return "/".join(quote(part, safe=":~") for part in parts)


def each(build: Callable[[Chain], Record | None]) -> Make:
    """A :data:`Make` building one record (or none) from each chain."""

    async def make(chains: Sequence[Chain]) -> list[Record | None]:
        return [build(chain) for chain in chains]

    return make
