"""Gathering, during one request, what it disclosed and what it was refused.

The scope notes field names once per admitted (type, relation set) and student
ids per admitted row (a set insert: the per-row path stays cheap); the app
turns the result into at most two events when the response is ready.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hub.audit.events import AuditEvent, EventKind

__all__ = ["PURPOSE_HEADER", "Disclosures", "purpose_from"]

# Optional request header in which a client states why it asks (34 CFR
# 99.32(a)(3)(ii): the legitimate interest); free text, stored truncated.
PURPOSE_HEADER = "homeroom-purpose"


def purpose_from(headers: Mapping[str, str]) -> str | None:
    """The stated purpose of a request, from its headers (any case)."""
    value = headers.get(PURPOSE_HEADER)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == PURPOSE_HEADER), None)
    return value or None


class Disclosures:
    """What one request disclosed and was refused: names and ids, never values."""

    __slots__ = ("_fields", "_refusal", "_refused_fields", "_refused_students", "_students")

    def __init__(self) -> None:
        self._fields: dict[str, set[str]] = {}
        self._students: set[str] = set()
        self._refused_fields: dict[str, set[str]] = {}
        self._refused_students: set[str] = set()
        self._refusal: str | None = None

    def fields(self, type_name: str, names: Iterable[str]) -> None:
        """Fields of ``type_name`` that left in the response."""
        self._fields.setdefault(type_name, set()).update(names)

    def student(self, student_id: str) -> None:
        """One student whose data left in the response (hub id)."""
        self._students.add(student_id)

    def students(self, student_ids: Iterable[str]) -> None:
        """Students whose data left in the response (hub ids)."""
        self._students.update(student_ids)

    def refused(
        self,
        code: str,
        *,
        type_name: str | None = None,
        names: Iterable[str] = (),
        student_ids: Iterable[str] = (),
    ) -> None:
        """A refusal (e.g. FORBIDDEN, NOT_FOUND for an unrelated student): the
        first code is kept as the refusal event's outcome."""
        self._refusal = self._refusal or code
        if type_name is not None:
            self._refused_fields.setdefault(type_name, set()).update(names)
        self._refused_students.update(student_ids)

    @property
    def discloses(self) -> bool:
        """Whether any student's data left (only then is a disclosure recorded)."""
        return bool(self._students)

    @property
    def was_refused(self) -> bool:
        """Whether anything was refused."""
        return self._refusal is not None

    def events(
        self,
        *,
        subject: str | None,
        roles: Iterable[str],
        client: str | None,
        operation: str | None,
        query: str | None,
        purpose: str | None,
        outcome: str = "ok",
    ) -> list[AuditEvent]:
        """The events to record for this request: a disclosure when student data
        left, a refusal when something was refused; none otherwise."""
        role_list = tuple(roles)

        def make(
            kind: EventKind, fields: Mapping[str, Iterable[str]], ids: Iterable[str], result: str
        ) -> AuditEvent:
            return AuditEvent.create(
                kind,
                subject=subject,
                roles=role_list,
                client=client,
                operation=operation,
                query=query,
                purpose=purpose,
                fields=fields,
                student_ids=ids,
                outcome=result,
            )

        out: list[AuditEvent] = []
        if self._students:
            out.append(make(EventKind.DISCLOSURE, self._fields, self._students, outcome))
        if self._refusal is not None:
            out.append(make(EventKind.REFUSAL, self._refused_fields, self._refused_students, self._refusal))
        return out
