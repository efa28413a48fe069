"""Audit events and the hash that chains them.

An event says who was shown (or refused) which *fields* of which *students*:
field names per GraphQL type and student ids, never a value. The shapes are
checked here so that nothing else can slip in: a field name must be a GraphQL
name, an id must be a short printable string.
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
    "AuditEvent",
    "EventKind",
    "canonical_content",
    "chain_hash",
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
# Bumped if the canonical form ever changes; old events keep verifying under v1.
_HASH_DOMAIN = b"homeroom-audit-v1\n"


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


def _fields(fields: Mapping[str, Iterable[str]]) -> Mapping[str, tuple[str, ...]]:
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
    """One disclosure, refusal or rejected token, normalised and checked.

    ``fields`` maps a GraphQL type to the names of its fields that were
    disclosed (or requested, for a refusal); ``student_ids`` are the hub ids of
    the students concerned. Lists are sorted and de-duplicated so the stored
    form, and so the hash, does not depend on the order things were noted in.
    """

    kind: EventKind
    subject: str | None = None
    roles: tuple[str, ...] = ()
    client: str | None = None
    operation: str | None = None
    query_hash: str | None = None
    purpose: str | None = None
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    student_ids: tuple[str, ...] = ()
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
        setattr_(self, "fields", _fields(self.fields))
        setattr_(self, "student_ids", _ids(self.student_ids, "student id", MAX_ID))
        if self.query_hash is not None and not _HEX64.match(self.query_hash):
            raise ValueError("audit event: query_hash must be a SHA-256 hex digest (see hash_query)")
        if not _OUTCOME.match(self.outcome):
            raise ValueError("audit event: outcome must be a short code such as ok, partial or FORBIDDEN")
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
        student_ids: Iterable[str] = (),
        outcome: str = "ok",
        at: dt.datetime | None = None,
    ) -> AuditEvent:
        """An event from loose inputs (any iterables; the query text, which is hashed)."""
        return cls(
            kind=EventKind(kind),
            subject=subject,
            roles=tuple(roles),
            client=client,
            operation=operation,
            query_hash=hash_query(query) if query is not None else None,
            purpose=purpose,
            fields={t: tuple(names) for t, names in (fields or {}).items()},
            student_ids=tuple(student_ids),
            outcome=outcome,
            at=at or _utcnow(),
        )

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
            "student_ids": list(self.student_ids),
            "outcome": self.outcome,
        }


CONTENT_COLUMNS = (
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


def canonical_content(columns: Mapping[Any, Any]) -> bytes:
    """Canonical JSON of an event's stored columns (a dict from
    :meth:`AuditEvent.content` or a database row's mapping).

    Hashes what is stored, exactly as stored: a re-ordered list or an
    over-long text written by hand into the table changes the hash.
    """
    payload = {name: columns[name] for name in CONTENT_COLUMNS}
    at = payload["at"]
    payload["at"] = format_at(at) if isinstance(at, dt.datetime) else at
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(seq: int, prev_hash: str, content: bytes) -> str:
    """The hash of event ``seq``: SHA-256 over the position, the previous
    event's hash and the canonical content. Including ``seq`` makes an event
    moved to another position fail, not only its neighbours' links."""
    digest = hashlib.sha256(_HASH_DOMAIN)
    digest.update(f"{seq}\n{prev_hash}\n".encode("ascii"))
    digest.update(content)
    return digest.hexdigest()
