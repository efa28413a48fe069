"""Per-person field sets and counted events in the audit log.

``field_sets`` says which fields were disclosed about whom; ``occurrences``
how many requests one event stands for (rejected tokens, counted per client
and minute); ``hash_version`` which canonical form an event's hash covers.
Events written before keep ``hash_version`` 1 and verify as they were written.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-18 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns; existing events get hash version 1, one occurrence, no field sets."""
    # Plain ADD COLUMN on every engine: SQLite's batch mode would copy the
    # table and lose the append triggers with it.
    op.add_column("audit_events", sa.Column("field_sets", sa.JSON(), nullable=True))
    op.add_column("audit_events", sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False))
    op.add_column("audit_events", sa.Column("hash_version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    """Drop the columns. Events written since no longer verify (their hashes cover them)."""
    for column in ("hash_version", "occurrences", "field_sets"):
        op.drop_column("audit_events", column)
