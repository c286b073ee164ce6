"""the inbox: every update recorded before it is acknowledged, handled from there

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    op.create_index(op.f("ix_inbox_user_id"), "inbox", ["user_id"])
    op.create_index(op.f("ix_inbox_processed_at"), "inbox", ["processed_at"])
    pending = sa.text("processed_at IS NULL")
    op.create_index(
        "ix_inbox_pending", "inbox", ["update_id"], postgresql_where=pending, sqlite_where=pending
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_pending", table_name="inbox")
    op.drop_index(op.f("ix_inbox_processed_at"), table_name="inbox")
    op.drop_index(op.f("ix_inbox_user_id"), table_name="inbox")
    op.drop_table("inbox")
