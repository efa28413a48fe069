"""The read model's operations: resuming after a restart, resync requests, one syncer per source.

``mirror_state.fields`` records which attributes the last full read of an
entity stored (a restart resumes from its watermark only when the policy
still wants the same ones); ``mirror_state.resync_requested`` is set by
``homeroom mirror resync`` and cleared by the next full read;
``mirror_syncer`` says which hub process syncs a source and when it was last
seen doing so (``homeroom mirror resync`` runs the read itself when no hub
has been seen lately).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the columns and the syncer table (existing mirrors are read in full once more)."""
    with op.batch_alter_table("mirror_state") as batch:
        batch.add_column(sa.Column("fields", sa.Text(), nullable=True))
        batch.add_column(sa.Column("resync_requested", _TS, nullable=True))
    op.create_table(
        "mirror_syncer",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("seen_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_mirror_syncer"),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("mirror_syncer")
    with op.batch_alter_table("mirror_state") as batch:
        batch.drop_column("resync_requested")
        batch.drop_column("fields")
