"""The adapter's paging cursor: where in a plan of reads the next record is.

Clever lists are in ascending id order and resume with ``starting_after``,
so a position is: which read of the plan, the Clever id of the last item
fully answered in it, and how many records of the next item were already
answered (a section yields one enrollment per member, and a page may end in
the middle of one). Written ``<read>:<after>:<skip>``; opaque to the hub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Position"]

_CURSOR = re.compile(r"^(\d{1,4}):([A-Za-z0-9._-]{0,64}):(\d{1,6})$")


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a plan: read ``stream``, after Clever id ``after``, ``skip`` records in."""

    stream: int = 0
    after: str = ""
    skip: int = 0

    def encode(self) -> str:
        """The cursor handed to the hub."""
        return f"{self.stream}:{self.after}:{self.skip}"

    @classmethod
    def decode(cls, cursor: str) -> Position | None:
        """The position of a cursor this adapter wrote, or ``None`` for anything else."""
        found = _CURSOR.match(cursor)
        if found is None:
            return None
        return cls(int(found.group(1)), found.group(2), int(found.group(3)))
