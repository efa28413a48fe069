"""Today's date, settable by tests, and what "current" means for a roster row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(slots=True)
class Clock:
    """The hub's idea of today. ``fixed`` pins it (tests, demos of past data)."""

    fixed: dt.date | None = None

    def today(self) -> dt.date:
        """The current date, or the pinned one."""
        return self.fixed or dt.date.today()


def is_current(begin: dt.date | None, end: dt.date | None, today: dt.date, grace_days: int) -> bool:
    """Whether a span is running today; an ended span stays current for
    ``grace_days`` so a teacher can still finish grading. Open ends count as running."""
    if begin is not None and today < begin:
        return False
    return end is None or today <= end + dt.timedelta(days=grace_days)
