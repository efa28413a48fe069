"""The optional change feed: how an adapter reports what changed since a watermark.

An adapter whose vendor has a delta mechanism (OneRoster ``dateLastModified``
filters, Ed-Fi change queries, Canvas ``graded_since``, Clever events) also
implements :class:`ChangeFeed`. A mirrored source then asks it for changes
between full reads instead of reading every record again. An adapter without
one is simply re-read in full at its interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hub.model import Entity, Record


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed for one entity since a watermark.

    - ``records``: records created or modified since then, in the unified shape,
      with exactly the requested fields filled (like ``FetchResult.records``).
    - ``deleted``: vendor ids of records deleted since then (OneRoster
      ``status = tobedeleted``, Ed-Fi ``/deletes``, Clever ``*.deleted`` events).
    - ``watermark``: an opaque string to pass as ``since`` next time; it must
      cover everything reported here (the vendor's newest
      ``dateLastModified``, change version or event id). ``None`` keeps the
      previous watermark (nothing new was seen).
    """

    records: Sequence[Record] = ()
    deleted: Sequence[str] = ()
    watermark: str | None = None
    complete: bool = True
    """``False`` when the feed could not tell everything (a gap in the vendor's
    history, an expired change version): the hub then reads the entity in full."""


@runtime_checkable
class ChangeFeed(Protocol):
    """An adapter that can say what changed since a watermark (optional).

    ``since`` is ``None`` on the first call after a full read: the adapter
    returns the watermark to start from (the vendor's current position, taken
    no later than the read began, so no change made during it is lost) and may
    return records too (they are applied like any change). Afterwards
    ``since`` is the watermark of the previous answer. ``fields`` are the record
    attributes to fill, as in ``FetchRequest.fields``. Errors are the SDK's
    typed errors (``SourceUnavailable``, ``SourceAuthFailed``, ...).
    """

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        """Records changed and ids deleted for ``entity`` since ``since``."""
        ...
