"""The store's tables (SQLAlchemy 2 typed declarative).

The schema itself changes only through the Alembic migrations in
``hub/store/migrations``; a test checks that the migrations and these classes
agree. The migrations also create the audit append triggers, which these
classes cannot express: never build the store with ``metadata.create_all``.
Constraint names follow a fixed convention so migrations can refer to them on
every engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "GENESIS_HASH",
    "AuditChain",
    "AuditCheckpoint",
    "AuditEventRow",
    "AuditEventStudent",
    "Base",
    "IdentityLink",
    "PolicyReload",
    "metadata",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The ``prev_hash`` of the first event ever written.
GENESIS_HASH = "0" * 64

EVENT_KINDS = ("disclosure", "refusal", "rejected_token")

# Integer primary keys that autoincrement: BIGINT on PostgreSQL, but SQLite
# only autoincrements a column declared exactly INTEGER.
_AutoId = BigInteger().with_variant(Integer(), "sqlite")
_Hash = String(64)


class Base(DeclarativeBase):
    """Declarative base of every store table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: DateTime(timezone=True)}


metadata = Base.metadata


class AuditEventRow(Base):
    """One audit event: who was shown which fields of which people, or was refused.

    ``seq`` is assigned by the audit log under its lock (head + 1), not by a
    database sequence, so the chain has no gaps and a gap means a deletion.
    ``hash`` covers ``seq``, ``prev_hash`` and the content columns of its
    ``hash_version`` (v1 events, written before per-person field sets, do not
    cover ``field_sets`` and ``occurrences``, which they leave at NULL and 1).
    No value of a personal field is ever stored: ``fields`` and ``field_sets``
    hold names, ``student_ids`` hub ids of every person named (students, and
    since v2 guardians and staff too; the column keeps its first name).
    ``field_sets``: ``[{"fields": {Type: [name, ...]}, "people": [id, ...]}]``,
    which fields were disclosed about whom. ``occurrences``: how many requests
    the event stands for (rejected tokens are counted per client and minute).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('disclosure', 'refusal', 'rejected_token')",
            name="kind",
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(512))
    roles: Mapped[list[str]] = mapped_column(JSON)
    client: Mapped[str | None] = mapped_column(String(512))
    operation: Mapped[str | None] = mapped_column(String(512))
    query_hash: Mapped[str | None] = mapped_column(_Hash)
    purpose: Mapped[str | None] = mapped_column(String(512))
    fields: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    student_ids: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(_Hash)
    hash: Mapped[str] = mapped_column(_Hash)
    field_sets: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    occurrences: Mapped[int] = mapped_column(Integer, server_default="1")
    hash_version: Mapped[int] = mapped_column(Integer, server_default="1")


class AuditEventStudent(Base):
    """Which events name which person: the index behind ``accessLog`` and exports.

    Filled from ``audit_events.student_ids`` by the append trigger, in the
    same statement; ``homeroom audit verify`` checks that the two agree. It
    holds every person's hub id (guardians' and staff's too), under its first name.
    """

    __tablename__ = "audit_event_students"
    __table_args__ = (Index("ix_audit_event_students_student_id_event_seq", "student_id", "event_seq"),)

    event_seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("audit_events.seq", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[str] = mapped_column(String(1024), primary_key=True)


class AuditChain(Base):
    """The head of the chain (one row, id 1): the last seq and its hash.

    Moved by the append trigger, which accepts an event only where it extends
    this head. It lets ``verify`` notice that the newest events were deleted,
    which the links between events alone cannot show.
    """

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(_Hash)
    updated_at: Mapped[dt.datetime]


class AuditCheckpoint(Base):
    """A retention purge: events up to ``through_seq`` were deleted; the last
    of them had ``through_hash``. ``verify`` starts from the newest checkpoint,
    so the remaining chain stays checkable."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(_AutoId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime]
    through_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    through_hash: Mapped[str] = mapped_column(_Hash)
    removed: Mapped[int] = mapped_column(BigInteger)
    retention_days: Mapped[int | None] = mapped_column(Integer)


class IdentityLink(Base):
    """One vendor record recognised as a hub person/record (the identity map)."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("source", "entity", "vendor_id"),)

    id: Mapped[int] = mapped_column(_AutoId, primary_key=True, autoincrement=True)
    hub_id: Mapped[str] = mapped_column(String(1024), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    vendor_id: Mapped[str] = mapped_column(String(512))
    match_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]


class PolicyReload(Base):
    """One attempt to swap in changed policy files, accepted or refused."""

    __tablename__ = "policy_reloads"

    id: Mapped[int] = mapped_column(_AutoId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    version: Mapped[str] = mapped_column(String(128))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)


# The read model's tables are defined with the mirror (hub/mirror/tables.py) in
# this same metadata; importing them here means every user of ``metadata``
# (the migrations, the test that they agree) sees the whole store.
import hub.mirror.tables  # noqa: E402, F401
