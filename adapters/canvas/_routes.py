"""Where Canvas records live: which course a section belongs to, a course's
term, and a course each user is enrolled in (by kind).

Canvas addresses most collections through a course (its assignments, its
users), while the hub asks by section or by person. These ids are learnt
from every course, section and enrollment the adapter reads, so a look-up
that follows a read (a section's students, then those students) needs no
extra request. Only ids are kept, never names or other fields, in a bounded
least-recently-used map.

A route may be stale (a section cross-listed into another course, a student
who left): every use of a route re-reads the records, and a record not
found along its route is looked for again by the slower way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from adapters.canvas import _values as v

__all__ = ["KIND_OF_TYPE", "RouteCache"]

K = TypeVar("K")
V = TypeVar("V")

KIND_OF_TYPE = {
    "StudentEnrollment": "student",
    "TeacherEnrollment": "staff",
    "TaEnrollment": "staff",
    "ObserverEnrollment": "observer",
}
"""Which kind of person an enrollment type makes its user (Student, Teacher, Guardian)."""


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._items


class RouteCache:
    """Ids learnt from what was read: section -> course, course -> term,
    (user, kind) -> a course the user is enrolled in as that kind."""

    def __init__(self, size: int = 100_000) -> None:
        self._section_course: _Lru[str, str] = _Lru(size)
        self._course_term: _Lru[str, str] = _Lru(size)
        self._user_course: _Lru[tuple[str, str], str] = _Lru(size)

    def learn_course(self, obj: Any) -> None:
        """Remember a course's term (an empty string for a course without one)."""
        if isinstance(obj, dict) and (course := v.ident(obj.get("id"))) is not None:
            self._course_term.put(course, v.ident(obj.get("enrollment_term_id")) or "")

    def learn_section(self, obj: Any) -> None:
        """Remember a section's course."""
        if isinstance(obj, dict):
            section, course = v.ident(obj.get("id")), v.ident(obj.get("course_id"))
            if section is not None and course is not None:
                self._section_course.put(section, course)

    def learn_enrollment(self, obj: Any) -> None:
        """Remember the enrollment's section, and its user's course for the user's kind."""
        if not isinstance(obj, dict):
            return
        course, section = v.ident(obj.get("course_id")), v.ident(obj.get("course_section_id"))
        user, kind = v.ident(obj.get("user_id")), KIND_OF_TYPE.get(str(obj.get("type")))
        if course is None:
            return
        if section is not None:
            self._section_course.put(section, course)
        if user is not None and kind is not None:
            self._user_course.put((user, kind), course)

    def learn(self, objs: Iterable[Any], what: str) -> None:
        """Learn from many objects of one kind (``course``, ``section`` or ``enrollment``)."""
        learn = {"course": self.learn_course, "section": self.learn_section}.get(what, self.learn_enrollment)
        for obj in objs:
            learn(obj)

    def course_of_section(self, section_id: str) -> str | None:
        """The course a section was last seen in."""
        return self._section_course.get(section_id)

    def term_of_course(self, course_id: str) -> tuple[bool, str | None]:
        """(known, term id) of a course; the term is ``None`` for a course without one."""
        term = self._course_term.get(course_id)
        return (False, None) if term is None else (True, term or None)

    def course_of_user(self, user_id: str, kind: str) -> str | None:
        """A course the user was last seen enrolled in as ``kind`` (student, staff, observer)."""
        return self._user_course.get((user_id, kind))
