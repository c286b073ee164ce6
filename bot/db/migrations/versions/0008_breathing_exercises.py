"""breathing exercises under way

One row per person while a "Breathe with me" minute is under way: the next step and when it is
due, so a restart or another process finishes it and no step is sent twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "breathing_exercises",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_breathing_exercises_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_breathing_exercises")),
    )
    op.create_index(
        op.f("ix_breathing_exercises_due_at"), "breathing_exercises", ["due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_breathing_exercises_due_at"), table_name="breathing_exercises")
    op.drop_table("breathing_exercises")
