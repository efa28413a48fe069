"""Audit events and the hash that chains them.

An event says who was shown (or refused) which *fields* of which *people*
(students, guardians, staff): field names per GraphQL type, per person, and
hub ids, never a value. The shapes are checked here so that nothing else can
slip in: a field name must be a GraphQL name, an id must be a short printable
string.

Two canonical forms exist. Events written since per-person field sets came in
are hashed under the v2 domain (their columns include ``field_sets`` and
``occurrences``); events written before keep verifying exactly as they were
written, under v1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from hub.store.tables import GENESIS_HASH

__all__ = [
    "GENESIS_HASH",
    "HASH_VERSION",
    "AuditEvent",
    "EventKind",
    "FieldSet",
    "canonical_content",
    "chain_hash",
    "fields_of_person",
    "format_at",
    "hash_query",
]

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,127}$")
_OUTCOME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 512
MAX_PURPOSE = 256
MAX_ID = 1024
MAX_ROLE = 128
MAX_OCCURRENCES = 2**31 - 1
# One domain per canonical form: a new form gets a new version, and every
# stored event keeps verifying under the version it was written with (its
# ``hash_version`` column).
_HASH_DOMAINS = {1: b"homeroom-audit-v1\n", 2: b"homeroom-audit-v2\n"}
# The form new events are written in.
HASH_VERSION = 2

FieldSet = Mapping[str, tuple[str, ...]]


class EventKind(StrEnum):
    """What happened: data left, a request was refused, or a token was rejected."""

    DISCLOSURE = "disclosure"
    REFUSAL = "refusal"
    REJECTED_TOKEN = "rejected_token"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _clean(value: str | None, limit: int) -> str | None:
    """Free text from a caller (client name, purpose header): printable, bounded."""
    if value is None:
        return None
    text = _CONTROL.sub(" ", value).strip()
    return text[:limit] or None


def _ids(values: Iterable[str], what: str, limit: int) -> tuple[str, ...]:
    out = set()
    for value in values:
        if not isinstance(value, str) or not value or len(value) > limit or _CONTROL.search(value):
            raise ValueError(f"audit event: a {what} must be a printable string of 1..{limit} characters")
        out.add(value)
    return tuple(sorted(out))


def _fields(fields: Mapping[str, Iterable[str]]) -> FieldSet:
    out: dict[str, tuple[str, ...]] = {}
    for type_name in sorted(fields):
        names = frozenset(fields[type_name])
        # Names only: a GraphQL name cannot carry a value of a student field.
        for name in (type_name, *names):
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError(f"audit event: {name!r} is not a GraphQL type or field name")
        if names:
            out[type_name] = tuple(sorted(names))
    return MappingProxyType(out)


def _people(people: Mapping[str, Mapping[str, Iterable[str]]]) -> Mapping[str, FieldSet]:
    # A roster shows most people the same fields: check and sort each distinct
    # set once, and let the people who were shown it share it.
    checked: dict[frozenset[tuple[str, frozenset[str]]], FieldSet] = {}
    out: dict[str, FieldSet] = {}
    for person in _ids(people, "person id", MAX_ID):
        given = people[person]
        key = frozenset((type_name, frozenset(names)) for type_name, names in given.items())
        fields = checked.get(key)
        if fields is None:
            fields = checked[key] = _fields(given)
        out[person] = fields
    return MappingProxyType(out)


def _union(*field_sets: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for fields in field_sets:
        for type_name, names in fields.items():
            out.setdefault(type_name, set()).update(names)
    return out


def _grouped(people: Mapping[str, FieldSet]) -> list[dict[str, Any]]:
    """``people`` as stored: one entry per distinct field set with the people
    shown exactly that set. A roster shows most people the same fields, so each
    set is written once, not once per person; entries and ids are sorted."""
    groups: dict[tuple[tuple[str, tuple[str, ...]], ...], list[str]] = {}
    for person, fields in people.items():
        groups.setdefault(tuple(fields.items()), []).append(person)
    return [
        {"fields": {t: list(names) for t, names in key}, "people": sorted(ids)}
        for key, ids in sorted(groups.items())
    ]


def fields_of_person(columns: Mapping[Any, Any], person_id: str) -> FieldSet:
    """The fields a stored event names for ``person_id``: the person's own set
    for a v2 event, the event's whole set for a v1 event (which named one set
    for everyone). A v1 row's ``field_sets`` is not read: v1 hashes do not
    cover it, so whatever it holds was not written by the log."""
    if columns.get("hash_version") == 1 or columns.get("hash_version") is None:
        return _stored_fields(columns.get("fields"))
    for group in columns.get("field_sets") or ():
        if isinstance(group, dict) and person_id in (group.get("people") or ()):
            return _stored_fields(group.get("fields"))
    return MappingProxyType({})


def _stored_fields(value: object) -> FieldSet:
    if not isinstance(value, dict):
        return MappingProxyType({})
    return MappingProxyType({t: tuple(names) for t, names in sorted(value.items())})


def format_at(at: dt.datetime) -> str:
    """The canonical text of a timestamp: UTC, microseconds, ``Z``. A naive value
    (SQLite returns those) is taken as UTC, which is what was stored."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_query(query: str) -> str:
    """SHA-256 (hex) of the query text as received: lets an admin match an event
    to a known query without storing the text, which may hold literal ids."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One disclosure, refusal or (counted) rejected token, normalised and checked.

    ``people`` maps the hub id of each person the event is about (a student,
    guardian or teacher) to the fields, per GraphQL type, disclosed about them
    (or requested, for a refusal). ``fields`` is the union over the event,
    plus fields of rows about no one (a section's title). ``occurrences``
    counts the requests one event stands for (rejected tokens are counted per
    client and minute). Lists are sorted and de-duplicated so the stored form,
    and so the hash, does not depend on the order things were noted in.
    """

    kind: EventKind
    subject: str | None = None
    roles: tuple[str, ...] = ()
    client: str | None = None
    operation: str | None = None
    query_hash: str | None = None
    purpose: str | None = None
    fields: FieldSet = field(default_factory=dict, hash=False)
    people: Mapping[str, FieldSet] = field(default_factory=dict, hash=False)
    occurrences: int = 1
    outcome: str = "ok"
    at: dt.datetime = field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__  # frozen: normalise once, here
        setattr_(self, "kind", EventKind(self.kind))
        setattr_(self, "subject", _clean(self.subject, MAX_TEXT))
        setattr_(self, "roles", _ids(self.roles, "role", MAX_ROLE))
        setattr_(self, "client", _clean(self.client, MAX_TEXT))
        setattr_(self, "operation", _clean(self.operation, MAX_TEXT))
        setattr_(self, "purpose", _clean(self.purpose, MAX_PURPOSE))
        setattr_(self, "people", _people(self.people))
        # The event's set covers every person's: an admin reading the event
        # sees all that left, whoever it was about.
        distinct = {id(fields): fields for fields in self.people.values()}.values()
        setattr_(self, "fields", _fields(_union(self.fields, *distinct)))
        if self.query_hash is not None and not _HEX64.match(self.query_hash):
            raise ValueError("audit event: query_hash must be a SHA-256 hex digest (see hash_query)")
        if not _OUTCOME.match(self.outcome):
            raise ValueError("audit event: outcome must be a short code such as ok, partial or FORBIDDEN")
        if (
            isinstance(self.occurrences, bool)
            or not isinstance(self.occurrences, int)
            or not 1 <= self.occurrences <= MAX_OCCURRENCES
        ):
            raise ValueError(f"audit event: occurrences must be a whole number of 1..{MAX_OCCURRENCES}")
        if self.at.tzinfo is None:
            raise ValueError("audit event: 'at' must be timezone-aware")
        setattr_(self, "at", self.at.astimezone(dt.UTC))

    @classmethod
    def create(
        cls,
        kind: EventKind | str,
        *,
        subject: str | None = None,
        roles: Iterable[str] = (),
        client: str | None = None,
        operation: str | None = None,
        query: str | None = None,
        purpose: str | None = None,
        fields: Mapping[str, Iterable[str]] | None = None,
        people: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
        student_ids: Iterable[str] = (),
        occurrences: int = 1,
        outcome: str = "ok",
        at: dt.datetime | None = None,
    ) -> AuditEvent:
        """An event from loose inputs (any iterables; the query text, which is hashed).

        ``student_ids`` names people without a set of their own: each is taken
        to have been shown (or refused) every field in ``fields``.
        """
        shared = {t: tuple(names) for t, names in (fields or {}).items()}
        named: dict[str, dict[str, tuple[str, ...]]] = {person: dict(shared) for person in student_ids}
        for person, their_fields in (people or {}).items():
            named[person] = {t: tuple(names) for t, names in their_fields.items()}
        return cls(
            kind=EventKind(kind),
            subject=subject,
            roles=tuple(roles),
            client=client,
            operation=operation,
            query_hash=hash_query(query) if query is not None else None,
            purpose=purpose,
            fields=shared,
            people=named,
            occurrences=occurrences,
            outcome=outcome,
            at=at or _utcnow(),
        )

    @property
    def person_ids(self) -> tuple[str, ...]:
        """Hub ids of everyone the event is about, sorted."""
        return tuple(self.people)

    def field_names(self) -> tuple[str, ...]:
        """``Type.field`` for every disclosed field, sorted."""
        return tuple(f"{t}.{name}" for t, names in self.fields.items() for name in names)

    def content(self) -> dict[str, Any]:
        """The stored columns of this event (without seq and hashes)."""
        return {
            "at": self.at,
            "kind": self.kind.value,
            "subject": self.subject,
            "roles": list(self.roles),
            "client": self.client,
            "operation": self.operation,
            "query_hash": self.query_hash,
            "purpose": self.purpose,
            "fields": {t: list(names) for t, names in self.fields.items()},
            # Every person named, whatever their kind: the append trigger
            # indexes this list (the column keeps its first name).
            "student_ids": list(self.person_ids),
            "field_sets": _grouped(self.people),
            "occurrences": self.occurrences,
            "outcome": self.outcome,
            "hash_version": HASH_VERSION,
        }


