"""drop profiles.safety_asked_on (written, never read); partial indexes for the tick's look-ups

The daily gentle ask during a safety hold comes from the tick, so safety_asked_on was dead. The
tick's search for unsent claims and the clean-up of kept drafts get partial indexes, so their
cost does not grow with every check-in and urge ever stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("safety_asked_on")
    claimed = sa.text("status = 'claimed'")
    op.create_index(
        "ix_checkins_unsent",
        "checkins",
        ["claimed_at"],
        postgresql_where=claimed,
        sqlite_where=claimed,
    )
    kept = sa.text("draft IS NOT NULL")
    op.create_index(
        "ix_urges_kept_drafts", "urges", ["at"], postgresql_where=kept, sqlite_where=kept
    )


def downgrade() -> None:
    op.drop_index("ix_urges_kept_drafts", table_name="urges")
    op.drop_index("ix_checkins_unsent", table_name="checkins")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safety_asked_on", sa.Date(), nullable=True))
