"""Gathering, during one request, what it disclosed and what it was refused.

The scope notes, per person whose data left (a student, guardian or teacher,
by hub id), the fields of each type that left about them; the app turns the
result into at most two events when the response is ready.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hub.audit.events import AuditEvent, EventKind

__all__ = ["PURPOSE_HEADER", "Disclosures", "purpose_from"]

# Optional request header in which a client states why it asks (34 CFR
# 99.32(a)(3)(ii): the legitimate interest); free text, stored truncated.
PURPOSE_HEADER = "homeroom-purpose"

PersonFields = dict[str, dict[str, set[str]]]


def purpose_from(headers: Mapping[str, str]) -> str | None:
    """The stated purpose of a request, from its headers (any case)."""
    value = headers.get(PURPOSE_HEADER)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == PURPOSE_HEADER), None)
    return value or None


def _add(people: PersonFields, person_id: str, type_name: str, names: Iterable[str]) -> None:
    people.setdefault(person_id, {}).setdefault(type_name, set()).update(names)


class Disclosures:
    """What one request disclosed and was refused: names and ids, never values."""

    __slots__ = ("_fields", "_people", "_refusal", "_refused_fields", "_refused_people")

    def __init__(self) -> None:
        self._fields: dict[str, set[str]] = {}
        self._people: PersonFields = {}
        self._refused_fields: dict[str, set[str]] = {}
        self._refused_people: PersonFields = {}
        self._refusal: str | None = None

    def fields(self, type_name: str, names: Iterable[str]) -> None:
        """Fields of ``type_name`` that left in the response, about no one in
        particular (a section's title) or about people noted with :meth:`person`."""
        self._fields.setdefault(type_name, set()).update(names)

    def person(self, person_id: str, fields: Mapping[str, Iterable[str]]) -> None:
        """Fields (per type) that left about one person (canonical hub id)."""
        known = self._people.get(person_id)
        if known is None:  # the usual case: once per person and request
            self._people[person_id] = {type_name: set(names) for type_name, names in fields.items()}
            return
        for type_name, names in fields.items():
            known.setdefault(type_name, set()).update(names)

    def people(self, disclosed: Mapping[str, Mapping[str, Iterable[str]]]) -> None:
        """:meth:`person` for each person of ``disclosed`` (``Scope.disclosed_people()``)."""
        for person_id, fields in disclosed.items():
            self.person(person_id, fields)

    def refused(
        self,
        code: str,
        *,
        type_name: str | None = None,
        names: Iterable[str] = (),
        student_ids: Iterable[str] = (),
    ) -> None:
        """A refusal (e.g. FORBIDDEN, NOT_FOUND for an unrelated student): the
        first code is kept as the refusal event's outcome. ``student_ids``
        (canonical hub ids) are the people asked about; ``names`` of
        ``type_name`` the fields asked of them."""
        self._refusal = self._refusal or code
        asked = tuple(names)
        if type_name is not None:
            self._refused_fields.setdefault(type_name, set()).update(asked)
        for person_id in student_ids:
            self._refused_people.setdefault(person_id, {})
            if type_name is not None:
                _add(self._refused_people, person_id, type_name, asked)

    @property
    def discloses(self) -> bool:
        """Whether anyone's data left: only then is a disclosure recorded, and
        only then must the response wait for it (fail closed)."""
        return bool(self._people)

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
        """The events to record for this request: a disclosure when anyone's
        data left (always first), a refusal when something was refused; none otherwise."""
        role_list = tuple(roles)

        def make(
            kind: EventKind,
            fields: Mapping[str, Iterable[str]],
            people: Mapping[str, Mapping[str, Iterable[str]]],
            result: str,
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
                people=people,
                outcome=result,
            )

        out: list[AuditEvent] = []
        if self._people:
            out.append(make(EventKind.DISCLOSURE, self._fields, self._people, outcome))
        if self._refusal is not None:
            out.append(make(EventKind.REFUSAL, self._refused_fields, self._refused_people, self._refusal))
        return out
