"""the send ledger: attempts per check-in, an open-claims index that covers uncertain sends,
and a lease, attempts and result for each held draft's follow-up

A check-in's row now counts its send attempts and may be "uncertain" (the request timed out,
so Telegram may or may not have delivered it); the tick's look-up of open claims covers both.
A follow-up is claimed with a lease instead of having its due time cleared before sending, so
a crash between the claim and the send no longer loses it.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False)
        )
    op.drop_index("ix_checkins_unsent", table_name="checkins")
    open_ = sa.text("status IN ('claimed', 'uncertain')")
    op.create_index(
        "ix_checkins_open",
        "checkins",
        ["claimed_at"],
        postgresql_where=open_,
        sqlite_where=open_,
    )
    with op.batch_alter_table("urges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("follow_up_claimed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("follow_up_attempts", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("follow_up_status", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("urges", schema=None) as batch_op:
        batch_op.drop_column("follow_up_status")
        batch_op.drop_column("follow_up_attempts")
        batch_op.drop_column("follow_up_claimed_at")
    op.drop_index("ix_checkins_open", table_name="checkins")
    claimed = sa.text("status = 'claimed'")
    op.create_index(
        "ix_checkins_unsent",
        "checkins",
        ["claimed_at"],
        postgresql_where=claimed,
        sqlite_where=claimed,
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("attempts")