_V1_COLUMNS = (
    "at",
    "kind",
    "subject",
    "roles",
    "client",
    "operation",
    "query_hash",
    "purpose",
    "fields",
    "student_ids",
    "outcome",
)
# The columns each canonical form covers.
CONTENT_COLUMNS: Mapping[int, tuple[str, ...]] = MappingProxyType(
    {1: _V1_COLUMNS, 2: (*_V1_COLUMNS, "field_sets", "occurrences")}
)


def canonical_content(columns: Mapping[Any, Any], version: int = HASH_VERSION) -> bytes:
    """Canonical JSON of an event's stored columns (a dict from
    :meth:`AuditEvent.content` or a database row's mapping), in the form of
    hash ``version``. ValueError for a version this hub does not know.

    Hashes what is stored, exactly as stored: a re-ordered list or an
    over-long text written by hand into the table changes the hash.
    """
    names = CONTENT_COLUMNS.get(version)
    if names is None:
        raise ValueError(f"audit event: unknown hash version {version!r}")
    payload = {name: columns[name] for name in names}
    at = payload["at"]
    payload["at"] = format_at(at) if isinstance(at, dt.datetime) else at
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(seq: int, prev_hash: str, content: bytes, version: int = HASH_VERSION) -> str:
    """The hash of event ``seq``: SHA-256 over the version's domain tag, the
    position, the previous event's hash and the canonical content. Including
    ``seq`` makes an event moved to another position fail, not only its
    neighbours' links; the domain keeps one form's bytes from passing as another's."""
    domain = _HASH_DOMAINS.get(version)
    if domain is None:
        raise ValueError(f"audit event: unknown hash version {version!r}")
    digest = hashlib.sha256(domain)
    digest.update(f"{seq}\n{prev_hash}\n".encode("ascii"))
    digest.update(content)
    return digest.hexdigest()
