"""What a simulator needs to play a vendor's data changing over time.

Every simulator serves a OneRoster CSV folder. To let a test change a score in
the folder and watch it arrive through the vendor's change feed, a simulator:

1. checks the folder cheaply on each data request (:class:`FolderWatch`: one
   ``stat`` per file, a re-read only when a signature changed);
2. compares the fresh read with the previous one, collection by collection,
   object by object (:func:`compare`), to learn what was created, modified
   and deleted;
3. stamps each change with a moment later than every one it served before
   (:class:`StampClock`), whatever dates the files carry, and serves the
   vendor's own delta mechanism over those stamps (``dateLastModified``,
   change versions, ``updated_at``, events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FolderSignature", "FolderWatch", "KeyedChanges", "StampClock", "compare", "folder_signature"]

FolderSignature = tuple[tuple[str, int, int], ...]
"""Each CSV file's name, modification time (ns) and size: what a cheap check compares."""


def folder_signature(folder: Path) -> FolderSignature:
    """The signature of the CSV files in ``folder``: one ``stat`` per file, no reads."""
    found = []
    for path in folder.glob("*.csv"):
        try:
            status = path.stat()
        except FileNotFoundError:  # removed between listing and stat: it is gone either way
            continue
        found.append((path.name, status.st_mtime_ns, status.st_size))
    return tuple(sorted(found))


@dataclass
class FolderWatch:
    """Tells whether the CSV files of ``folder`` changed since the last look.

    ``changed()`` is cheap enough to call on every request; the first call
    after :func:`folder_signature` was taken (at construction) answers
    ``False`` until a file's time, size or presence moves.
    """

    folder: Path
    signature: FolderSignature = ()

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).resolve()
        if not self.signature:
            self.signature = folder_signature(self.folder)

    def changed(self) -> bool:
        """Whether a file changed since the last call (or construction); remembers the new state."""
        now = folder_signature(self.folder)
        if now == self.signature:
            return False
        self.signature = now
        return True


@dataclass
class StampClock:
    """Moments that only move forward: each :meth:`next` is later than every
    one handed out before and than ``floor`` (the newest date in the files:
    generated districts carry dates past the clock), so a client asking for
    "after the last one I saw" never misses a change."""

    floor: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    tick: dt.timedelta = dt.timedelta(milliseconds=1)

    def next(self) -> dt.datetime:
        """A moment later than any handed out before."""
        self.floor = max(self.clock(), self.floor + self.tick)
        return self.floor


@dataclass(frozen=True, slots=True)
class KeyedChanges:
    """What :func:`compare` found in one collection: keys created or modified,
    and keys deleted."""

    changed: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.changed or self.deleted)


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> KeyedChanges:
    """The keys of ``after`` that are new or whose object differs from ``before``'s,
    and the keys of ``before`` gone from ``after`` (objects compared with ``==``)."""
    changed = frozenset(key for key, obj in after.items() if key not in before or before[key] != obj)
    deleted = frozenset(key for key in before if key not in after)
    return KeyedChanges(changed, deleted)
