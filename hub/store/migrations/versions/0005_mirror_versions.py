"""The read model's versions: each write of an entity's rows raises ``mirror_state.version``.

Each hub process holds the mirrored rows in memory (``hub/mirror/held.py``)
and compares the version it holds with this one to know when another process
changed them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column (0 for what is held: every copy is loaded afresh on start)."""
    with op.batch_alter_table("mirror_state") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("mirror_state") as batch:
        batch.drop_column("version")
