"""The simulated Classroom over time: what changed between two reads of the
CSV folder, stamped the way Classroom stamps it.

- A course, course work item or student submission whose object differs
  from the previous read (or is new) gets a new ``updateTime``; an unchanged
  one keeps the one it was served with.
- Course work gone from the files is served on with ``state: DELETED`` and a
  new ``updateTime`` for ``keep_deleted`` seconds, then dropped: Classroom
  shows deleted work to teachers and administrators (``courseWorkStates=DELETED``)
  "until it is deleted after some time". A course gone from the files is
  gone with its work (Classroom deletes courses outright), and so are
  submissions (they go with their work or their student).
- Rosters, aliases and guardian links carry no time in the API: served as read.
- Stamps only move forward (:class:`hub.sdk.StampClock`): each is later than
  every ``updateTime`` served before. Classroom stamps with its own clock and
  never serves an ``updateTime`` in the future: a later date in the files
  (generated districts may carry dates past the clock) is served as the
  moment the folder was first read, so stamps and the server's ``Date`` agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from adapters.google_classroom._sim_data import ClassroomDistrict
from hub.sdk import StampClock, compare

__all__ = ["ChangingClassroom", "stamp_text"]

Json = dict[str, Any]
_DELETED = "DELETED"


def stamp_text(moment: dt.datetime) -> str:
    """``moment`` as Classroom writes an ``updateTime``: RFC 3339, UTC, milliseconds, ``Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _by_id(objects: Iterable[Json]) -> dict[str, Json]:
    return {str(obj["id"]): obj for obj in objects}


def _moment(text: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _latest(district: ClassroomDistrict) -> dt.datetime:
    objects = [
        *district.courses,
        *(work for works in district.course_work.values() for work in works),
        *(item for items in district.submissions.values() for item in items),
    ]
    moments = (moment for obj in objects if (moment := _moment(obj.get("updateTime"))) is not None)
    return max(moments, default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


def _no_later_than(district: ClassroomDistrict, moment: dt.datetime) -> ClassroomDistrict:
    stamp = stamp_text(moment)

    def clamp(objects: list[Json]) -> list[Json]:
        return [
            obj | {"updateTime": stamp} if (at := _moment(obj.get("updateTime"))) and at > moment else obj
            for obj in objects
        ]

    return dataclasses.replace(
        district,
        courses=clamp(district.courses),
        course_work={key: clamp(works) for key, works in district.course_work.items()},
        submissions={key: clamp(items) for key, items in district.submissions.items()},
    )


def _merge(before: list[Json], after: list[Json], served: list[Json], stamp: str) -> list[Json]:
    """``after`` with unchanged objects as they were served, changed and new ones stamped."""
    was_served = _by_id(served)
    found = compare(_by_id(before), _by_id(after))
    merged = []
    for obj in after:
        key = str(obj["id"])
        kept = was_served.get(key)
        merged.append(obj | {"updateTime": stamp} if key in found.changed or kept is None else kept)
    return merged


@dataclass
class ChangingClassroom:
    """The district a simulator serves, updated from fresh reads of its files.

    ``served`` holds the objects with their stamps and the deleted course
    work still kept; ``loaded`` is the last read as it came from the files,
    which the next read is compared with. ``clock`` is the wall clock of the
    stamps and of ``keep_deleted``.
    """

    loaded: ClassroomDistrict
    keep_deleted: float = 86_400.0
    clock: Callable[[], dt.datetime] = field(default=_utc_now)
    served: ClassroomDistrict = field(init=False)
    _deleted_at: dict[tuple[str, str], dt.datetime] = field(init=False, default_factory=dict)
    _stamps: StampClock = field(init=False)

    def __post_init__(self) -> None:
        self.served = _no_later_than(self.loaded, self.clock())
        self._stamps = StampClock(_latest(self.served), self.clock)

    def update(self, fresh: ClassroomDistrict) -> None:
        """Serve ``fresh`` (a new read of the files), stamping what changed since the last read."""
        stamp = stamp_text(self._stamps.next())
        now = self.clock()
        before, served = self.loaded, self.served
        courses = _merge(before.courses, fresh.courses, served.courses, stamp)
        course_work: dict[str, list[Json]] = {}
        submissions: dict[str, list[Json]] = {}
        for course_id in (str(course["id"]) for course in fresh.courses):
            works = _merge(
                before.course_work.get(course_id, []),
                fresh.course_work.get(course_id, []),
                served.course_work.get(course_id, []),
                stamp,
            )
            live = {str(work["id"]) for work in works}
            for work in served.course_work.get(course_id, []):
                if str(work["id"]) not in live and (kept := self._deleted(course_id, work, stamp, now)):
                    works.append(kept)
            course_work[course_id] = works
            submissions[course_id] = _merge(
                before.submissions.get(course_id, []),
                fresh.submissions.get(course_id, []),
                served.submissions.get(course_id, []),
                stamp,
            )
        # Work of a course gone, or back in the files, is no longer kept as deleted.
        present = {(course_id, str(w["id"])) for course_id, works in fresh.course_work.items() for w in works}
        self._deleted_at = {
            key: when
            for key, when in self._deleted_at.items()
            if key[0] in course_work and key not in present
        }
        self.loaded = fresh
        self.served = dataclasses.replace(
            fresh, courses=courses, course_work=course_work, submissions=submissions
        )

    def _deleted(self, course_id: str, work: Json, stamp: str, now: dt.datetime) -> Json | None:
        """``work``, gone from the files, as served now: newly ``DELETED``, still kept, or dropped."""
        key = (course_id, str(work["id"]))
        deleted_at = self._deleted_at.get(key)
        if deleted_at is None:
            self._deleted_at[key] = now
            return work | {"state": _DELETED, "updateTime": stamp}
        if (now - deleted_at).total_seconds() < self.keep_deleted:
            return work
        del self._deleted_at[key]
        return None

    def expired(self) -> bool:
        """Whether deleted work has been kept for ``keep_deleted`` (``update`` then drops it)."""
        if not self._deleted_at:
            return False
        oldest = min(self._deleted_at.values())
        return (self.clock() - oldest).total_seconds() >= self.keep_deleted
