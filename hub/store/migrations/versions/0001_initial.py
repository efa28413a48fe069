"""Initial store: audit log (events, student index, chain head, checkpoints,
append trigger), identity links and policy reload history.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here rather than imported: a migration must keep meaning what it
# meant when it was written, whatever later code says.
GENESIS_HASH = "0" * 64
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)

# The append triggers: an event is accepted only where it extends the chain
# head (seq = head + 1, prev_hash = head hash), checked before the row is
# written; the same statement moves the head and fills the student index. One
# INSERT per event, and the database itself refuses a fork.
# "audit chain head moved" is matched by hub.audit.log.
_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_events_extend_head BEFORE INSERT ON audit_events
    BEGIN
        SELECT RAISE(ABORT, 'homeroom: audit chain head moved')
        WHERE NOT EXISTS (
            SELECT 1 FROM audit_chain
            WHERE id = 1 AND head_seq = NEW.seq - 1 AND head_hash = NEW.prev_hash
        );
        UPDATE audit_chain SET head_seq = NEW.seq, head_hash = NEW.hash, updated_at = NEW.at WHERE id = 1;
    END
    """,
    """
    CREATE TRIGGER audit_events_index_students AFTER INSERT ON audit_events
    BEGIN
        INSERT INTO audit_event_students (event_seq, student_id)
            SELECT NEW.seq, value FROM json_each(NEW.student_ids);
    END
    """,
)
_POSTGRES_TRIGGERS = (
    """
    CREATE FUNCTION homeroom_audit_extend_head() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE audit_chain SET head_seq = NEW.seq, head_hash = NEW.hash, updated_at = NEW.at
        WHERE id = 1 AND head_seq = NEW.seq - 1 AND head_hash = NEW.prev_hash;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'homeroom: audit chain head moved' USING ERRCODE = 'HR001';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_extend_head BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION homeroom_audit_extend_head()
    """,
    """
    CREATE FUNCTION homeroom_audit_index_students() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO audit_event_students (event_seq, student_id)
            SELECT NEW.seq, value FROM json_array_elements_text(NEW.student_ids) AS value;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_index_students AFTER INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION homeroom_audit_index_students()
    """,
)
_TRIGGERS = ("audit_events_extend_head", "audit_events_index_students")
_FUNCTIONS = ("homeroom_audit_extend_head", "homeroom_audit_index_students")


def upgrade() -> None:
    """Create every table and the chain head at the genesis hash."""
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(512), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("client", sa.String(512), nullable=True),
        sa.Column("operation", sa.String(512), nullable=True),
        sa.Column("query_hash", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(512), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("student_ids", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('disclosure', 'refusal', 'rejected_token')", name=op.f("ck_audit_events_kind")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])

    op.create_table(
        "audit_event_students",
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.String(1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["audit_events.seq"],
            name=op.f("fk_audit_event_students_event_seq_audit_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_seq", "student_id", name=op.f("pk_audit_event_students")),
    )
    op.create_index(
        "ix_audit_event_students_student_id_event_seq",
        "audit_event_students",
        ["student_id", "event_seq"],
    )

    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.bulk_insert(
        chain,
        [{"id": 1, "head_seq": 0, "head_hash": GENESIS_HASH, "updated_at": dt.datetime.now(dt.UTC)}],
    )

    dialect = op.get_context().dialect.name
    if dialect in ("sqlite", "postgresql"):
        for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRES_TRIGGERS:
            op.execute(statement)
    else:  # pragma: no cover - the engine factory accepts no other database
        raise NotImplementedError(f"no audit append trigger for {dialect}")

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("through_seq", sa.BigInteger(), nullable=False),
        sa.Column("through_hash", sa.String(64), nullable=False),
        sa.Column("removed", sa.BigInteger(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index(op.f("ix_audit_checkpoints_through_seq"), "audit_checkpoints", ["through_seq"])

    op.create_table(
        "identity_links",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("hub_id", sa.String(1024), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("match_key", sa.String(128), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
        sa.UniqueConstraint(
            "source", "entity", "vendor_id", name=op.f("uq_identity_links_source_entity_vendor_id")
        ),
    )
    op.create_index(op.f("ix_identity_links_hub_id"), "identity_links", ["hub_id"])

    op.create_table(
        "policy_reloads",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_reloads")),
    )
    op.create_index(op.f("ix_policy_reloads_at"), "policy_reloads", ["at"])


def downgrade() -> None:
    """Drop every table (the audit log with it)."""
    op.drop_index(op.f("ix_policy_reloads_at"), table_name="policy_reloads")
    op.drop_table("policy_reloads")
    op.drop_index(op.f("ix_identity_links_hub_id"), table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_index(op.f("ix_audit_checkpoints_through_seq"), table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    dialect = op.get_context().dialect.name
    on_table = " ON audit_events" if dialect == "postgresql" else ""
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}{on_table}")
    if dialect == "postgresql":
        for function in _FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("audit_chain")
    op.drop_index("ix_audit_event_students_student_id_event_seq", table_name="audit_event_students")
    op.drop_table("audit_event_students")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
