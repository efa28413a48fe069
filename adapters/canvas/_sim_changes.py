"""The simulated Canvas over time: what changed between two reads of the CSV
folder, stamped the way Canvas stamps it.

Canvas's REST API has no general "modified since". For the gradebook it
offers ``graded_since`` and ``submitted_since`` on the bulk submissions list,
over each submission's ``graded_at`` and ``submitted_at``, and those move only
when a teacher grades or a student hands in. So, when the files change:

- a submission newly graded, or whose grade changed (status, score,
  excused, ``scoreDate``), gets a new ``graded_at`` (and ``posted_at``), as
  grading it in Canvas does; a grade taken away moves nothing, as in Canvas;
- a submission newly handed in, or handed in again (a new ``scoreDate``),
  gets a new ``submitted_at``;
- any other change (a comment, the late or missing flags) is served but
  moves no time: Canvas's delta filters do not see it either;
- an assignment or enrollment whose object changed gets a new ``updated_at``;
- a row gone from the files is gone from every list (Canvas lists no
  deleted submissions).

Stamps only move forward: each is later than every time served before, even
when the files carry dates past the clock (:func:`provider_clock` then moves
the simulated instance's clock on, so its ``Date`` is never behind a time it served).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.canvas._sim_data import (
    CanvasDistrict,
    Result,
    canvas_time,
    graded_at,
    handed_in,
    is_graded,
    submitted_at,
    workflow_state,
)
from hub.sdk import StampClock, compare

__all__ = ["ChangingDistrict", "newest_time", "provider_clock"]

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_UPDATED = {"assignment": frozenset({"updated_at"}), "enrollment": frozenset({"updated_at", "grades"})}
"""The kinds of object whose ``updated_at`` is stamped, and the keys whose change
does not move it (Canvas keeps an enrollment's grades elsewhere: its ``updated_at`` stays)."""
_LEAD = dt.timedelta(minutes=1)


def newest_time(district: CanvasDistrict) -> dt.datetime:
    """The latest ``submitted_at`` or ``graded_at`` the district serves."""
    moments = (
        moment
        for result in district.submission.values()
        for moment in (submitted_at(result), graded_at(result))
        if moment is not None
    )
    return max(moments, default=_EPOCH)


def provider_clock(now: Callable[[], dt.datetime], district: CanvasDistrict) -> Callable[[], dt.datetime]:
    """The simulated instance's clock: ``now``, moved on by a fixed offset when
    the files carry times past it (a district generated for a later day), so
    that every time served is well before the instance's own ``Date``."""
    offset = max(newest_time(district) + _LEAD - now(), dt.timedelta(0))
    return lambda: now() + offset


def _content(result: Result) -> tuple[Any, ...]:
    """What a result says, without its Canvas id and stamps."""
    return (
        result.status,
        result.score,
        result.day,
        result.late,
        result.missing,
        result.comment,
        result.grader,
    )


def _grading(result: Result) -> tuple[Any, ...] | None:
    """The grade a result gives (``None`` when ungraded): grading anew is a change of it."""
    if not is_graded(result):
        return None
    return (workflow_state(result), result.score, result.status == "exempt", result.day)


def _text(key: tuple[int, ...]) -> str:
    return ".".join(map(str, key))


def _without(obj: Mapping[str, Any], ignored: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in ignored}


@dataclass
class ChangingDistrict:
    """The district a simulator serves, updated from fresh reads of its files.

    ``served`` is the last read with its stamps; :meth:`update` compares the
    next read with it (the reads keep ids, so objects are compared by id).
    """

    served: CanvasDistrict
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    _stamps: StampClock = field(init=False)

    def __post_init__(self) -> None:
        self._stamps = StampClock(newest_time(self.served), self.clock)

    def update(self, fresh: CanvasDistrict) -> None:
        """Serve ``fresh`` (a new read of the files, made with the served
        district's ids), stamping what changed since the served one."""
        stamp = self._stamps.next()
        self._stamp_submissions(fresh, stamp)
        text = canvas_time(stamp)
        for kind, ignored in _UPDATED.items():
            self._stamp_updated(fresh.by_id[kind], self.served.by_id[kind], text, ignored)
        self.served = fresh

    def _stamp_submissions(self, fresh: CanvasDistrict, stamp: dt.datetime) -> None:
        before = self.served.submission
        found = compare(
            {_text(key): _content(result) for key, result in before.items()},
            {_text(key): _content(result) for key, result in fresh.submission.items()},
        )
        replaced: dict[int, Result] = {}
        for key, result in fresh.submission.items():
            previous = before.get(key)
            graded = previous.graded_stamp if previous is not None else None
            submitted = previous.submitted_stamp if previous is not None else None
            if _text(key) in found.changed:
                if is_graded(result) and (previous is None or _grading(previous) != _grading(result)):
                    graded = stamp
                if handed_in(result) and (
                    previous is None or not handed_in(previous) or previous.day != result.day
                ):
                    submitted = stamp
            if graded is not None or submitted is not None:
                stamped = dataclasses.replace(result, graded_stamp=graded, submitted_stamp=submitted)
                replaced[id(result)] = fresh.submission[key] = stamped
        if not replaced:
            return
        for results in fresh.section_submissions.values():
            if any(id(result) in replaced for result in results):
                results[:] = [replaced.get(id(result), result) for result in results]

    @staticmethod
    def _stamp_updated(
        fresh: Mapping[int, dict[str, Any]],
        before: Mapping[int, dict[str, Any]],
        stamp: str | None,
        ignored: frozenset[str],
    ) -> None:
        """A new ``updated_at`` on the objects that changed (but for ``ignored``
        keys); the others keep theirs."""
        found = compare(
            {str(key): _without(obj, ignored) for key, obj in before.items()},
            {str(key): _without(obj, ignored) for key, obj in fresh.items()},
        )
        for key, obj in fresh.items():
            previous = before.get(key)
            if previous is None or str(key) in found.changed:
                obj["updated_at"] = stamp
            else:
                obj["updated_at"] = previous["updated_at"]
