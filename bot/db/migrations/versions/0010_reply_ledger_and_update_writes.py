"""the reply ledger and the update writes: an update handled again after a crash sends no
reply twice and commits no write twice

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_ledger",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", "seq", name=op.f("pk_reply_ledger")),
    )
    op.create_table(
        "update_writes",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", "seq", name=op.f("pk_update_writes")),
    )
    op.create_index(op.f("ix_reply_ledger_user_id"), "reply_ledger", ["user_id"])
    op.create_index(op.f("ix_update_writes_user_id"), "update_writes", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_update_writes_user_id"), table_name="update_writes")
    op.drop_index(op.f("ix_reply_ledger_user_id"), table_name="reply_ledger")
    op.drop_table("update_writes")
    op.drop_table("reply_ledger")
